// A loopback stand-in for Slack at its HTTP boundary: the Web API methods the bot calls, the
// `response_url`s it answers on, the signed requests Slack sends to the bot, and Socket Mode.
// It is a real HTTP server on 127.0.0.1 so the bot runs unmodified (Bolt's WebClient is
// pointed at it via `slackApiUrl`); `npm run demo` and the tests both use it. It is a test and
// demo tool: it lives outside src/ and is not built into dist/.
import { EventEmitter } from 'node:events';
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { signedRequest, type SlackRequestKind } from './signing.ts';
import { SocketModeServer, type SocketDelivery } from './socketMode.ts';

/**
 * What to answer instead of the normal result (see `failNext`). `reset: 'after-store'` runs the
 * method (a message is stored) and then drops the connection without an answer: Slack has the
 * message, the client cannot know. `reset: 'before-store'` drops it without doing anything.
 * `hang` never answers (until the stand-in closes).
 */
export type Fault =
  | { status: 429; retryAfter: number }
  | { status: 500 }
  | { ok: false; error: string }
  | { reset: 'after-store' | 'before-store' }
  | { hang: true };

/** One Web API request as the stand-in saw it, in arrival order. */
export interface ApiCall {
  kind: 'call';
  /** Order among all records (calls and response_url posts), from 1. */
  seq: number;
  method: string;
  /** Arguments with form-encoded JSON fields (`blocks`, `metadata`, …) parsed back; without `token`. */
  args: Record<string, unknown>;
  /** From `Authorization: Bearer …` or the `token` field; null when absent. */
  token: string | null;
  atMs: number;
  /** True only when Slack answered HTTP 200 with `ok: true`. */
  ok: boolean;
  status: number;
  /** Slack error code (`ratelimited`, `channel_not_found`, `http_500`, …); null when ok. */
  error: string | null;
  /** The injected fault that produced this answer, if any: tells retries apart from real failures. */
  injected: Fault | null;
  /** JSON body that was returned (null for non-JSON answers such as a 500). */
  response: Record<string, unknown> | null;
}

/** One POST to a `response_url` (how the bot answers slash commands and button clicks later). */
export interface ResponseUrlPost {
  kind: 'response';
  seq: number;
  id: string;
  url: string;
  /** Parsed JSON body (the message: text, blocks, response_type, replace_original, …). */
  body: unknown;
  atMs: number;
  ok: boolean;
  status: number;
  injected: Fault | null;
}

export type StandInRecord = ApiCall | ResponseUrlPost;

/** A message as it now stands in a channel (posted, possibly updated). */
export interface StoredMessage {
  channel: string;
  ts: string;
  text: string | undefined;
  blocks: unknown[] | undefined;
  metadata: unknown;
  threadTs: string | undefined;
  /** Set for `chat.postEphemeral`: only this user sees it. */
  ephemeralTo: string | undefined;
  edited: boolean;
  /** Who posted it when not this app's bot (another app or a person); default: the bot. */
  author?: { botId?: string; appId?: string; user?: string };
}

/** A modal opened or updated through `views.open` / `views.update`. */
export interface StoredView {
  id: string;
  triggerId: string | undefined;
  view: Record<string, unknown>;
}

export interface CallContext {
  method: string;
  token: string | null;
  standIn: SlackStandIn;
}

/** Override for one method: returns the JSON body to send (include `ok`). */
export type MethodHandler = (
  args: Record<string, unknown>,
  context: CallContext,
) => Record<string, unknown> | Promise<Record<string, unknown>>;

export interface Workspace {
  teamId: string;
  teamDomain: string;
  teamName: string;
  appId: string;
  botUserId: string;
  botId: string;
  /** Deprecated Slack verification token, still sent in payloads. */
  verificationToken: string;
}

export const DEFAULT_WORKSPACE: Workspace = {
  teamId: 'T0SMVDEMO',
  teamDomain: 'smv-demo',
  teamName: 'SMV Demo',
  appId: 'A0SMVBOT',
  botUserId: 'U0SMVBOT',
  botId: 'B0SMVBOT',
  verificationToken: 'stand-in-verification-token',
};

export interface SlackStandInOptions {
  /** Port on 127.0.0.1; 0 (default) picks a free one. */
  port?: number;
  /** When set, any other token gets `invalid_auth`; otherwise any non-empty token is accepted. */
  botToken?: string;
  /** User directory for `users.info`: Slack user id → real name. */
  users?: Record<string, string>;
  /** Channel directory for `conversations.info` and payloads: channel id → name. */
  channels?: Record<string, string>;
  workspace?: Partial<Workspace>;
  /** When set, `apps.connections.open` accepts only this app-level token (`xapp-…`). */
  appToken?: string;
  /**
   * Whether the bot token has `channels:history`/`groups:history`: without them (the default)
   * `conversations.history` answers `missing_scope`, as Slack does.
   */
  historyScope?: boolean;
}

export interface StartedStandIn {
  /** Web API base, e.g. `http://127.0.0.1:PORT/api/`: pass as Bolt `clientOptions.slackApiUrl` / `SLACK_API_URL`. */
  url: string;
  /** Server origin, e.g. `http://127.0.0.1:PORT`. */
  baseUrl: string;
}

