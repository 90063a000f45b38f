// What the bot says to Slack on its own (announcements, their updates, notices, recovered
// adoptions, digests): the Web API side, built before and apart from the Bolt app that receives
// requests, so the use cases that post can be composed first and the app last.
import { WebClient } from '@slack/web-api';
import type { AnnouncementBatch, PostedSearch } from '../core/announcementDelivery.ts';
import type { Topology } from '../core/topology.ts';
import { AnnouncementPoster, silentLogger, type PosterOptions, type RetryPolicy } from './announcementPoster.ts';
import { describeFailure } from './postFailures.ts';
import { renderAnnouncementBatch, versionsInMetadata } from './render/announcement.ts';
import type { SlackMessage } from './render/format.ts';

export interface SlackNotifierOptions {
  botToken: string;
  apiUrl: string;
  /** Limit for one Web API request. */
  timeoutMs: number;
  /** Web API retry policy (429 Retry-After is always honoured). */
  retry: RetryPolicy;
  /** Least time between two announcements in one channel. */
  channelIntervalMs: number;
  topology: Topology;
  /** Applied to every outgoing message (secrets out). */
  scrub: <T>(value: T) => T;
  logger: { warn(msg: string): void };
  /** The fetch Web API calls go through (counted for /metrics). */
  fetch?: PosterOptions['fetch'];
}

export interface SlackNotifier {
  /** Posts one announcement; resolves with its ts, rejects when Slack refused or the outcome is unknown. */
  announce(channel: string, batch: AnnouncementBatch): Promise<{ ts: string }>;
  /** Renders a posted announcement again (with what happened since) and replaces it in place. */
  updateAnnouncement(channel: string, ts: string, batch: AnnouncementBatch): Promise<void>;
  /** Looks for the bot's announcement of each version in the channel's history (needs the history scopes). */
  findAnnouncement(channel: string, versions: readonly { publisher: string; version: string }[], since: string): Promise<PostedSearch>;
  /** auth.test: null when Slack accepts the bot token, else why not. */
  checkAuth(): Promise<string | null>;
  /**
   * Posts a message the bot wrote into a channel (digests, deprecation notices, Home-adopt
   * results, recovered adoptions): paced per channel together with the announcements.
   */
  say(channel: string, message: SlackMessage): Promise<void>;
}

export function createSlackNotifier(opts: SlackNotifierOptions): SlackNotifier {
  const poster = new AnnouncementPoster({
    token: opts.botToken,
    apiUrl: opts.apiUrl,
    timeoutMs: opts.timeoutMs,
    retry: opts.retry,
    channelIntervalMs: opts.channelIntervalMs,
    logger: opts.logger,
    ...(opts.fetch && { fetch: opts.fetch }),
  });
  // Everything but posts (whose retries the poster decides itself): bounded retries, 429s waited out.
  const client = new WebClient(opts.botToken, {
    slackApiUrl: opts.apiUrl,
    retryConfig: opts.retry,
    rejectRateLimitedCalls: false,
    timeout: opts.timeoutMs,
    logger: silentLogger(),
    ...(opts.fetch && { fetch: opts.fetch }),
  });
  return {
    announce(channel, batch) {
      const message = opts.scrub(renderAnnouncementBatch(batch, opts.topology));
      return poster.post({ channel, text: message.text, blocks: message.blocks, metadata: message.metadata, unfurl_links: false, unfurl_media: false });
    },
    async updateAnnouncement(channel, ts, batch) {
      const message = opts.scrub(renderAnnouncementBatch(batch, opts.topology));
      await client.chat.update({ channel, ts, text: message.text, blocks: message.blocks, metadata: message.metadata });
    },
    async findAnnouncement(channel, versions, since) {
      const id = (v: { publisher: string; version: string }) => JSON.stringify([v.publisher, v.version]);
      const search = await poster.findInHistory(channel, since, versions.map(id), (metadata) => versionsInMetadata(metadata).map(id));
      return { ts: versions.map((v) => search.found.get(id(v)) ?? null), ...(search.unavailable !== undefined ? { unavailable: search.unavailable } : {}) };
    },
    async checkAuth() {
      try {
        await client.auth.test();
        return null;
      } catch (error) {
        return describeFailure(error);
      }
    },
    async say(channel, message) {
      const safe = opts.scrub(message);
      // Through the poster: the same per-channel queue and token bucket as announcements (Slack
      // allows about one message a second per channel), and re-sent only when Slack cannot have it.
      await poster.post({ channel, text: safe.text, ...(safe.blocks ? { blocks: safe.blocks } : {}), unfurl_links: false, unfurl_media: false });
    },
  };
}
