import type { Metrics } from './metrics.ts';
import type { Actor, AnnouncementRecord, AnnouncementTask, Deprecation, VersionRecord } from '../domain/records.ts';
import { CoalescedRun } from './coalescedRun.ts';
import { StateUnwritableError, type AnnouncementKey, type MessageLayout, type StatePort } from './statePort.ts';
import type { ReleaseFacts } from './releaseFacts.ts';

/** What the announcer needs to say about a version; rendering is the notifier's job. */
export interface VersionAnnouncement {
  publisher: string;
  version: VersionRecord;
  /** What happened since it was announced (an updated announcement shows it). */
  notes?: AnnouncementNotes;
  /** Schema change against the stage's previous version and data-quality failures (when they could be read). */
  facts?: ReleaseFacts | null;
}

/** Lines an announcement gains after it was posted (SPEC §4): its deprecation, and who adopted it. */
export interface AnnouncementNotes {
  /** Deprecations of this version, one per deprecated stage of it. */
  deprecated: Deprecation[];
  /** Consumers that adopted this version (one line each; the newest adoption), oldest first. */
  adoptedBy: { consumer: string; stage: string; user: Actor }[];
}

/**
 * How a failed post is settled: `retry` (transient: pending again for the next pass), `failed`
 * (Slack refused for good: recorded with the reason, tried again only after a restart or an
 * hour), `stop` (the token is no good: pending again, and no post is tried until the token
 * works), `unknown` (the request may have reached Slack: never re-sent before the channel's
 * history says Slack does not have it).
 */
export type PostFailure = 'retry' | 'failed' | 'stop' | 'unknown';

/**
 * One message to post in one channel: a single version (rendered as it always was), or several
 * that completed together (a burst), combined. A burst too big for one message is split into
 * `parts` messages of about equal size; this is message `part` (1-based) of them, `total` versions in all.
 */
export interface AnnouncementBatch {
  versions: VersionAnnouncement[];
  part: number;
  parts: number;
  total: number;
}

/**
 * Looking for announcements in a channel's history. `ts` answers each version asked, in order:
 * the message that announces it, or null when none does. With `unavailable` (the history could
 * not be read, or not to the end) a null means "not found", not "known absent".
 */
export interface PostedSearch {
  ts: (string | null)[];
  unavailable?: string;
}

/** A post that failed for good is tried again after this long (and at every start). */
export const FAILED_RETRY_AFTER_MS = 60 * 60_000;
/** When a channel's history could not be read, it is not asked again for this long. */
const HISTORY_RETRY_AFTER_MS = 10 * 60_000;

export type DeliveryState = Pick<
  StatePort,
  | 'pendingAnnouncements'
  | 'claimAnnouncements'
  | 'markPosted'
  | 'markRetry'
  | 'markFailed'
  | 'markUnknown'
  | 'settleUnknownAsPosted'
  | 'settleUnknownAsNotPosted'
  | 'reopenFailedPosts'
  | 'announcementsIn'
  | 'getVersion'
  | 'settleInterruptedPosts'
>;

export interface DeliveryPorts {
  state: DeliveryState;
  /** Posts one message announcing the batch's versions; resolves with its ts, rejects when Slack said no. */
  announce(channel: string, batch: AnnouncementBatch): Promise<{ ts: string }>;
  /** Schema change and data quality of a version about to be announced (best effort: null or a failure posts it without). */
  describe?: (publisher: string, version: VersionRecord) => Promise<ReleaseFacts | null>;
  /** Most versions one message announces (a burst beyond it is split). Default 1: one message per version. */
  maxVersionsPerMessage?: number;
  /** How to settle a failed post (default: retry). */
  classifyPostFailure?(error: unknown): PostFailure;
  /** A failure in words for state and logs (default: the error's message). */
  describeFailure?(error: unknown): string;
  /** Looks for the announcements of `versions` in `channel`'s history, posted after `since` (ISO). */
  findPosted?(channel: string, versions: readonly { publisher: string; version: string }[], since: string): Promise<PostedSearch>;
  /** After Slack refused the token: null once it works again, else why not. */
  checkAuth?(): Promise<string | null>;
  /** Told how long after completion each version's announcement went out. */
  metrics?: Pick<Metrics, 'announced'>;
  now?: () => Date;
  log?: {
    info(obj: object, msg: string): void;
    warn(obj: object, msg: string): void;
    error(obj: object, msg: string): void;
  };
}