/** A request for the bot, built like Slack builds it; send it with `sendToBot`. */
export interface BotRequest {
  kind: SlackRequestKind;
  body: Record<string, unknown>;
  /** The `response_url` inside the request, when it has one: wait on it with `waitForResponse`. */
  responseUrl?: string;
}

export interface SlashCommandOptions {
  text: string;
  userId: string;
  channelId: string;
  userName?: string;
  command?: string;
}

export interface BlockActionOptions {
  actionId: string;
  value: string;
  userId: string;
  channelId: string;
  messageTs: string;
  /** Defaults to the block holding `actionId` in the stored message, else `actions`. */
  blockId?: string;
}

export interface ViewSubmissionOptions {
  userId: string;
  /** `view.state.values`: `{ [blockId]: { [actionId]: { type, value | selected_option | … } } }`. */
  values: Record<string, Record<string, unknown>>;
  /** The opened view to submit; defaults to the latest opened view with `callbackId`. */
  viewId?: string;
  callbackId?: string;
  privateMetadata?: string;
}

export interface BotAnswer {
  status: number;
  /** Parsed JSON when the bot answered JSON, else the raw text ('' for an empty ack). */
  body: unknown;
  text: string;
}

const DEFAULT_WAIT_MS = 10_000;
const MAX_BODY_BYTES = 5 * 1024 * 1024;
// Web API arguments the client JSON-encodes inside form fields; Slack decodes them server-side.
const JSON_ARGS = new Set(['blocks', 'attachments', 'metadata', 'view', 'unfurls', 'user_auth_blocks']);
const RESPONSE_URL_FAULT_KEY = 'response_url';

export class SlackStandIn {
  readonly workspace: Workspace;
  private readonly options: SlackStandInOptions;
  private readonly users = new Map<string, string>();
  private readonly channels = new Map<string, string>();
  private readonly records: StandInRecord[] = [];
  private readonly events = new EventEmitter();
  private readonly faults = new Map<string, Fault[]>();
  private readonly handlers = new Map<string, MethodHandler>();
  private readonly storedMessages: StoredMessage[] = [];
  private readonly storedViews: StoredView[] = [];
  private readonly issuedResponseIds = new Set<string>();
  private readonly hanging = new Set<ServerResponse>();
  /** Socket Mode: connections the bot opened through `apps.connections.open`. */
  readonly socketMode: SocketModeServer;
  private server: Server | null = null;
  private started: StartedStandIn | null = null;
  private closed = false;
  private seq = 0;
  private counter = 0;
  private lastTsMicros = 0;

  constructor(options: SlackStandInOptions = {}) {
    this.options = options;
    this.workspace = { ...DEFAULT_WORKSPACE, ...options.workspace };
    for (const [id, name] of Object.entries(options.users ?? {})) this.users.set(id, name);
    for (const [id, name] of Object.entries(options.channels ?? {})) this.channels.set(id, name);
    this.events.setMaxListeners(0);
    this.socketMode = new SocketModeServer(this.workspace.appId);
  }

  // ---------- lifecycle ----------

