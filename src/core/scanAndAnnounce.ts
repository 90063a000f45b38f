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
  scan(publishDir: string, opts: { stages: string[]; settleSeconds: number; skip: { has(version: string): boolean } }): Promise<ScanOutput>;
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
  /** Versions known after the last scan (for /healthz, without walking history per request). */
  private versionCount = 0;
  private scans = 0;
  private readonly now: () => Date;

  constructor(private readonly ports: ScanPorts) {
    this.now = ports.now ?? (() => new Date());
    this.versionCount = this.countVersions();
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

  private countVersions(): number {
    let count = 0;
    const { publishers } = this.ports.state.data;
    for (const name in publishers) for (const _ in publishers[name]!.versions) count++;
    return count;
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
    this.versionCount = this.countVersions();
    return summary;
  }

  private async scanPublisher(publisher: PublisherSpec): Promise<Pick<ScanSummary, 'recorded' | 'pending' | 'problems'>> {
    const known = this.ports.state.data.publishers[publisher.name]?.versions ?? {};
    // A publisher never scanned before (first start, or newly configured): its history is recorded silently.
    const firstSight = this.ports.state.data.publishers[publisher.name] === undefined;
    const result = await this.ports.scan(publisher.publishDir, {
      stages: publisher.stages,
      settleSeconds: publisher.settleSeconds,
      skip: { has: (version) => Object.hasOwn(known, version) },
    });
    const completed = result.versions.filter((v) => v.complete && !Object.hasOwn(known, v.version));
    const at = this.now().toISOString();
    const { vanished, returned } = presenceChanges(known, result.present);

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
    // Runs on every scan over all history: plain loops, no per-version arrays.
    const { publishers } = this.ports.state.data;
    for (const publisher in publishers) {
      const versions = publishers[publisher]!.versions;
      for (const name in versions) {
        const version = versions[name]!;
        for (const channel in version.announcements) {
          const announcement = version.announcements[channel]!;
          if (test(announcement)) out.push({ publisher, version, channel, announcement });
        }
      }
    }
    // Oldest first, so announcements reach channels in publish order.
    return out.sort((a, b) => (a.version.completedAt < b.version.completedAt ? -1 : a.version.completedAt > b.version.completedAt ? 1 : 0));
  }
}

/**
 * Known versions whose dir disappeared, or came back, since they were last seen. One pass over
 * the listing; the pass over history only happens when the counts say something vanished.
 */
function presenceChanges(known: Readonly<Record<string, StoredVersion>>, present: readonly string[]): { vanished: StoredVersion[]; returned: StoredVersion[] } {
  const returned: StoredVersion[] = [];
  let listedActive = 0;
  for (const name of present) {
    if (!Object.hasOwn(known, name)) continue;
    const stored = known[name]!;
    if (stored.removedAt) returned.push(stored);
    else listedActive++;
  }
  let active = 0;
  for (const name in known) if (!known[name]!.removedAt) active++;
  if (listedActive === active) return { vanished: [], returned };
  const listed = new Set(present);
  const vanished = Object.values(known).filter((v) => !v.removedAt && !listed.has(v.version));
  return { vanished, returned };
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
