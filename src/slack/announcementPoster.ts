// Posting announcements, where exactly-once matters (SPEC §4). The Web API client's own retries
// are off here: it would re-send a request whose answer was lost after Slack stored the message
// (a duplicate). This poster re-sends only what Slack cannot have: a 429 (after Retry-After), a
// 5xx, or a connection that failed before the request left. Anything else is thrown as it is.
// The Web API client as Bolt ships it (its own dependency): one version for the app and the poster.
import { LogLevel, webApi, type Logger } from '@slack/bolt';
import { mayHaveReachedSlack, slackErrorCode } from './postFailures.ts';

export interface RetryPolicy {
  retries: number;
  factor?: number;
  minTimeout?: number;
  maxTimeout?: number;
}

export interface PosterOptions {
  token: string;
  apiUrl: string;
  /** Limit for one Web API request. */
  timeoutMs: number;
  retry: RetryPolicy;
  /** Pace per channel: one post per this many ms on average (Slack allows about one a second)… */
  channelIntervalMs: number;
  /** …after a burst of this many (Slack tolerates short bursts). Default 3. */
  channelBurst?: number;
  logger?: { warn(msg: string): void };
  /** The fetch Web API calls go through (counted for /metrics). */
  fetch?: webApi.WebClientOptions['fetch'];
}

/**
 * What a history search found: per id wanted, the ts of the message that carries it. With
 * `unavailable` the history could not be read (or not to the end): the ids not found are not
 * known to be absent.
 */
export interface HistorySearch {
  found: Map<string, string>;
  unavailable?: string;
}

const HISTORY_PAGE = 200;
const HISTORY_PAGES = 10;

export class AnnouncementPoster {
  private readonly client: webApi.WebClient;
  /** Per channel, when its token bucket would be full again (epoch ms): a post costs one interval. */
  private readonly fullAt = new Map<string, number>();
  private readonly queues = new Map<string, Promise<unknown>>();
  /** Who the bot is (auth.test), asked once a history search needs it; forgotten when asking failed. */
  private identity: Promise<BotIdentity> | undefined;

  constructor(private readonly opts: PosterOptions) {
    this.client = new webApi.WebClient(opts.token, {
      slackApiUrl: opts.apiUrl,
      retryConfig: { retries: 0 },
      rejectRateLimitedCalls: true,
      timeout: opts.timeoutMs,
      logger: silentLogger(),
      ...(opts.fetch && { fetch: opts.fetch }),
    });
  }

  /** Posts one message, paced per channel; resolves with its ts or rejects with the last error. */
  post(args: webApi.ChatPostMessageArguments & { channel: string }): Promise<{ ts: string }> {
    // One post at a time per channel, so the pacing below holds for concurrent callers too.
    const previous = this.queues.get(args.channel) ?? Promise.resolve();
    // The previous post's failure is its caller's; this one only waits for it to end.
    const next = previous.catch(() => undefined).then(() => this.postPaced(args));
    this.queues.set(args.channel, next);
    void next.finally(() => {
      if (this.queues.get(args.channel) === next) this.queues.delete(args.channel);
    }).catch(() => undefined);
    return next;
  }

  private async postPaced(args: webApi.ChatPostMessageArguments & { channel: string }): Promise<{ ts: string }> {
    const { retry } = this.opts;
    for (let attempt = 0; ; attempt++) {
      await this.takeChannelToken(args.channel);
      try {
        const result = await this.client.chat.postMessage(args);
        return { ts: String(result.ts) };
      } catch (error) {
        const delay = retryDelay(error, attempt, retry);
        if (delay === null) throw error;
        this.opts.logger?.warn(`chat.postMessage to ${args.channel} failed (${(error as Error).message}); trying again in ${delay} ms`);
        await sleep(delay);
      }
    }
  }

  /** Token bucket per channel: up to `channelBurst` posts at once, then one per interval. */
  private async takeChannelToken(channel: string): Promise<void> {
    const interval = this.opts.channelIntervalMs;
    if (interval <= 0) return;
    const burst = (this.opts.channelBurst ?? 3) * interval;
    const now = Date.now();
    // The bucket never holds more than `burst` worth of credit.
    const fullAt = Math.max(this.fullAt.get(channel) ?? now, now);
    const wait = fullAt + interval - (now + burst);
    this.fullAt.set(channel, fullAt + interval);
    if (wait > 0) await sleep(wait);
  }