  async start(): Promise<StartedStandIn> {
    if (this.started) return this.started;
    const server = createServer((req, res) => {
      this.route(req, res).catch((error: unknown) => {
        if (!res.headersSent) sendJson(res, 500, { ok: false, error: 'stand_in_failure', detail: String(error) });
      });
    });
    server.on('upgrade', (req, socket, head) => {
      if (!this.socketMode.handleUpgrade(req, socket, head)) socket.destroy();
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.options.port ?? 0, '127.0.0.1', () => resolve());
    });
    const { port } = server.address() as AddressInfo;
    this.server = server;
    const baseUrl = `http://127.0.0.1:${port}`;
    this.started = { url: `${baseUrl}/api/`, baseUrl };
    return this.started;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.events.emit('closed');
    this.socketMode.close();
    for (const res of this.hanging) res.destroy();
    this.hanging.clear();
    const server = this.server;
    if (!server) return;
    // Clients keep connections alive; drop them so close() resolves promptly.
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
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
    this.users.set(userId, realName);
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
    const queue = this.faults.get(method) ?? [];
    for (let i = 0; i < n; i++) queue.push(fault);
    this.faults.set(method, queue);
  }

  /** Replace the built-in behaviour of `method`; pass undefined to restore it. */
  setHandler(method: string, handler: MethodHandler | undefined): void {
    if (handler) this.handlers.set(method, handler);
    else this.handlers.delete(method);
  }

  // ---------- what happened ----------

  /** Every Web API attempt, in order, failed ones included (see `ApiCall.ok` / `injected`). */
  calls(method?: string): ApiCall[] {
    return this.records.filter((r): r is ApiCall => r.kind === 'call' && (method === undefined || r.method === method));
  }

  /** Posts to response URLs, in order; `idOrUrl` narrows to one URL. */
  responses(idOrUrl?: string): ResponseUrlPost[] {
    const id = idOrUrl === undefined ? undefined : responseIdOf(idOrUrl);
    return this.records.filter((r): r is ResponseUrlPost => r.kind === 'response' && (id === undefined || r.id === id));
  }

  /** Messages as they now stand (postMessage, postEphemeral, then chat.update applied). */
  messages(channel?: string): StoredMessage[] {
    return this.storedMessages.filter((m) => channel === undefined || m.channel === channel).map((m) => ({ ...m }));
  }

  views(): StoredView[] {
    return this.storedViews.map((v) => ({ ...v }));
  }

  /** Forget recorded calls and responses (messages, views, faults and handlers stay). */
  clearRecords(): void {
    this.records.length = 0;
  }

  /** Resolves with the first record, already seen or still to come, that matches. */
  waitFor<R extends StandInRecord>(predicate: (record: StandInRecord) => record is R, timeoutMs?: number, what?: string): Promise<R>;
  waitFor(predicate: (record: StandInRecord) => boolean, timeoutMs?: number, what?: string): Promise<StandInRecord>;
  waitFor(predicate: (record: StandInRecord) => boolean, timeoutMs = DEFAULT_WAIT_MS, what = 'a matching record'): Promise<StandInRecord> {
    const seen = this.records.find(predicate);
    if (seen) return Promise.resolve(seen);
    if (this.closed) return Promise.reject(new Error(`The Slack stand-in is closed; no longer waiting for ${what}.`));
    return new Promise((resolve, reject) => {
      const cleanup = () => {
        clearTimeout(timer);
        this.events.off('record', onRecord);
        this.events.off('closed', onClosed);
      };
      const onRecord = (record: StandInRecord) => {
        let matches: boolean;
        try {
          matches = predicate(record);
        } catch (error) {
          cleanup();
          reject(error instanceof Error ? error : new Error(String(error)));
          return;
        }
        if (matches) {
          cleanup();
          resolve(record);
        }
      };
      const onClosed = () => {
        cleanup();
        reject(new Error(`The Slack stand-in was closed while waiting for ${what}.`));
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`Timed out after ${timeoutMs} ms waiting for ${what}. Recorded so far: ${this.summary()}`));
      }, timeoutMs);
      this.events.on('record', onRecord);
      this.events.on('closed', onClosed);
    });
  }

  /** First call to `method` matching `predicate` (default: a successful call), seen or to come. */
  waitForCall(method: string, predicate: (call: ApiCall) => boolean = (call) => call.ok, timeoutMs?: number): Promise<ApiCall> {
    return this.waitFor(
      (r): r is ApiCall => r.kind === 'call' && r.method === method && predicate(r),
      timeoutMs,
      `a ${method} call`,
    );
  }

  /** First successful post to the given response URL (or id), seen or to come. */
  waitForResponse(idOrUrl: string, timeoutMs?: number): Promise<ResponseUrlPost> {
    const id = responseIdOf(idOrUrl);
    return this.waitFor(
      (r): r is ResponseUrlPost => r.kind === 'response' && r.id === id && r.ok,
      timeoutMs,
      `a post to response_url ${id}`,
    );
  }

  // ---------- driving the bot like Slack does ----------

  /** A fresh, unique response URL served by this stand-in. */
  responseUrl(): string {
    const id = `R${this.nextCounter()}${randomBytes(6).toString('hex')}`;
    this.issuedResponseIds.add(id);
    return `${this.baseUrl}/response/${id}`;
  }

  /** The form fields Slack posts for a slash command. */
  slashCommand(options: SlashCommandOptions): BotRequest & { responseUrl: string } {
    const responseUrl = this.responseUrl();
    const ws = this.workspace;
    return {
      kind: 'command',
      responseUrl,
      body: {
        token: ws.verificationToken,
        team_id: ws.teamId,
        team_domain: ws.teamDomain,
        channel_id: options.channelId,
        channel_name: this.channelName(options.channelId),
        user_id: options.userId,
        user_name: options.userName ?? this.userHandle(options.userId),
        command: options.command ?? '/smv',
        text: options.text,
        api_app_id: ws.appId,
        is_enterprise_install: 'false',
        response_url: responseUrl,
        trigger_id: this.triggerId(),
      },
    };
  }

  /** The `payload` Slack posts when a user clicks a button in a message. */
  blockAction(options: BlockActionOptions): BotRequest & { responseUrl: string } {
    const responseUrl = this.responseUrl();
    const ws = this.workspace;
    const stored = this.storedMessages.find((m) => m.channel === options.channelId && m.ts === options.messageTs && !m.ephemeralTo);
    const blockId = options.blockId ?? findBlockIdOf(stored?.blocks, options.actionId) ?? 'actions';
    const buttonText = findButtonText(stored?.blocks, options.actionId) ?? options.value;
    return {
      kind: 'interaction',
      responseUrl,
      body: {
        type: 'block_actions',
        user: this.payloadUser(options.userId),
        api_app_id: ws.appId,
        token: ws.verificationToken,
        container: { type: 'message', message_ts: options.messageTs, channel_id: options.channelId, is_ephemeral: false },
        trigger_id: this.triggerId(),
        team: { id: ws.teamId, domain: ws.teamDomain },
        enterprise: null,
        is_enterprise_install: false,
        channel: { id: options.channelId, name: this.channelName(options.channelId) },
        message: {
          type: 'message',
          user: ws.botUserId,
          bot_id: ws.botId,
          ts: options.messageTs,
          text: stored?.text ?? '',
          blocks: stored?.blocks ?? [],
          team: ws.teamId,
        },
        state: { values: {} },
        response_url: responseUrl,
        actions: [
          {
            action_id: options.actionId,
            block_id: blockId,
            text: { type: 'plain_text', text: buttonText, emoji: true },
            value: options.value,
            type: 'button',
            action_ts: this.nextTs(),
          },
        ],
      },
    };
  }

  /**
   * The `payload` Slack posts when a user clicks a button in a view the bot published (App Home):
   * the container is the view, there is no channel and no response_url.
   */
  viewBlockAction(options: { actionId: string; value: string; userId: string; viewId: string }): BotRequest {
    const ws = this.workspace;
    const stored = this.storedViews.find((v) => v.id === options.viewId);
    const blocks = Array.isArray(stored?.view.blocks) ? (stored.view.blocks as unknown[]) : [];
    return {
      kind: 'interaction',
      body: {
        type: 'block_actions',
        user: this.payloadUser(options.userId),
        api_app_id: ws.appId,
        token: ws.verificationToken,
        container: { type: 'view', view_id: options.viewId },
        trigger_id: this.triggerId(),
        team: { id: ws.teamId, domain: ws.teamDomain },
        enterprise: null,
        is_enterprise_install: false,
        view: { ...(stored?.view ?? { type: 'home', blocks: [] }), id: options.viewId, team_id: ws.teamId, app_id: ws.appId, bot_id: ws.botId },
        actions: [
          {
            action_id: options.actionId,
            block_id: findBlockIdOf(blocks, options.actionId) ?? 'home',
            text: { type: 'plain_text', text: findButtonText(blocks, options.actionId) ?? options.value, emoji: true },
            value: options.value,
            type: 'button',
            action_ts: this.nextTs(),
          },
        ],
      },
    };
  }

  /** The `payload` Slack posts when a user submits a modal. */
  viewSubmission(options: ViewSubmissionOptions): BotRequest {
    const ws = this.workspace;
    const opened =
      (options.viewId && this.storedViews.find((v) => v.id === options.viewId)) ||
      (options.callbackId && [...this.storedViews].reverse().find((v) => v.view.callback_id === options.callbackId)) ||
      undefined;
    const base = opened?.view ?? {};
    const viewId = opened?.id ?? options.viewId ?? this.viewId();
    return {
      kind: 'interaction',
      body: {
        type: 'view_submission',
        team: { id: ws.teamId, domain: ws.teamDomain },
        user: this.payloadUser(options.userId),
        api_app_id: ws.appId,
        token: ws.verificationToken,
        trigger_id: this.triggerId(),
        view: {
          type: 'modal',
          blocks: [],
          private_metadata: '',
          callback_id: '',
          ...base,
          ...(options.callbackId !== undefined ? { callback_id: options.callbackId } : {}),
          ...(options.privateMetadata !== undefined ? { private_metadata: options.privateMetadata } : {}),
          id: viewId,
          team_id: ws.teamId,
          state: { values: options.values },
          hash: `${Math.floor(Date.now() / 1000)}.${randomBytes(4).toString('hex')}`,
          previous_view_id: null,
          root_view_id: viewId,
          app_id: ws.appId,
          app_installed_team_id: ws.teamId,
          bot_id: ws.botId,
        },
        response_urls: [],
        is_enterprise_install: false,
        enterprise: null,
      },
    };
  }

  /** An Events API envelope (`event_callback`) around `event`, e.g. `{ type: 'app_home_opened', user, tab: 'home' }`. */
  eventCallback(event: Record<string, unknown>): BotRequest {
    const ws = this.workspace;
    return {
      kind: 'event',
      body: {
        token: ws.verificationToken,
        team_id: ws.teamId,
        api_app_id: ws.appId,
        event: { event_ts: this.nextTs(), ...event },
        type: 'event_callback',
        event_id: `Ev${this.nextCounter()}${randomBytes(4).toString('hex').toUpperCase()}`,
        event_time: Math.floor(Date.now() / 1000),
        authorizations: [{ enterprise_id: null, team_id: ws.teamId, user_id: ws.botUserId, is_bot: true, is_enterprise_install: false }],
        is_ext_shared_channel: false,
      },
    };
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

  // ---------- HTTP ----------

  private async route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const api = /^\/api\/([A-Za-z0-9._-]+)$/.exec(url.pathname);
    if (api?.[1] && (req.method === 'POST' || req.method === 'GET')) {
      await this.serveApi(api[1], req, res, url);
      return;
    }
    const response = /^\/response\/([A-Za-z0-9]+)$/.exec(url.pathname);
    if (response?.[1] && req.method === 'POST') {
      await this.serveResponseUrl(response[1], req, res);
      return;
    }
    sendJson(res, 404, { ok: false, error: 'not_found', detail: `The Slack stand-in serves POST /api/<method> and POST /response/<id>, not ${req.method} ${url.pathname}.` });
  }

  private async serveApi(method: string, req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const atMs = Date.now();
    const raw = await readBody(req);
    const { args, token } = parseApiRequest(raw, req, url);
    const answer = await this.answerApi(method, args, token);
    if (answer.drop) {
      this.record({ kind: 'call', seq: 0, method, args, token, atMs, ok: false, status: 0, error: answer.drop, injected: answer.injected, response: null });
      if (answer.drop === 'hang') this.hanging.add(res);
      else req.socket.destroy();
      return;
    }
    const error = answer.body === null || answer.status !== 200 ? errorOf(answer) : answer.body.ok === true ? null : String(answer.body.error ?? 'unknown_error');
    // Record before answering, so a caller that awaited the call always finds it recorded.
    this.record({
      kind: 'call',
      seq: 0,
      method,
      args,
      token,
      atMs,
      ok: error === null,
      status: answer.status,
      error,
      injected: answer.injected,
      response: answer.body,
    });
    if (answer.retryAfter !== undefined) res.setHeader('Retry-After', String(answer.retryAfter));
    if (answer.body === null) sendText(res, answer.status, 'Internal Server Error');
    else sendJson(res, answer.status, answer.body);
  }

  private async answerApi(
    method: string,
    args: Record<string, unknown>,
    token: string | null,
  ): Promise<{ status: number; body: Record<string, unknown> | null; injected: Fault | null; retryAfter?: number; drop?: 'connection_reset' | 'hang' }> {
    const fault = this.takeFault(method);
    if (fault && 'hang' in fault) return { status: 0, body: null, injected: fault, drop: 'hang' };
    if (fault && 'reset' in fault) {
      if (fault.reset === 'after-store') await this.runMethod(method, args, token);
      return { status: 0, body: null, injected: fault, drop: 'connection_reset' };
    }
    if (fault) {
      if ('status' in fault && fault.status === 429) return { status: 429, body: { ok: false, error: 'ratelimited' }, injected: fault, retryAfter: fault.retryAfter };
      if ('status' in fault) return { status: fault.status, body: null, injected: fault };
      return { status: 200, body: { ok: false, error: fault.error }, injected: fault };
    }
    return this.runMethod(method, args, token);
  }

  private async runMethod(method: string, args: Record<string, unknown>, token: string | null): Promise<{ status: number; body: Record<string, unknown>; injected: null }> {
    if (!token) return { status: 200, body: { ok: false, error: 'not_authed' }, injected: null };
    // apps.connections.open takes the app-level token; every other method the bot token.
    const appLevel = method === 'apps.connections.open';
    const expected = appLevel ? this.options.appToken : this.options.botToken;
    if ((expected !== undefined && token !== expected) || (appLevel && !token.startsWith('xapp-'))) {
      return { status: 200, body: { ok: false, error: 'invalid_auth' }, injected: null };
    }
    if (!appLevel && token.startsWith('xapp-')) return { status: 200, body: { ok: false, error: 'not_allowed_token_type' }, injected: null };
    const handler = this.handlers.get(method) ?? BUILT_IN_METHODS[method];
    if (!handler) return { status: 200, body: { ok: false, error: 'unknown_method' }, injected: null };
    try {
      return { status: 200, body: await handler(args, { method, token, standIn: this }), injected: null };
    } catch (error) {
      return { status: 200, body: { ok: false, error: 'stand_in_handler_failed', detail: String(error) }, injected: null };
    }
  }

  private async serveResponseUrl(id: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const atMs = Date.now();
    const raw = await readBody(req);
    if (!this.issuedResponseIds.has(id)) {
      sendJson(res, 404, { ok: false, error: 'expired_url' });
      return;
    }
    const body = parseJsonOr(raw, raw);
    const fault = this.takeFault(RESPONSE_URL_FAULT_KEY);
    if (fault && ('reset' in fault || 'hang' in fault)) {
      this.record({ kind: 'response', seq: 0, id, url: `${this.baseUrl}/response/${id}`, body, atMs, ok: false, status: 0, injected: fault });
      if ('hang' in fault) this.hanging.add(res);
      else req.socket.destroy();
      return;
    }
    const status = !fault ? 200 : 'status' in fault ? fault.status : 404;
    this.record({ kind: 'response', seq: 0, id, url: `${this.baseUrl}/response/${id}`, body, atMs, ok: status === 200, status, injected: fault ?? null });
    if (!fault) {
      sendJson(res, status, { ok: true });
    } else if ('status' in fault) {
      if (fault.status === 429) res.setHeader('Retry-After', String(fault.retryAfter));
      sendText(res, status, status === 429 ? 'rate_limited' : 'Internal Server Error');
    } else {
      sendJson(res, status, { ok: false, error: fault.error });
    }
  }

  // ---------- helpers used by the built-in methods ----------

  /** Unique, increasing message timestamp like `1700000000.000100`. */
  nextTs(): string {
    const micros = Math.max(Date.now() * 1000, this.lastTsMicros + 1);
    this.lastTsMicros = micros;
    return `${Math.floor(micros / 1e6)}.${String(micros % 1e6).padStart(6, '0')}`;
  }

  realNameOf(userId: string): string {
    return this.users.get(userId) ?? userId;
  }

  channelName(channelId: string): string {
    return this.channels.get(channelId) ?? channelId.toLowerCase();
  }

  /** @internal used by built-in methods */
  storeMessage(message: StoredMessage): void {
    this.storedMessages.push(message);
  }

  /** @internal used by built-in methods */
  findMessage(channel: string, ts: string): StoredMessage | undefined {
    return this.storedMessages.find((m) => m.channel === channel && m.ts === ts && !m.ephemeralTo);
  }

  /** @internal used by built-in methods */
  storeView(view: StoredView): void {
    const existing = this.storedViews.findIndex((v) => v.id === view.id);
    if (existing >= 0) this.storedViews[existing] = view;
    else this.storedViews.push(view);
  }

  viewId(): string {
    return `V${String(this.nextCounter()).padStart(10, '0')}`;
  }

  userHandle(userId: string): string {
    const realName = this.users.get(userId);
    return realName ? realName.toLowerCase().replace(/\s+/g, '.') : userId.toLowerCase();
  }

  private payloadUser(userId: string): Record<string, string> {
    const handle = this.userHandle(userId);
    return { id: userId, username: handle, name: handle, team_id: this.workspace.teamId };
  }

  private triggerId(): string {
    return `${this.nextCounter()}.${Date.now()}.${randomBytes(16).toString('hex')}`;
  }

  private nextCounter(): number {
    return ++this.counter;
  }

  private takeFault(method: string): Fault | undefined {
    return this.faults.get(method)?.shift();
  }

  private record(record: StandInRecord): void {
    record.seq = ++this.seq;
    this.records.push(record);
    this.events.emit('record', record);
  }

  private summary(): string {
    if (this.records.length === 0) return 'nothing.';
    const shown = this.records.slice(-20);
    const skipped = this.records.length - shown.length;
    return (skipped > 0 ? `(${skipped} earlier) ` : '') + shown
      .map((r) => (r.kind === 'call' ? `${r.method}${r.ok ? '' : `(failed: ${r.error})`}` : `response_url ${r.id}${r.ok ? '' : `(failed: ${r.status})`}`))
      .join(', ');
  }

  private requireStarted(): StartedStandIn {
    if (!this.started) throw new Error('The Slack stand-in is not started; call `await standIn.start()` first.');
    return this.started;
  }
}

