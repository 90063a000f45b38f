import type { PublishedVersion } from '../domain/types.ts';
import type { AnnouncementRecord, NewVersion, VersionRecord } from '../domain/records.ts';
import { StateUnwritableError, type AnnouncementKey, type KnownVersions, type StatePort } from './statePort.ts';
import type { PublisherSpec } from './topology.ts';

export interface ScanOutput {
  versions: PublishedVersion[];
  /** Every version dir name seen, including skipped ones. */
  present: string[];
  problems: string[];
}

/** What the announcer needs to say about a version; rendering is the notifier's job. */
export interface VersionAnnouncement {
  publisher: string;
  version: VersionRecord;
}

/**
 * How a failed post is settled: `retry` (transient: pending again for the next scan), `failed`
 * (Slack refused for good: recorded with the reason, never retried), `stop` (the token is no
 * good: pending again, and no further post is tried in this scan).
 */
export type PostFailure = 'retry' | 'failed' | 'stop';

export type ScanState = Pick<
  StatePort,
  | 'initializedAt'
  | 'markInitialized'
  | 'publisherKnown'
  | 'knownVersions'
  | 'recordVersions'
  | 'markRemoved'
  | 'countVersions'
  | 'pendingAnnouncements'
  | 'claimAnnouncement'
  | 'markPosted'
  | 'markRetry'
  | 'markFailed'
  | 'settleInterruptedPosts'
>;

export interface ScanPorts {
  publishers: PublisherSpec[];
  scan(publishDir: string, opts: { stages: string[]; settleSeconds: number; skip: { has(version: string): boolean } }): Promise<ScanOutput>;
  state: ScanState;
  /** Posts one announcement; resolves with the message ts, rejects when Slack said no. */
  announce(channel: string, what: VersionAnnouncement): Promise<{ ts: string }>;
  /** How to settle a failed post (default: retry). */
  classifyPostFailure?(error: unknown): PostFailure;
  /** Called after versions were recorded or vanished (the catalog drops its cache). */
  onVersionsChanged?: () => void;
  now?: () => Date;
  log?: {
    info(obj: object, msg: string): void;
    warn(obj: object, msg: string): void;
    error(obj: object, msg: string): void;
  };
}

export interface ScanSummary {
  at: string;
  /** Complete versions newly recorded in this pass. */
  recorded: number;
  announced: number;
  failedPosts: number;
  /** Versions seen but not complete yet (still writing or settling), per publisher. */
  pending: { publisher: string; version: PublishedVersion }[];
  problems: string[];
}

export interface ScanStatus {
  lastScanAt: string | null;
  scans: number;
  versions: number;
}

/** A post Slack took whose settlement could not be written yet (state unwritable): retried each scan. */
interface UnsettledPost {
  key: AnnouncementKey;
  outcome: { status: 'posted'; ts: string } | { status: 'retry' | 'failed'; error: string };
}

/**
 * Scan every publisher's publish dir, record versions that became complete, and announce each
 * exactly once per channel. Scans never overlap: a trigger during a scan queues one more pass.
 */
export class ScanAndAnnounce {
  private running: Promise<ScanSummary> | null = null;
  private again = false;
  private lastScanAt: string | null = null;
  private versionCount = 0;
  private scans = 0;
  /** Per publisher, what state holds (loaded once per leadership: only the leader records versions). */
  private readonly known = new Map<string, KnownVersions>();
  /** Posts left in flight by a dead process are settled first: at start-up, and on taking leadership. */
  private settleInterruptedFirst = true;
  private readonly unsettled: UnsettledPost[] = [];
  private readonly now: () => Date;

  constructor(private readonly ports: ScanPorts) {
    this.now = ports.now ?? (() => new Date());
  }

