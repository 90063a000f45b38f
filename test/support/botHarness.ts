// A whole bot on loopback for integration tests: a publish dir, consumer repos (bare git
// remotes), smvbot.yml, the Slack stand-in, and the real server started through `startBot`.
//
//   const world = new World();                       // TCD.20160701.* of geo, cms, trial already published
//   const bot = await BotUnderTest.start(world);     // first scan records those silently
//   world.publishAll('TCD.20160802');
//   await bot.bot.scanNow();                         // announces TCD.20160802.*
//   const { reply, visibility } = await bot.command('adopt geo TCD.20160802.geo');
//   world.remoteFile();                              // conf/smv-user-conf.props on the remote's main
//   await bot.stop(); world.cleanup();
//
// The world's files, names and users are in botWorld.ts, re-exported here.
import { createLogger, type Logger } from '../../src/infra/runtime/logger.ts';
import { startBot, type RunningBot } from '../../src/main.ts';
import {
  SlackStandIn,
  sendToBot,
  type BotAnswer,
  type BotRequest,
  type ResponseUrlPost,
  type StoredMessage,
} from '../../dev/slack/slackStandIn.ts';
import { ADOPTER, APP_TOKEN, BOT_TOKEN, SIGNING_SECRET, TEAM_B_CHANNEL, USERS, World, type WorldOptions } from './botWorld.ts';

export * from './botWorld.ts';

/** Worlds with a started bot each, for tests that make their own; `stopAll` after each test. */
export class BotWorlds {
  private readonly running: { world: World; bot: BotUnderTest }[] = [];

  async start(opts: WorldOptions = {}, botOptions: BotOptions = {}): Promise<{ world: World; bot: BotUnderTest }> {
    const world = new World(opts);
    const bot = await BotUnderTest.start(world, undefined, botOptions);
    this.running.push({ world, bot });
    return { world, bot };
  }

  async stopAll(): Promise<void> {
    for (const { world, bot } of this.running.splice(0)) {
      await bot.stop();
      world.cleanup();
    }
  }
}

/** What `/smv …` produced, as the user sees it. */
export interface CommandResult {
  ack: BotAnswer;
  followUp?: ResponseUrlPost;
  /** The text a person reads (from the ack when it had one, else from the follow-up). */
  reply: string;
  /** `response_type` of that answer: who sees it. */
  visibility: 'ephemeral' | 'in_channel' | undefined;
  request: BotRequest & { responseUrl: string };
}

export interface BotOptions {
  /** Where the bot logs (default: nowhere). */
  logger?: Logger;
  /** Environment over the world's (e.g. another SLACK_BOT_TOKEN). */
  env?: Record<string, string>;
  /** Let the bot watch the publish dir and run its schedule (default: the test drives every scan). */
  watch?: boolean;
  /** How Slack reaches the bot: signed HTTP requests (default) or Socket Mode (SLACK_APP_TOKEN set). */
  transport?: 'http' | 'socket';
  /** Limit for one Web API request (default: the bot's own). */
  apiTimeoutMs?: number;
  /** Least time between two announcements in one channel (default 0 here: tests need not wait). */
  channelIntervalMs?: number;
  /** Runs once the config is read, before the bot starts: to break what the config checked. */
  beforeStart?: () => void;
}

export type Transport = NonNullable<BotOptions['transport']>;

/** The stand-in plus a bot started against it. */
export class BotUnderTest {
  bot!: RunningBot;
  url!: string;

  constructor(
    readonly world: World,
    readonly slack: SlackStandIn,
    private readonly options: BotOptions = {},
  ) {}

  static async start(world: World, slack?: SlackStandIn, options: BotOptions = {}): Promise<BotUnderTest> {
    const standIn = slack ?? new SlackStandIn({ botToken: BOT_TOKEN, appToken: APP_TOKEN, users: USERS });
    await standIn.start();
    const harness = new BotUnderTest(world, standIn, options);
    await harness.startBot();
    return harness;
  }

  async startBot(): Promise<void> {
    const socket: Record<string, string> = this.options.transport === 'socket' ? { SLACK_APP_TOKEN: APP_TOKEN } : {};
    const config = this.world.config({ SLACK_API_URL: this.slack.url, ...socket, ...this.options.env });
    this.options.beforeStart?.();
    this.bot = await startBot(config, {
      manualScans: !this.options.watch,
      retryConfig: { retries: 2, factor: 1, minTimeout: 10, maxTimeout: 20 },
      channelIntervalMs: this.options.channelIntervalMs ?? 0,
      ...(this.options.apiTimeoutMs ? { apiTimeoutMs: this.options.apiTimeoutMs } : {}),
      logger: this.options.logger ?? createLogger({ level: 'silent' as never }),
    });
    this.url = `http://127.0.0.1:${this.bot.port}/slack/events`;
  }

  get transport(): Transport {
    return this.options.transport ?? 'http';
  }

  async restart(): Promise<void> {
    await this.bot.stop();
    await this.startBot();
  }