// ---------- built-in Web API methods ----------

const BUILT_IN_METHODS: Record<string, MethodHandler> = {
  'auth.test': (_args, { standIn }) => {
    const ws = standIn.workspace;
    return {
      ok: true,
      url: `https://${ws.teamDomain}.slack.com/`,
      team: ws.teamName,
      user: 'smvbot',
      team_id: ws.teamId,
      user_id: ws.botUserId,
      bot_id: ws.botId,
      is_enterprise_install: false,
    };
  },

  'chat.postMessage': (args, { standIn }) => {
    const channel = stringArg(args, 'channel');
    if (!channel) return { ok: false, error: 'channel_not_found' };
    if (!hasContent(args)) return { ok: false, error: 'no_text' };
    const broken = blockLimitBroken(arrayArg(args, 'blocks') ?? []);
    if (broken) return { ok: false, error: 'invalid_blocks', response_metadata: { messages: [`[ERROR] ${broken}`] } };
    const ts = standIn.nextTs();
    const message: StoredMessage = {
      channel,
      ts,
      text: stringArg(args, 'text'),
      blocks: arrayArg(args, 'blocks'),
      metadata: args.metadata,
      threadTs: stringArg(args, 'thread_ts'),
      ephemeralTo: undefined,
      edited: false,
    };
    standIn.storeMessage(message);
    return { ok: true, channel, ts, message: slackMessage(standIn, message) };
  },

  // Replaces a message the bot posted (announcement updates); metadata is kept unless given again, as Slack does.
  'chat.update': (args, { standIn }) => {
    const channel = stringArg(args, 'channel');
    const ts = stringArg(args, 'ts');
    if (!channel) return { ok: false, error: 'channel_not_found' };
    const message = standIn.findMessage(channel, ts ?? '');
    if (!message || message.ephemeralTo !== undefined) return { ok: false, error: 'message_not_found' };
    if (!hasContent(args)) return { ok: false, error: 'no_text' };
    const broken = blockLimitBroken(arrayArg(args, 'blocks') ?? []);
    if (broken) return { ok: false, error: 'invalid_blocks', response_metadata: { messages: [`[ERROR] ${broken}`] } };
    message.text = stringArg(args, 'text');
    message.blocks = arrayArg(args, 'blocks');
    if (args.metadata !== undefined) message.metadata = args.metadata;
    message.edited = true;
    return { ok: true, channel, ts: message.ts, text: message.text };
  },

  'chat.postEphemeral': (args, { standIn }) => {
    const channel = stringArg(args, 'channel');
    const user = stringArg(args, 'user');
    if (!channel) return { ok: false, error: 'channel_not_found' };
    if (!user) return { ok: false, error: 'user_not_in_channel' };
    if (!hasContent(args)) return { ok: false, error: 'no_text' };
    const ts = standIn.nextTs();
    standIn.storeMessage({
      channel,
      ts,
      text: stringArg(args, 'text'),
      blocks: arrayArg(args, 'blocks'),
      metadata: undefined,
      threadTs: stringArg(args, 'thread_ts'),
      ephemeralTo: user,
      edited: false,
    });
    return { ok: true, message_ts: ts };
  },

  'users.info': (args, { standIn }) => {
    const id = stringArg(args, 'user');
    if (!id) return { ok: false, error: 'user_not_found' };
    const realName = standIn.realNameOf(id);
    const handle = standIn.userHandle(id);
    return {
      ok: true,
      user: {
        id,
        team_id: standIn.workspace.teamId,
        name: handle,
        deleted: false,
        real_name: realName,
        is_bot: false,
        profile: { real_name: realName, real_name_normalized: realName, display_name: handle },
      },
    };
  },

  'views.open': (args, { standIn }) => {
    const view = objectArg(args, 'view');
    if (!stringArg(args, 'trigger_id')) return { ok: false, error: 'invalid_trigger_id' };
    if (!view) return { ok: false, error: 'invalid_arguments' };
    const tooBig = selectLimitBroken(view);
    if (tooBig) return { ok: false, error: 'invalid_arguments', response_metadata: { messages: [`[ERROR] ${tooBig}`] } };
    const id = standIn.viewId();
    const stored = { ...view, id, team_id: standIn.workspace.teamId, state: { values: {} }, hash: `${Date.now()}.${id}` };
    standIn.storeView({ id, triggerId: stringArg(args, 'trigger_id'), view: stored });
    return { ok: true, view: stored };
  },

  // App Home: the view a user sees on the bot's Home tab (the latest one wins).
  'views.publish': (args, { standIn }) => {
    const view = objectArg(args, 'view');
    const user = stringArg(args, 'user_id');
    if (!user) return { ok: false, error: 'invalid_arguments' };
    if (!view) return { ok: false, error: 'invalid_arguments' };
    const id = standIn.viewId();
    const stored = { ...view, id, team_id: standIn.workspace.teamId, state: { values: {} }, hash: `${Date.now()}.${id}` };
    standIn.storeView({ id, triggerId: undefined, view: stored });
    return { ok: true, view: stored };
  },

  // Socket Mode: where to open the WebSocket (the app-level token was checked by the caller).
  'apps.connections.open': (_args, { standIn }) => ({ ok: true, url: standIn.socketModeUrl() }),

  // Newest first, like Slack; metadata only with include_all_metadata. Needs the history scopes.
  'conversations.history': (args, { standIn }) => {
    if (!standIn.hasHistoryScope) return { ok: false, error: 'missing_scope', needed: 'channels:history,groups:history', provided: 'chat:write,commands,users:read' };
    const channel = stringArg(args, 'channel');
    if (!channel) return { ok: false, error: 'channel_not_found' };
    const oldest = Number(stringArg(args, 'oldest') ?? '0');
    const latest = Number(stringArg(args, 'latest') ?? 'Infinity');
    const limit = Math.min(Math.max(Number(stringArg(args, 'limit') ?? '100') || 100, 1), 999);
    const withMetadata = args.include_all_metadata === true || args.include_all_metadata === 'true';
    const all = standIn
      .messages(channel)
      .filter((m) => !m.ephemeralTo && Number(m.ts) > oldest && Number(m.ts) < latest)
      .sort((x, y) => Number(y.ts) - Number(x.ts));
    const start = Number(stringArg(args, 'cursor') ?? '0') || 0;
    const page = all.slice(start, start + limit);
    const more = start + limit < all.length;
    return {
      ok: true,
      messages: page.map((m) => {
        const { metadata, ...message } = slackMessage(standIn, m);
        return withMetadata && metadata !== undefined ? { ...message, metadata } : message;
      }),
      has_more: more,
      response_metadata: { next_cursor: more ? String(start + limit) : '' },
    };
  },
};