  /** Start a scan, or join the one running (and queue one more pass after it). */
  trigger(): Promise<ScanSummary> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = this.loop().finally(() => {
      this.running = null;
    });
    return this.running;
  }

  /**
   * This replica just became the leader: what another leader recorded meanwhile is read afresh,
   * and posts the previous leader left in flight are settled before anything is posted.
   */
  leadershipTaken(): void {
    this.known.clear();
    this.settleInterruptedFirst = true;
  }

  status(): ScanStatus {
    return { lastScanAt: this.lastScanAt, scans: this.scans, versions: this.versionCount };
  }

  /** Resolves when no scan is running. */
  async idle(): Promise<void> {
    while (this.running) await this.running.catch(() => undefined);
  }

  private async loop(): Promise<ScanSummary> {
    let summary: ScanSummary;
    do {
      this.again = false;
      summary = await this.scanOnce();
    } while (this.again);
    return summary;
  }

  private async scanOnce(): Promise<ScanSummary> {
    const summary: ScanSummary = { at: this.now().toISOString(), recorded: 0, announced: 0, failedPosts: 0, pending: [], problems: [] };
    if (this.settleInterruptedFirst) {
      await this.settleInterruptedPosts();
      this.settleInterruptedFirst = false;
    }
    await this.settleUnsettled();
    for (const publisher of this.ports.publishers) {
      const found = await this.scanPublisher(publisher);
      summary.recorded += found.recorded;
      summary.pending.push(...found.pending);
      summary.problems.push(...found.problems);
    }
    const posted = await this.postPending();
    summary.announced = posted.announced;
    summary.failedPosts = posted.failed;
    if (!(await this.ports.state.initializedAt())) await this.ports.state.markInitialized(summary.at);
    this.lastScanAt = summary.at;
    this.scans++;
    if (this.scans === 1 || summary.recorded) this.versionCount = await this.ports.state.countVersions();
    return summary;
  }

  private async knownOf(publisher: string): Promise<KnownVersions> {
    let known = this.known.get(publisher);
    if (!known) this.known.set(publisher, (known = await this.ports.state.knownVersions(publisher)));
    return known;
  }

  private async scanPublisher(publisher: PublisherSpec): Promise<Pick<ScanSummary, 'recorded' | 'pending' | 'problems'>> {
    const known = await this.knownOf(publisher.name);
    // A publisher never scanned before (first start, or newly configured): its history is recorded silently.
    const firstSight = !(await this.ports.state.publisherKnown(publisher.name));
    const result = await this.ports.scan(publisher.publishDir, {
      stages: publisher.stages,
      settleSeconds: publisher.settleSeconds,
      skip: known,
    });
    const at = this.now().toISOString();
    const completed = result.versions.filter((v) => v.complete && !known.has(v.version));
    // One transaction: a first start killed part-way has recorded all of the history or none of it.
    await this.ports.state.recordVersions(publisher.name, completed.map(toNewVersion), { channels: publisher.channels, silent: firstSight, at });
    for (const v of completed) known.set(v.version, { removed: false });

    const { vanished, returned } = presenceChanges(known, result.present);
    await this.ports.state.markRemoved(publisher.name, vanished, at);
    await this.ports.state.markRemoved(publisher.name, returned, null);
    for (const name of vanished) known.set(name, { removed: true });
    for (const name of returned) known.set(name, { removed: false });

    if (completed.length || vanished.length || returned.length) this.ports.onVersionsChanged?.();
    for (const v of completed) {
      this.ports.log?.info({ publisher: publisher.name, version: v.version, silent: firstSight }, 'version complete');
    }
    return {
      recorded: completed.length,
      pending: result.versions.filter((v) => !v.complete).map((version) => ({ publisher: publisher.name, version })),
      problems: result.problems.map((p) => `${publisher.name}: ${p}`),
    };
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

  /** Outcomes of posts whose write failed earlier (state was unwritable): write them now. */
  private async settleUnsettled(): Promise<void> {
    while (this.unsettled.length) {
      await this.writeOutcome(this.unsettled[0]!);
      this.unsettled.shift();
    }
  }

  private async writeOutcome({ key, outcome }: UnsettledPost): Promise<void> {
    const at = this.now().toISOString();
    if (outcome.status === 'posted') await this.ports.state.markPosted(key, outcome.ts, at);
    else if (outcome.status === 'failed') await this.ports.state.markFailed(key, outcome.error, at);
    else await this.ports.state.markRetry(key, outcome.error, at);
  }

  private async postPending(): Promise<{ announced: number; failed: number }> {
    let announced = 0;
    let failed = 0;
    // A version deleted before its post went out is not announced (state leaves it pending, in case it returns).
    for (const task of await this.ports.state.pendingAnnouncements()) {
      const { channel, version } = task;
      const key = { publisher: version.publisher, version: version.version, channel };
      // Claimed (in_flight, committed) before sending: a crash mid-post must never lead to a second post.
      if (!(await this.ports.state.claimAnnouncement(key, this.now().toISOString()))) continue;
      let outcome: UnsettledPost['outcome'];
      let stop = false;
      try {
        const { ts } = await this.ports.announce(channel, { publisher: version.publisher, version });
        outcome = { status: 'posted', ts };
        announced++;
      } catch (error) {
        const reason = error instanceof Error ? error.message : String(error);
        const kind = this.ports.classifyPostFailure?.(error) ?? 'retry';
        stop = kind === 'stop';
        outcome = { status: kind === 'failed' ? 'failed' : 'retry', error: reason };
        this.ports.log?.warn(
          { publisher: version.publisher, version: version.version, channel, err: reason },
          kind === 'failed' ? 'announcement refused by Slack; not retried' : 'announcement failed; will retry on next scan',
        );
        failed++;
      }
      try {
        await this.writeOutcome({ key, outcome });
      } catch (error) {
        if (!(error instanceof StateUnwritableError)) throw error;
        // Slack has the post; state says in_flight, which is never re-sent. Write it when we can.
        this.unsettled.push({ key, outcome });
        throw error;
      }
      if (stop) break;
    }
    return { announced, failed };
  }
}

/** Known versions whose dir disappeared, or came back, since they were last seen. */
function presenceChanges(known: KnownVersions, present: readonly string[]): { vanished: string[]; returned: string[] } {
  const returned: string[] = [];
  let listedActive = 0;
  for (const name of present) {
    const entry = known.get(name);
    if (!entry) continue;
    if (entry.removed) returned.push(name);
    else listedActive++;
  }
  let active = 0;
  for (const entry of known.values()) if (!entry.removed) active++;
  if (listedActive === active) return { vanished: [], returned };
  const listed = new Set(present);
  const vanished: string[] = [];
  for (const [name, entry] of known) if (!entry.removed && !listed.has(name)) vanished.push(name);
  return { vanished, returned };
}

/** What the state keeps of a complete version: no columns (diff reads them from disk). */
export function toNewVersion(v: PublishedVersion): NewVersion {
  return {
    version: v.version,
    stages: v.stages,
    modules: v.modules.map((m) => ({ fqn: m.fqn, stage: m.stage, bytes: m.bytes })),
    bytes: v.bytes,
    completedAt: new Date(v.completedAtMs ?? Date.now()).toISOString(),
  };
}
