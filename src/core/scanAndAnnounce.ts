import type { PublishedVersion } from '../domain/types.ts';
import type { Announcement, StateChange, StateData, StoredVersion } from '../infra/stateStore.ts';
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
  version: StoredVersion;
}

export interface ScanPorts {
  publishers: PublisherSpec[];
  scan(publishDir: string, opts: { stages: string[]; settleSeconds: number; skip: ReadonlySet<string> }): Promise<ScanOutput>;
  state: {
    readonly data: StateData;
    /** Applies small changes and persists them (cost grows with the change, not with history). */
    apply(changes: readonly StateChange[]): Promise<void>;
  };
  /** Posts one announcement; resolves with the message ts, rejects when Slack said no. */
  announce(channel: string, what: VersionAnnouncement): Promise<{ ts: string }>;
  /** Called after new versions were recorded (the catalog drops its index). */
  onVersionsChanged?: () => void;
  now?: () => Date;
  log?: {
    info(obj: object, msg: string): void;
    warn(obj: object, msg: string): void;
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

/**
 * Scan every publisher's publish dir, record versions that became complete, and announce each
 * exactly once per channel. Scans never overlap: a trigger during a scan queues one more pass.
 */
export class ScanAndAnnounce {
  private running: Promise<ScanSummary> | null = null;
  private again = false;
  private lastScanAt: string | null = null;
  private scans = 0;
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

  status(): ScanStatus {
    let versions = 0;
    for (const p of Object.values(this.ports.state.data.publishers)) versions += Object.keys(p.versions).length;
    return { lastScanAt: this.lastScanAt, scans: this.scans, versions };
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
    await this.recoverInterruptedPosts();
    for (const publisher of this.ports.publishers) {
      const found = await this.scanPublisher(publisher);
      summary.recorded += found.recorded;
      summary.pending.push(...found.pending);
      summary.problems.push(...found.problems);
    }
    if (summary.recorded) this.ports.onVersionsChanged?.();
    const posted = await this.postPending();
    summary.announced = posted.announced;
    summary.failedPosts = posted.failed;
    if (!this.ports.state.data.initializedAt) await this.ports.state.apply([{ op: 'initialized', at: summary.at }]);
    this.lastScanAt = summary.at;
    this.scans++;
    return summary;
  }

  private async scanPublisher(publisher: PublisherSpec): Promise<Pick<ScanSummary, 'recorded' | 'pending' | 'problems'>> {
    const known = this.ports.state.data.publishers[publisher.name]?.versions ?? {};
    // A publisher never scanned before (first start, or newly configured): its history is recorded silently.
    const firstSight = this.ports.state.data.publishers[publisher.name] === undefined;
    const result = await this.ports.scan(publisher.publishDir, {
      stages: publisher.stages,
      settleSeconds: publisher.settleSeconds,
      skip: new Set(Object.keys(known)),
    });
    const completed = result.versions.filter((v) => v.complete && !known[v.version]);
    const present = new Set(result.present);
    const at = this.now().toISOString();
    const vanished = Object.values(known).filter((v) => !present.has(v.version) && !v.removedAt);
    const returned = Object.values(known).filter((v) => present.has(v.version) && v.removedAt);

    const name = publisher.name;
    const status = firstSight ? 'silent' : 'pending';
    await this.ports.state.apply([
      ...(firstSight ? [{ op: 'publisher', publisher: name } as const] : []),
      ...completed.map((v) => ({ op: 'version', publisher: name, stored: toStoredVersion(v, publisher.channels, { status, attempts: 0 }, at) }) as const),
      ...vanished.map((v) => ({ op: 'removed', publisher: name, version: v.version, at }) as const),
      ...returned.map((v) => ({ op: 'removed', publisher: name, version: v.version, at: null }) as const),
    ]);
    if (vanished.length || returned.length) this.ports.onVersionsChanged?.();
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
   * Posting again could duplicate it, so it is marked failed and left for a person to check.
   */
  private async recoverInterruptedPosts(): Promise<void> {
    if (this.scans > 0) return;
    const interrupted = this.announcementsWhere((a) => a.status === 'in_flight');
    if (!interrupted.length) return;
    const lastError = 'interrupted while posting (bot stopped); not re-posted to avoid a duplicate';
    await this.ports.state.apply(interrupted.map((p) => this.announcementChange(p, { ...p.announcement, status: 'failed', lastError })));
    for (const { publisher, version, channel } of interrupted) {
      this.ports.log?.warn({ publisher, version: version.version, channel }, 'announcement was in flight at shutdown; not re-posting');
    }
  }

  private async postPending(): Promise<{ announced: number; failed: number }> {
    let announced = 0;
    let failed = 0;
    const pending = this.announcementsWhere((a) => a.status === 'pending');
    // A version deleted before its post went out is not announced (it waits, in case it returns).
    for (const post of pending.filter((p) => !p.version.removedAt)) {
      const { publisher, version, channel, announcement } = post;
      const attempts = announcement.attempts + 1;
      // Persist "in flight" before sending: a crash mid-post must never lead to a second post.
      await this.ports.state.apply([this.announcementChange(post, { ...announcement, status: 'in_flight', attempts })]);
      try {
        const { ts } = await this.ports.announce(channel, { publisher, version });
        await this.ports.state.apply([this.announcementChange(post, { status: 'posted', ts, attempts })]);
        announced++;
      } catch (error) {
        // Slack said no (after the client's own 429/5xx retries): try again on the next scan.
        const reason = error instanceof Error ? error.message : String(error);
        await this.ports.state.apply([this.announcementChange(post, { status: 'pending', attempts, lastError: reason })]);
        this.ports.log?.warn({ publisher, version: version.version, channel, err: reason }, 'announcement failed; will retry on next scan');
        failed++;
      }
    }
    return { announced, failed };
  }

  private announcementChange(
    where: { publisher: string; version: StoredVersion; channel: string },
    announcement: Omit<Announcement, 'updatedAt'>,
  ): StateChange {
    const { publisher, version, channel } = where;
    return { op: 'announcement', publisher, version: version.version, channel, announcement: { ...announcement, updatedAt: this.now().toISOString() } };
  }

  private announcementsWhere(
    test: (a: Announcement) => boolean,
  ): { publisher: string; version: StoredVersion; channel: string; announcement: Announcement }[] {
    const out = [];
    for (const [publisher, { versions }] of Object.entries(this.ports.state.data.publishers)) {
      for (const version of Object.values(versions)) {
        for (const [channel, announcement] of Object.entries(version.announcements)) {
          if (test(announcement)) out.push({ publisher, version, channel, announcement });
        }
      }
    }
    // Oldest first, so announcements reach channels in publish order.
    return out.sort((a, b) => (a.version.completedAt < b.version.completedAt ? -1 : a.version.completedAt > b.version.completedAt ? 1 : 0));
  }
}

/** What the state keeps of a complete version: no columns (diff reads them from disk). */
export function toStoredVersion(v: PublishedVersion, channels: readonly string[], announcement: Omit<Announcement, 'updatedAt'>, at: string): StoredVersion {
  const announcements: Record<string, Announcement> = {};
  for (const channel of channels) announcements[channel] = { ...announcement, updatedAt: at };
  return {
    version: v.version,
    stages: v.stages,
    modules: v.modules.map((m) => ({ fqn: m.fqn, stage: m.stage, bytes: m.bytes })),
    bytes: v.bytes,
    completedAt: new Date(v.completedAtMs ?? Date.parse(at)).toISOString(),
    recordedAt: at,
    announcements,
  };
}