function slackMessage(standIn: SlackStandIn, message: StoredMessage): Record<string, unknown> {
  const ws = standIn.workspace;
  const author = message.author ?? { botId: ws.botId, appId: ws.appId, user: ws.botUserId };
  return {
    type: 'message',
    ...(author.user ? { user: author.user } : {}),
    ...(author.botId ? { bot_id: author.botId } : {}),
    ...(author.appId ? { app_id: author.appId } : {}),
    team: ws.teamId,
    ts: message.ts,
    text: message.text ?? '',
    ...(message.blocks ? { blocks: message.blocks } : {}),
    ...(message.metadata !== undefined ? { metadata: message.metadata } : {}),
    ...(message.threadTs ? { thread_ts: message.threadTs } : {}),
    ...(message.edited ? { edited: { user: ws.botUserId, ts: standIn.nextTs() } } : {}),
  };
}

/** Slack's select limits: at most 100 options, option text at most 75 characters. */
function selectLimitBroken(view: Record<string, unknown>): string | null {
  const blocks = Array.isArray(view.blocks) ? (view.blocks as Record<string, unknown>[]) : [];
  for (const block of blocks) {
    const element = (block?.element ?? block?.accessory) as { options?: { text?: { text?: string } }[] } | undefined;
    const options = element?.options ?? [];
    if (options.length > 100) return `must provide at most 100 items [json-pointer:/view/blocks/${blocks.indexOf(block)}/element/options]`;
    const long = options.find((o) => (o.text?.text ?? '').length > 75);
    if (long) return `must be less than 76 characters [json-pointer:/view/blocks/${blocks.indexOf(block)}/element/options/text]`;
  }
  return null;
}