export interface DeliverySummary {
  /** Announcements (version × channel) posted, and those whose post failed: a combined message counts for each of its versions. */
  announced: number;
  failedPosts: number;
}

/** A post Slack took whose settlement could not be written yet (state unwritable): retried each pass. */
interface UnsettledPost {
  /** Every version the message announced: one outcome for all. */
  keys: AnnouncementKey[];
  outcome: { status: 'posted'; ts: string; layout?: MessageLayout } | { status: 'retry' | 'failed' | 'unknown'; error: string };
}

/**
 * Posts the announcements state holds as pending, each exactly once per channel (SPEC §4): the
 * outbox the scan fills. It runs apart from the scan, so a burst paced by Slack's rate limits
 * never holds back the next scan, and a scan costs what it reads, not what it posts.
 * Passes never overlap: a trigger during one queues one more.
 */
export class AnnouncementDelivery extends CoalescedRun<DeliverySummary> {
  private passes = 0;
  /** Posts left in flight by a dead process are settled first: at start-up, and on taking leadership. */
  private settleInterruptedFirst = true;
  private readonly unsettled: UnsettledPost[] = [];
  private readonly now: () => Date;
  /** Why Slack refused the bot token; while set, nothing is posted. */
  private authFailure: string | null = null;
  /** Epoch ms before which channel histories are not asked again (they could not be read). */
  private historyRetryAt = 0;

  constructor(private readonly ports: DeliveryPorts) {
    super();
    this.now = ports.now ?? (() => new Date());
  }

  /** This replica just became the leader: posts the previous leader left in flight are settled before anything is posted. */
  leadershipTaken(): void {
    this.settleInterruptedFirst = true;
  }

  /** Why posting is stopped (Slack refused the token), or null while the bot may post. */
  postingStopped(): string | null {
    return this.authFailure;
  }

  protected async pass(): Promise<DeliverySummary> {
    if (this.settleInterruptedFirst) {
      await this.settleInterruptedPosts();
      this.settleInterruptedFirst = false;
    }
    await this.settleUnsettled();
    await this.reopenFailedPosts(this.passes === 0);
    await this.settleUnknownPosts();
    const posted = await this.postPending();
    this.passes++;
    return { announced: posted.announced, failedPosts: posted.failed };
  }

  /**
   * A post that was in flight when the process died may or may not have reached Slack.
   * Posting again could duplicate it, so it becomes `unknown` and is reported, never re-sent.
   */
  private async settleInterruptedPosts(): Promise<AnnouncementRecord[]> {
    const reason = 'interrupted while posting (bot stopped); not re-posted to avoid a duplicate';
    const settled = await this.ports.state.settleInterruptedPosts(reason, this.now().toISOString());
    for (const { publisher, version, channel } of settled) {
      this.ports.log?.warn({ publisher, version, channel }, 'announcement was in flight at shutdown; not re-posting');
    }
    return settled;
  }

  /** Posts Slack refused for good are tried again at start-up and then once they are an hour old. */
  private async reopenFailedPosts(startUp: boolean): Promise<void> {
    const now = this.now();
    const before = startUp ? now.toISOString() : new Date(now.getTime() - FAILED_RETRY_AFTER_MS).toISOString();
    for (const { publisher, version, channel, lastError } of await this.ports.state.reopenFailedPosts(before, now.toISOString())) {
      this.ports.log?.info({ publisher, version, channel, lastError }, 'trying a refused announcement again');
    }
  }

