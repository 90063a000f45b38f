// A loopback stand-in for Slack at its HTTP boundary: the Web API methods the bot calls, the
// `response_url`s it answers on, the signed requests Slack sends to the bot, and Socket Mode.
// It is a real HTTP server on 127.0.0.1 so the bot runs unmodified (Bolt's WebClient is
// pointed at it via `slackApiUrl`); `npm run demo`, `npm run bench` and the tests all use it. It
// is a development tool: it lives in dev/, outside src/, and is not built into dist/.
//
// This module is the one callers import; the parts, one job each:
//   types.ts          what it records, holds and builds (the exported types)
//   store.ts          messages, views, users and channels as Slack holds them; timestamps and ids
//   callLog.ts        every request in arrival order, and waiting for one
//   faults.ts         answers queued to replace the normal ones (rate limits, errors, resets)
//   webApiServer.ts   the HTTP server: /api/<method>, /response/<id>, Socket Mode upgrades
//   webApiMethods.ts  the built-in Web API methods
//   http.ts           request bodies, Web API arguments, JSON and text answers
//   botRequests.ts    requests for the bot built like Slack builds them, and sendToBot
//   signing.ts        Slack's request signing;  socketMode.ts  the Socket Mode server
import { BotRequestBuilder } from './botRequests.ts';
import { CallLog } from './callLog.ts';
import { FaultQueue } from './faults.ts';
import { SocketModeServer, type SocketDelivery } from './socketMode.ts';
import { SlackStore } from './store.ts';
import {
  DEFAULT_WORKSPACE,
  type ApiCall,
  type BlockActionOptions,
  type BotAnswer,
  type BotRequest,
  type Fault,
  type MethodHandler,
  type ResponseUrlPost,
  type SlackStandInOptions,
  type SlashCommandOptions,
  type StandInRecord,
  type StartedStandIn,
  type StoredMessage,
  type StoredView,
  type ViewSubmissionOptions,
  type Workspace,
} from './types.ts';
import { WebApiServer } from './webApiServer.ts';

export type {
  ApiCall,
  BlockActionOptions,
  BotAnswer,
  BotRequest,
  CallContext,
  Fault,
  MethodHandler,
  ResponseUrlPost,
  SlackStandInOptions,
  SlashCommandOptions,
  StandInRecord,
  StartedStandIn,
  StoredMessage,
  StoredView,
  ViewSubmissionOptions,
  Workspace,
} from './types.ts';
export { DEFAULT_WORKSPACE } from './types.ts';
export { parseApiRequest } from './http.ts';
export { sendToBot } from './botRequests.ts';

export class SlackStandIn {
  readonly workspace: Workspace;
  private readonly options: SlackStandInOptions;
  private readonly store: SlackStore;
  private readonly log = new CallLog();
  private readonly faults = new FaultQueue();
  private readonly handlers = new Map<string, MethodHandler>();
  private readonly requests: BotRequestBuilder;
  private readonly server: WebApiServer;
  /** Socket Mode: connections the bot opened through `apps.connections.open`. */
  readonly socketMode: SocketModeServer;
  private started: StartedStandIn | null = null;
  private closed = false;

  constructor(options: SlackStandInOptions = {}) {
    this.options = options;
    this.workspace = { ...DEFAULT_WORKSPACE, ...options.workspace };
    this.store = new SlackStore(options.users, options.channels);
    this.socketMode = new SocketModeServer(this.workspace.appId);
    this.requests = new BotRequestBuilder(this.workspace, this.store, () => this.responseUrl());
    this.server = new WebApiServer({
      standIn: this,
      options,
      log: this.log,
      faults: this.faults,
      handlers: this.handlers,
      store: this.store,
      socketMode: this.socketMode,
    });
  }

  // ---------- lifecycle ----------

  async start(): Promise<StartedStandIn> {
    if (this.started) return this.started;
    const port = await this.server.listen(this.options.port ?? 0);
    const baseUrl = `http://127.0.0.1:${port}`;
    this.started = { url: `${baseUrl}/api/`, baseUrl };
    return this.started;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.log.close();
    this.socketMode.close();
    await this.server.close();
  }

  /** A fresh URL for `apps.connections.open`. */
  socketModeUrl(): string {
    return this.socketMode.issueUrl(this.baseUrl.replace(/^http:/, 'ws:'));
  }

  /** Web API base URL (`…/api/`). */
  get url(): string {
    return this.requireStarted().url;
  }

  get baseUrl(): string {
    return this.requireStarted().baseUrl;
  }

  // ---------- configuration ----------

  setUser(userId: string, realName: string): void {
    this.store.setUser(userId, realName);
  }

  /** Grant or take away the history scopes (`conversations.history`). */
  setHistoryScope(granted: boolean): void {
    this.options.historyScope = granted;
  }

  get hasHistoryScope(): boolean {
    return this.options.historyScope === true;
  }

  /**
   * The next `n` calls to `method` get `fault` instead of their normal answer. Use the
   * method `response_url` to fail posts to response URLs (an `ok:false` fault answers 404).
   */
  failNext(method: string, n: number, fault: Fault): void {
    this.faults.failNext(method, n, fault);
  }