/**
 * The Block Kit limits Slack enforces on a message (it refuses the whole message with
 * `invalid_blocks`): 50 blocks, block_ids unique in the message, 25 elements per actions block
 * with action_ids unique in their block, section text 3000 characters, header text 150.
 */
function blockLimitBroken(blocks: unknown[]): string | null {
  if (blocks.length > 50) return 'no more than 50 items allowed [json-pointer:/blocks]';
  const blockIds = new Set<string>();
  for (const [i, raw] of blocks.entries()) {
    const block = raw as { type?: unknown; block_id?: unknown; text?: { text?: unknown }; elements?: { action_id?: unknown }[] } | null;
    if (typeof block?.block_id === 'string') {
      if (blockIds.has(block.block_id)) return `duplicate block_id [json-pointer:/blocks/${i}/block_id]`;
      blockIds.add(block.block_id);
    }
    const text = typeof block?.text?.text === 'string' ? block.text.text : '';
    if (block?.type === 'section' && text.length > 3000) return `must be less than 3001 characters [json-pointer:/blocks/${i}/text]`;
    if (block?.type === 'header' && text.length > 150) return `must be less than 151 characters [json-pointer:/blocks/${i}/text]`;
    if (block?.type === 'actions') {
      const elements = block.elements ?? [];
      if (elements.length > 25) return `no more than 25 items allowed [json-pointer:/blocks/${i}/elements]`;
      const actionIds = elements.map((e) => e?.action_id).filter((id) => typeof id === 'string');
      if (new Set(actionIds).size !== actionIds.length) return `duplicate action_id [json-pointer:/blocks/${i}/elements]`;
    }
  }
  return null;
}