  /**
   * Posts whose outcome is unknown are looked for in their channel's history (one search per
   * channel, however many versions a lost message held): found, they are posted (with the ts
   * found); known absent, they go back to pending and are posted in this pass. Where the history
   * cannot be read they stay unknown, reported for a person to check.
   */
  private async settleUnknownPosts(): Promise<void> {
    const { findPosted } = this.ports;
    if (!findPosted || this.authFailure || this.now().getTime() < this.historyRetryAt) return;
    const byChannel = new Map<string, { record: AnnouncementRecord; recordedAt: string }[]>();
    for (const a of await this.ports.state.announcementsIn(['unknown'], 50)) {
      const version = await this.ports.state.getVersion(a.publisher, a.version);
      if (!version) continue;
      byChannel.set(a.channel, [...(byChannel.get(a.channel) ?? []), { record: a, recordedAt: version.recordedAt }]);
    }
    for (const [channel, list] of byChannel) {
      const since = list.map((u) => u.recordedAt).sort()[0]!;
      const search = await findPosted(channel, list.map((u) => u.record), since);
      let unreadable = false;
      for (const [i, { record: a }] of list.entries()) {
        const key = { publisher: a.publisher, version: a.version, channel };
        const ts = search.ts[i] ?? null;
        const at = this.now().toISOString();
        if (ts !== null) {
          await this.ports.state.settleUnknownAsPosted(key, ts, at);
          this.ports.log?.info({ ...key, ts }, 'announcement with an unknown outcome found in the channel: it was posted');
        } else if (search.unavailable === undefined) {
          await this.ports.state.settleUnknownAsNotPosted(key, `not in ${channel}'s history after an unknown outcome (${a.lastError ?? 'no reason'})`, at);
          this.ports.log?.info(key, 'announcement with an unknown outcome is not in the channel: posting it');
        } else {
          const reason =
            `Slack may or may not have this message, so it is not re-posted (avoiding a duplicate); the bot could not check: ${search.unavailable}. ` +
            `Look for it in ${channel}; grant channels:history/groups:history to let the bot check by itself`;
          if (a.lastError !== reason) await this.ports.state.markUnknown([key], reason, at);
          unreadable = true;
        }
      }
      if (unreadable) {
        this.historyRetryAt = this.now().getTime() + HISTORY_RETRY_AFTER_MS;
        return;
      }
    }
  }

  /** Outcomes of posts whose write failed earlier (state was unwritable): write them now. */
  private async settleUnsettled(): Promise<void> {
    while (this.unsettled.length) {
      await this.writeOutcome(this.unsettled[0]!);
      this.unsettled.shift();
    }
  }

  private async writeOutcome({ keys, outcome }: UnsettledPost): Promise<void> {
    const at = this.now().toISOString();
    if (outcome.status === 'posted') await this.ports.state.markPosted(keys, outcome.ts, at, outcome.layout);
    else if (outcome.status === 'failed') await this.ports.state.markFailed(keys, outcome.error, at);
    else if (outcome.status === 'unknown') await this.ports.state.markUnknown(keys, outcome.error, at);
    else await this.ports.state.markRetry(keys, outcome.error, at);
  }

  private async describe(version: VersionRecord): Promise<ReleaseFacts | null> {
    if (!this.ports.describe) return null;
    try {
      return await this.ports.describe(version.publisher, version);
    } catch (error) {
      this.ports.log?.warn({ publisher: version.publisher, version: version.version, err: (error as Error).message }, 'could not read the schema change of a version; announcing it without');
      return null;
    }
  }