  /**
   * Looks for the bot's messages whose metadata carries the `wanted` ids (`idsIn` reads them out
   * of one message's metadata; a combined announcement carries several) in `channel`, posted after
   * `sinceIso` (with five minutes of margin for clocks). Needs `channels:history` (`groups:history`
   * for private channels); without them it is `unavailable`.
   */
  async findInHistory(channel: string, sinceIso: string, wanted: readonly string[], idsIn: (metadata: unknown) => string[]): Promise<HistorySearch> {
    const oldest = Math.max(0, Date.parse(sinceIso) / 1000 - 300).toFixed(6);
    const looking = new Set(wanted);
    const found = new Map<string, string>();
    let cursor: string | undefined;
    // Only the bot's own messages settle a post: any app (or a person's workflow) can attach this metadata.
    let me: BotIdentity;
    try {
      me = await this.whoAmI();
    } catch (error) {
      const code = slackErrorCode(error);
      return { found, unavailable: `auth.test failed (${code ?? (error as Error).message}), so the bot's own messages cannot be told from other apps'` };
    }
    try {
      for (let page = 0; page < HISTORY_PAGES; page++) {
        const result = await this.client.conversations.history({
          channel,
          oldest,
          limit: HISTORY_PAGE,
          include_all_metadata: true,
          ...(cursor ? { cursor } : {}),
        });
        for (const message of result.messages ?? []) {
          if (!message.ts || !isOwnMessage(message, me)) continue;
          for (const id of idsIn((message as { metadata?: unknown }).metadata)) {
            if (looking.has(id) && !found.has(id)) found.set(id, message.ts);
          }
        }
        if (found.size === looking.size) return { found };
        cursor = result.response_metadata?.next_cursor || undefined;
        if (!result.has_more || !cursor) return { found };
      }
      return { found, unavailable: `more than ${HISTORY_PAGE * HISTORY_PAGES} messages since then in ${channel}; not searched further` };
    } catch (error) {
      const code = slackErrorCode(error);
      if (code === 'missing_scope') return { found, unavailable: 'the bot lacks channels:history/groups:history, so Slack cannot be asked' };
      return { found, unavailable: `conversations.history failed: ${code ?? (error as Error).message}` };
    }
  }

  private whoAmI(): Promise<BotIdentity> {
    this.identity ??= this.client.auth.test().then((r) => {
      const answer = r as { bot_id?: unknown; app_id?: unknown; user_id?: unknown };
      if (typeof answer.bot_id !== 'string' || answer.bot_id === '') throw new Error('Slack did not say which bot this token belongs to (no bot_id); SLACK_BOT_TOKEN must be a bot token (xoxb-…)');
      return {
        botId: answer.bot_id,
        ...(typeof answer.app_id === 'string' && answer.app_id ? { appId: answer.app_id } : {}),
        ...(typeof answer.user_id === 'string' && answer.user_id ? { userId: answer.user_id } : {}),
      };
    });
    this.identity.catch(() => (this.identity = undefined));
    return this.identity;
  }
}

/** The bot as auth.test names it: its bot id, and its app and bot user where Slack says. */
interface BotIdentity {
  botId: string;
  appId?: string;
  userId?: string;
}

/** A message the bot itself posted: its bot id, and no other app's or user's id on it. */
function isOwnMessage(message: { bot_id?: string; app_id?: string; user?: string }, me: BotIdentity): boolean {
  if (message.bot_id !== me.botId) return false;
  if (me.appId && message.app_id && message.app_id !== me.appId) return false;
  if (me.userId && message.user && message.user !== me.userId) return false;
  return true;
}

/** How long to wait before sending again, or null when it must not (or need not) be sent again. */
function retryDelay(error: unknown, attempt: number, retry: RetryPolicy): number | null {
  if (attempt >= retry.retries) return null;
  const e = error as { code?: unknown; retryAfter?: unknown; statusCode?: unknown };
  if (e.code === 'slack_webapi_rate_limited_error' && typeof e.retryAfter === 'number') return e.retryAfter * 1000;
  const serverError = e.code === 'slack_webapi_http_error' && typeof e.statusCode === 'number' && e.statusCode >= 500;
  const notSent = e.code === 'slack_webapi_request_error' && !mayHaveReachedSlack(error);
  if (!serverError && !notSent) return null;
  const min = retry.minTimeout ?? 1000;
  return Math.min(min * (retry.factor ?? 2) ** attempt, retry.maxTimeout ?? Infinity);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** The client's own log lines (every failed request at warn) would repeat what the bot logs itself. */
export function silentLogger(): Logger {
  let level = LogLevel.ERROR;
  return {
    debug: () => undefined,
    info: () => undefined,
    warn: () => undefined,
    error: () => undefined,
    setLevel: (l) => void (level = l),
    getLevel: () => level,
    setName: () => undefined,
  };
}