function hasContent(args: Record<string, unknown>): boolean {
  return Boolean(stringArg(args, 'text') || arrayArg(args, 'blocks')?.length || arrayArg(args, 'attachments')?.length);
}

function stringArg(args: Record<string, unknown>, key: string): string | undefined {
  const value = args[key];
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function arrayArg(args: Record<string, unknown>, key: string): unknown[] | undefined {
  const value = args[key];
  return Array.isArray(value) ? value : undefined;
}

function objectArg(args: Record<string, unknown>, key: string): Record<string, unknown> | undefined {
  const value = args[key];
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}

// ---------- request parsing ----------

/** Web API arguments from query, form or JSON body; token from the Authorization header or `token`. */
export function parseApiRequest(raw: string, req: IncomingMessage, url: URL): { args: Record<string, unknown>; token: string | null } {
  const args: Record<string, unknown> = {};
  for (const [key, value] of url.searchParams) args[key] = value;
  const contentType = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
  if (contentType === 'application/json') {
    const parsed = parseJsonOr(raw, undefined);
    if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)) Object.assign(args, parsed);
  } else if (raw !== '') {
    for (const [key, value] of new URLSearchParams(raw)) args[key] = JSON_ARGS.has(key) ? parseJsonOr(value, value) : value;
  }
  const bearer = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '')?.[1];
  const bodyToken = typeof args.token === 'string' ? args.token : undefined;
  delete args.token;
  return { args, token: bearer ?? bodyToken ?? null };
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        reject(new Error(`request body over ${MAX_BODY_BYTES} bytes`));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function parseJsonOr(text: string, fallback: unknown): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return fallback;
  }
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8' });
  res.end(JSON.stringify(body));
}