  private async postPending(): Promise<{ announced: number; failed: number }> {
    let announced = 0;
    let failed = 0;
    if (this.authFailure) {
      const still = this.ports.checkAuth ? await this.ports.checkAuth() : this.authFailure;
      if (still !== null) return { announced, failed };
      this.ports.log?.info({}, 'Slack accepts the bot token again; posting resumes');
      this.authFailure = null;
    }
    // A version deleted before its post went out is not announced (state leaves it pending, in case it returns).
    const tasks = await this.ports.state.pendingAnnouncements();
    for (const batch of batchesByChannel(tasks, this.ports.maxVersionsPerMessage ?? 1)) {
      const { channel } = batch;
      // Claimed (in_flight, committed) before sending, all of a message's versions in one transaction:
      // a crash mid-post must never lead to a second post.
      const claimed = await this.ports.state.claimAnnouncements(batch.keys, this.now().toISOString());
      if (!claimed.length) continue;
      const ids = new Set(claimed.map((k) => `${k.publisher}\0${k.version}`));
      const versions = batch.versions.filter((v) => ids.has(`${v.publisher}\0${v.version}`));
      let outcome: UnsettledPost['outcome'];
      let stop = false;
      try {
        const described = await Promise.all(versions.map(async (version) => ({ publisher: version.publisher, version, facts: await this.describe(version) })));
        const { ts } = await this.ports.announce(channel, { ...batch.part, versions: described });
        // A combined message keeps its place in the burst, so an update renders it the same way.
        outcome = { status: 'posted', ts, ...(claimed.length > 1 ? { layout: batch.part } : {}) };
        announced += claimed.length;
        const postedAt = this.now().getTime();
        for (const v of versions) this.ports.metrics?.announced(v.publisher, (postedAt - Date.parse(v.completedAt)) / 1000);
        if (claimed.length > 1) this.ports.log?.info({ channel, ts, versions: claimed.length, part: batch.part.part, parts: batch.part.parts }, 'posted one announcement for several versions');
      } catch (error) {
        const reason = this.ports.describeFailure?.(error) ?? (error instanceof Error ? error.message : String(error));
        const kind = this.ports.classifyPostFailure?.(error) ?? 'retry';
        // An auth refusal stops all posting; a lost answer (reset, timeout) ends this pass,
        // so a Slack that does not answer costs one timeout per pass (one a scan), not one per pending post.
        stop = kind === 'stop' || kind === 'unknown';
        const where = { publisher: versions[0]!.publisher, version: versions.map((v) => v.version).join(', '), channel, err: reason };
        if (kind === 'stop') {
          // One error line for the operator; the bot stays quiet until the token works again.
          this.authFailure = `Slack refused the bot token (${reason}) when posting to ${channel}`;
          this.ports.log?.error(where, 'Slack refused the bot token; no announcement is posted until SLACK_BOT_TOKEN is fixed');
          outcome = { status: 'retry', error: reason };
        } else if (kind === 'unknown') {
          outcome = { status: 'unknown', error: `${reason}: Slack may have stored it; not re-posted until the channel's history is checked` };
          this.ports.log?.warn(where, 'announcement outcome unknown (the answer was lost); not re-posted blindly');
        } else {
          outcome = { status: kind === 'failed' ? 'failed' : 'retry', error: reason };
          this.ports.log?.warn(where, kind === 'failed' ? 'announcement refused by Slack; tried again after a restart or an hour' : 'announcement failed; will retry on next scan');
        }
        failed += claimed.length;
      }
      try {
        await this.writeOutcome({ keys: claimed, outcome });
      } catch (error) {
        if (!(error instanceof StateUnwritableError)) throw error;
        // Slack has the post; state says in_flight, which is never re-sent. Write it when we can.
        this.unsettled.push({ keys: claimed, outcome });
        throw error;
      }
      if (stop) break;
    }
    return { announced, failed };
  }
}

interface Batch {
  channel: string;
  versions: VersionRecord[];
  keys: AnnouncementKey[];
  part: Omit<AnnouncementBatch, 'versions'>;
}

/**
 * Pending posts as messages: per channel (in the order channels first come up), its versions in
 * order, split into as few messages of at most `max` versions as will hold them, of about equal
 * size (11 versions at 10 a message: 6 and 5, never 10 and a lone 1).
 */
export function batchesByChannel(tasks: readonly AnnouncementTask[], max: number): Batch[] {
  const byChannel = new Map<string, VersionRecord[]>();
  for (const { channel, version } of tasks) byChannel.set(channel, [...(byChannel.get(channel) ?? []), version]);
  const batches: Batch[] = [];
  const per = Math.max(1, Math.floor(max));
  for (const [channel, versions] of byChannel) {
    const parts = Math.ceil(versions.length / per);
    let from = 0;
    for (let part = 1; part <= parts; part++) {
      // The first (total mod parts) messages take one more.
      const size = Math.floor(versions.length / parts) + (part <= versions.length % parts ? 1 : 0);
      const slice = versions.slice(from, from + size);
      from += size;
      batches.push({
        channel,
        versions: slice,
        keys: slice.map((v) => ({ publisher: v.publisher, version: v.version, channel })),
        part: { part, parts, total: versions.length },
      });
    }
  }
  return batches;
}