  /** Replace the built-in behaviour of `method`; pass undefined to restore it. */
  setHandler(method: string, handler: MethodHandler | undefined): void {
    if (handler) this.handlers.set(method, handler);
    else this.handlers.delete(method);
  }

  // ---------- what happened ----------

  /** Every Web API attempt, in order, failed ones included (see `ApiCall.ok` / `injected`). */
  calls(method?: string): ApiCall[] {
    return this.log.calls(method);
  }

  /** Posts to response URLs, in order; `idOrUrl` narrows to one URL. */
  responses(idOrUrl?: string): ResponseUrlPost[] {
    return this.log.responses(idOrUrl);
  }

  /** Messages as they now stand (postMessage, postEphemeral, then chat.update applied). */
  messages(channel?: string): StoredMessage[] {
    return this.store.messages(channel);
  }

  views(): StoredView[] {
    return this.store.views();
  }

  /** Forget recorded calls and responses (messages, views, faults and handlers stay). */
  clearRecords(): void {
    this.log.clear();
  }

  /** Resolves with the first record, already seen or still to come, that matches. */
  waitFor<R extends StandInRecord>(predicate: (record: StandInRecord) => record is R, timeoutMs?: number, what?: string): Promise<R>;
  waitFor(predicate: (record: StandInRecord) => boolean, timeoutMs?: number, what?: string): Promise<StandInRecord>;
  waitFor(predicate: (record: StandInRecord) => boolean, timeoutMs?: number, what?: string): Promise<StandInRecord> {
    return this.log.waitFor(predicate, timeoutMs, what);
  }

  /** First call to `method` matching `predicate` (default: a successful call), seen or to come. */
  waitForCall(method: string, predicate?: (call: ApiCall) => boolean, timeoutMs?: number): Promise<ApiCall> {
    return this.log.waitForCall(method, predicate, timeoutMs);
  }

  /** First successful post to the given response URL (or id), seen or to come. */
  waitForResponse(idOrUrl: string, timeoutMs?: number): Promise<ResponseUrlPost> {
    return this.log.waitForResponse(idOrUrl, timeoutMs);
  }

  // ---------- driving the bot like Slack does ----------

  /** A fresh, unique response URL served by this stand-in. */
  responseUrl(): string {
    const id = this.store.issueResponseId();
    return `${this.baseUrl}/response/${id}`;
  }

  /** The form fields Slack posts for a slash command. */
  slashCommand(options: SlashCommandOptions): BotRequest & { responseUrl: string } {
    return this.requests.slashCommand(options);
  }

  /** The `payload` Slack posts when a user clicks a button in a message. */
  blockAction(options: BlockActionOptions): BotRequest & { responseUrl: string } {
    return this.requests.blockAction(options);
  }

  /**
   * The `payload` Slack posts when a user clicks a button in a view the bot published (App Home):
   * the container is the view, there is no channel and no response_url.
   */
  viewBlockAction(options: { actionId: string; value: string; userId: string; viewId: string }): BotRequest {
    return this.requests.viewBlockAction(options);
  }

  /** The `payload` Slack posts when a user submits a modal. */
  viewSubmission(options: ViewSubmissionOptions): BotRequest {
    return this.requests.viewSubmission(options);
  }

  /** An Events API envelope (`event_callback`) around `event`, e.g. `{ type: 'app_home_opened', user, tab: 'home' }`. */
  eventCallback(event: Record<string, unknown>): BotRequest {
    return this.requests.eventCallback(event);
  }

  /**
   * Delivers `request` to the bot over a Socket Mode connection (waiting for one to be open; with
   * several open, the next in turn) and returns the ack as a BotAnswer: status 200 and the ack's
   * payload ('' for an empty ack), plus the delivery (which connection got it).
   */
  async sendOverSocket(
    request: Pick<BotRequest, 'kind' | 'body'>,
    opts: { retryAttempt?: number; envelopeId?: string; timeoutMs?: number } = {},
  ): Promise<BotAnswer & { delivery: SocketDelivery }> {
    const delivery = await this.socketMode.deliver(request.kind, request.body, opts);
    const body = delivery.ackPayload ?? '';
    return { status: 200, body, text: typeof body === 'string' ? body : JSON.stringify(body), delivery };
  }


  // ---------- helpers used by the built-in methods ----------

  /** Unique, increasing message timestamp like `1700000000.000100`. */
  nextTs(): string {
    return this.store.nextTs();
  }

  realNameOf(userId: string): string {
    return this.store.realNameOf(userId);
  }

  channelName(channelId: string): string {
    return this.store.channelName(channelId);
  }

  /** @internal used by built-in methods */
  storeMessage(message: StoredMessage): void {
    this.store.storeMessage(message);
  }

  /** @internal used by built-in methods */
  findMessage(channel: string, ts: string): StoredMessage | undefined {
    return this.store.findMessage(channel, ts);
  }

  /** @internal used by built-in methods */
  storeView(view: StoredView): void {
    this.store.storeView(view);
  }

  viewId(): string {
    return this.store.viewId();
  }

  userHandle(userId: string): string {
    return this.store.userHandle(userId);
  }

  private requireStarted(): StartedStandIn {
    if (!this.started) throw new Error('The Slack stand-in is not started; call `await standIn.start()` first.');
    return this.started;
  }
}