function sendText(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8' });
  res.end(text);
}

function errorOf(answer: { status: number; body: Record<string, unknown> | null }): string {
  if (answer.status === 429) return 'ratelimited';
  return typeof answer.body?.error === 'string' ? answer.body.error : `http_${answer.status}`;
}

function responseIdOf(idOrUrl: string): string {
  const match = /\/response\/([A-Za-z0-9]+)\/?$/.exec(idOrUrl);
  return match?.[1] ?? idOrUrl;
}

function findBlockIdOf(blocks: unknown[] | undefined, actionId: string): string | undefined {
  for (const block of blocks ?? []) {
    if (elementsOf(block).some((e) => e.action_id === actionId)) {
      const id = (block as Record<string, unknown>).block_id;
      return typeof id === 'string' ? id : undefined;
    }
  }
  return undefined;
}

function findButtonText(blocks: unknown[] | undefined, actionId: string): string | undefined {
  for (const block of blocks ?? []) {
    const element = elementsOf(block).find((e) => e.action_id === actionId);
    const text = (element?.text as Record<string, unknown> | undefined)?.text;
    if (typeof text === 'string') return text;
  }
  return undefined;
}

// Interactive elements live in `elements` (actions blocks) or `accessory` (section blocks).
function elementsOf(block: unknown): Record<string, unknown>[] {
  if (block === null || typeof block !== 'object') return [];
  const { elements, accessory } = block as { elements?: unknown; accessory?: unknown };
  const list = Array.isArray(elements) ? [...elements] : [];
  if (accessory) list.push(accessory);
  return list.filter((e): e is Record<string, unknown> => e !== null && typeof e === 'object');
}

// ---------- sending to the bot ----------

/** Signs `request` as Slack would and POSTs it to the bot; returns what the bot answered. */
export async function sendToBot(
  botUrl: string,
  signingSecret: string,
  request: Pick<BotRequest, 'kind' | 'body'>,
  options: { timestamp?: number } = {},
): Promise<BotAnswer> {
  const signed = signedRequest(botUrl, { signingSecret, kind: request.kind, body: request.body, ...options });
  const response = await fetch(signed.url, { method: signed.method, headers: signed.headers, body: signed.body });
  const text = await response.text();
  const isJson = (response.headers.get('content-type') ?? '').includes('application/json');
  return { status: response.status, body: isJson ? parseJsonOr(text, text) : text, text };
}