  /** A `/smv <text>` request as Slack would build it (send it with `send`). */
  commandRequest(text: string, opts: { user?: string; channel?: string } = {}): BotRequest & { responseUrl: string } {
    return this.slack.slashCommand({ text, userId: opts.user ?? ADOPTER, channelId: opts.channel ?? TEAM_B_CHANNEL });
  }

  /**
   * Sends `/smv <text>` signed like Slack. An answer in the ack is the reply; an empty ack
   * means the answer comes on response_url, which is awaited.
   */
  async command(text: string, opts: { user?: string; channel?: string } = {}): Promise<CommandResult> {
    const request = this.commandRequest(text, opts);
    const ack = await this.send(request);
    if (ack.status !== 200) throw new Error(`/smv ${text}: the bot answered HTTP ${ack.status}: ${ack.text}`);
    const ackText = replyText(ack.body);
    if (ackText) return { ack, reply: ackText, visibility: visibilityOf(ack.body), request };
    const followUp = await this.slack.waitForResponse(request.responseUrl, 30_000);
    return { ack, followUp, reply: replyText(followUp.body), visibility: visibilityOf(followUp.body), request };
  }

  /** Clicks the Adopt button `index` of a posted announcement, as `user`. */
  async clickAdopt(message: StoredMessage, index: number, user = ADOPTER): Promise<{ ack: BotAnswer; request: BotRequest & { responseUrl: string } }> {
    const button = adoptButtons(message)[index];
    if (!button) throw new Error(`The message has no Adopt button ${index}: ${JSON.stringify(message.blocks)}`);
    const request = this.slack.blockAction({
      actionId: button.action_id,
      value: button.value,
      userId: user,
      channelId: message.channel,
      messageTs: message.ts,
    });
    return { ack: await this.send(request), request };
  }

  /** Delivers `req` as Slack would: signed over HTTP, or as an envelope over the bot's socket. */
  send(req: BotRequest, opts: { secret?: string; timestamp?: number } = {}): Promise<BotAnswer> {
    if (this.transport === 'socket') return this.slack.sendOverSocket(req);
    return sendToBot(this.url, opts.secret ?? SIGNING_SECRET, req, opts.timestamp === undefined ? {} : { timestamp: opts.timestamp });
  }

  /**
   * Opens the Home tab as `user`: the view the bot published for them (blocks as `V` says) and
   * its id (for block actions on it).
   */
  async openHome<V extends object>(user: string): Promise<V & { id: string }> {
    const before = this.slack.calls('views.publish').length;
    const opened = await this.send(this.slack.eventCallback({ type: 'app_home_opened', user, channel: 'D0HOME', tab: 'home' }));
    if (opened.status !== 200) throw new Error(`app_home_opened answered HTTP ${opened.status}`);
    const call = await this.slack.waitFor(
      (r) => r.kind === 'call' && r.method === 'views.publish' && r.args.user_id === user && this.slack.calls('views.publish').indexOf(r) >= before,
      30_000,
      `views.publish for ${user}`,
    );
    if (call.kind !== 'call' || !call.ok) throw new Error(`views.publish for ${user} failed`);
    return { ...(call.args.view as V), id: String((call.response?.view as { id?: unknown } | undefined)?.id) };
  }

  async healthz(): Promise<{ status: number; body: Record<string, unknown> }> {
    return getHealth(this.bot.port);
  }

  async stop(): Promise<void> {
    await this.bot.stop();
    await this.slack.close();
  }
}

export async function getHealth(port: number): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`http://127.0.0.1:${port}/healthz`);
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

export interface AdoptButton {
  action_id: string;
  value: string;
  text: { text: string };
  confirm?: Record<string, unknown>;
}

/** The Adopt buttons of an announcement, in order (every version's, in a combined one). */
export function adoptButtons(message: Pick<StoredMessage, 'blocks'>): AdoptButton[] {
  const actions = (message.blocks ?? []).filter((b) => (b as { type?: string }).type === 'actions') as { elements?: AdoptButton[] }[];
  return actions.flatMap((a) => a.elements ?? []);
}

/** `response_type` of a reply body. */
export function visibilityOf(body: unknown): 'ephemeral' | 'in_channel' | undefined {
  const type = (body as { response_type?: unknown } | null)?.response_type;
  return type === 'ephemeral' || type === 'in_channel' ? type : undefined;
}

/** The text a person reads: top-level text plus section texts. */
export function replyText(body: unknown): string {
  if (!body || typeof body !== 'object') return typeof body === 'string' ? body : '';
  const b = body as { text?: string; blocks?: { text?: { text?: string }; fields?: { text: string }[] }[] };
  const parts = [b.text ?? ''];
  for (const block of b.blocks ?? []) {
    if (block.text?.text) parts.push(block.text.text);
    for (const f of block.fields ?? []) parts.push(f.text);
  }
  return parts.filter(Boolean).join('\n');
}

/** The top-level `text` of a reply: what notifications and screen readers show. */
export function topText(body: unknown): string {
  return String((body as { text?: unknown } | null)?.text ?? '');
}
