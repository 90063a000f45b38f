import type { PublishedVersion } from '../domain/types.ts';
import type { NewVersion } from '../domain/records.ts';
import { performance } from 'node:perf_hooks';
import { CoalescedRun } from './coalescedRun.ts';
import type { Metrics } from './metrics.ts';
import { scanSource, type PublishSources, type ScanResult } from './publishSource.ts';
import type { StatePort } from './statePort.ts';
import type { PublisherSpec } from './topology.ts';

export type VersionScanState = Pick<StatePort, 'initializedAt' | 'markInitialized' | 'publisherKnown' | 'eachKnownVersion' | 'recordVersions' | 'markRemoved' | 'countVersions'>;

export interface VersionScanPorts {
  publishers: PublisherSpec[];
  /** The store behind each publisher's publishDir (a mounted dir, HDFS, S3: the same to this use case). */
  sources: PublishSources;
  /** Scan time and outcome, versions known and pending, per publisher. */
  metrics?: Pick<Metrics, 'scanned' | 'versionCounts'>;
  /** Told what each publisher's listing could not read or refused (for /healthz). */
  onPublisherScanned?: (publisher: PublisherSpec, result: ScanResult) => void;
  state: VersionScanState;
  /** Called after versions were recorded or vanished (the catalog drops its cache). */
  onVersionsChanged?: () => void;
  /** Called with each pass's summary, before its posts go out (main points the file watchers at unfinished versions). */
  onScanned?: (summary: VersionScanSummary) => void;
  now?: () => Date;
  log?: { info(obj: object, msg: string): void };
}

export interface VersionScanSummary {
  at: string;
  /** Complete versions newly recorded in this pass (their announcements wait in state as pending). */
  recorded: number;
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
 * Scans every publisher's publish dir and records the versions that became complete, with their
 * announcements as pending rows in the same transaction (AnnouncementDelivery posts them).
 * Passes never overlap: a trigger during one queues one more.
 */
export class VersionScan extends CoalescedRun<VersionScanSummary> {
  private lastScanAt: string | null = null;
  private versionCount = 0;
  private scans = 0;
  /** Numbers each listing of a publish dir (PresenceCheck stamps). */
  private listings = 0;
  /** Per publisher, what state holds (loaded once per leadership: only the leader records versions). */
  private readonly known = new Map<string, KnownVersions>();
  private readonly now: () => Date;

  constructor(private readonly ports: VersionScanPorts) {
    super();
    this.now = ports.now ?? (() => new Date());
  }

  /** This replica just became the leader: what another leader recorded meanwhile is read afresh. */
  leadershipTaken(): void {
    this.known.clear();
  }

  status(): ScanStatus {
    return { lastScanAt: this.lastScanAt, scans: this.scans, versions: this.versionCount };
  }

  protected async pass(): Promise<VersionScanSummary> {
    const summary: VersionScanSummary = { at: this.now().toISOString(), recorded: 0, pending: [], problems: [] };
    for (const publisher of this.ports.publishers) {
      const found = await this.measured(publisher);
      summary.recorded += found.recorded;
      summary.pending.push(...found.pending);
      summary.problems.push(...found.problems);
    }
    if (!(await this.ports.state.initializedAt())) await this.ports.state.markInitialized(summary.at);
    this.lastScanAt = summary.at;
    this.scans++;
    if (this.scans === 1 || summary.recorded) this.versionCount = await this.ports.state.countVersions();
    this.ports.onScanned?.(summary);
    return summary;
  }

  private async measured(publisher: PublisherSpec): Promise<Omit<VersionScanSummary, 'at'> & { listedAll: boolean }> {
    const started = performance.now();
    const seconds = () => (performance.now() - started) / 1000;
    try {
      const found = await this.scanPublisher(publisher);
      this.ports.metrics?.scanned(publisher.name, seconds(), found.listedAll ? 'ok' : 'partial');
      return found;
    } catch (error) {
      this.ports.metrics?.scanned(publisher.name, seconds(), 'failed');
      throw error;
    }
  }

  private async knownOf(publisher: string): Promise<KnownVersions> {
    let known = this.known.get(publisher);
    if (!known) {
      const loaded: KnownVersions = new Map();
      await this.ports.state.eachKnownVersion(publisher, (version, removed) => loaded.set(version, removed ? REMOVED : NOT_LISTED));
      this.known.set(publisher, (known = loaded));
    }
    return known;
  }

  private async scanPublisher(publisher: PublisherSpec): Promise<Omit<VersionScanSummary, 'at'> & { listedAll: boolean }> {
    const known = await this.knownOf(publisher.name);
    // A publisher never scanned before (first start, or newly configured): its history is recorded silently.
    const firstSight = !(await this.ports.state.publisherKnown(publisher.name));
    // Complete versions are kept only as the small records state stores (a first scan may find 100,000).
    const completed: NewVersion[] = [];
    const presence = new PresenceCheck(known, ++this.listings);
    const result = await scanSource(this.ports.sources(publisher.publishDir), {
      stages: publisher.stages,
      settleSeconds: publisher.settleSeconds,
      listed: (name) => presence.listed(name),
      // Nothing recorded for this publisher yet: its whole history is to be read.
      firstScan: known.size === 0,
      columns: false,
      onVersion: (v) => {
        if (!v.complete) return true;
        if (!known.has(v.version)) completed.push(toNewVersion(v));
        return false;
      },
    });
    this.ports.onPublisherScanned?.(publisher, result);
    // A listing cut short (the dir unreadable, a mount gone) says nothing of what was not listed.
    const vanished = result.listedAll ? presence.vanished() : [];
    const returned = presence.returned;
    const at = this.now().toISOString();
    // One transaction: a first start killed part-way has recorded all of the history or none of it.
    await this.ports.state.recordVersions(publisher.name, completed, { channels: publisher.channels, silent: firstSight, at });
    for (const v of completed) known.set(v.version, NOT_LISTED);

    await this.ports.state.markRemoved(publisher.name, vanished, at);
    await this.ports.state.markRemoved(publisher.name, returned, null);
    for (const name of vanished) known.set(name, REMOVED);
    for (const name of returned) known.set(name, NOT_LISTED);

    if (completed.length || vanished.length || returned.length) this.ports.onVersionsChanged?.();
    for (const v of completed) {
      this.ports.log?.info({ publisher: publisher.name, version: v.version, silent: firstSight }, 'version complete');
    }
    if (this.ports.metrics) {
      let present = 0;
      for (const mark of known.values()) if (mark !== REMOVED) present++;
      this.ports.metrics.versionCounts(publisher.name, present, result.versions.length);
    }
    return {
      recorded: completed.length,
      pending: result.versions.map((version) => ({ publisher: publisher.name, version })),
      problems: result.problems.map((p) => `${publisher.name}: ${p}`),
      listedAll: result.listedAll,
    };
  }

}

/**
 * Known versions of a publisher: name → REMOVED (its dir disappeared), or the number of the
 * last listing that showed it (NOT_LISTED before any). Numbers rather than objects: 100,000
 * versions take 13 MB instead of 20 MB.
 */
type KnownVersions = Map<string, number>;
const REMOVED = -1;
const NOT_LISTED = 0;

/**
 * Which known versions a listing showed, without keeping the listing: each known version
 * listed is stamped with the listing's number, so those gone are the unstamped ones, found
 * only when fewer known versions were listed than are present.
 */
class PresenceCheck {
  /** Known versions marked removed that are listed again. */
  readonly returned: string[] = [];
  private listedPresent = 0;

  constructor(
    private readonly known: KnownVersions,
    private readonly stamp: number,
  ) {}

  /** True when `name` is a known version (not read again). */
  listed(name: string): boolean {
    const mark = this.known.get(name);
    if (mark === undefined) return false;
    if (mark === REMOVED) this.returned.push(name);
    else {
      this.known.set(name, this.stamp);
      this.listedPresent++;
    }
    return true;
  }

  /** Known versions, not marked removed, that the listing did not show. */
  vanished(): string[] {
    let present = 0;
    for (const mark of this.known.values()) if (mark !== REMOVED) present++;
    if (present === this.listedPresent) return [];
    const gone: string[] = [];
    for (const [name, mark] of this.known) if (mark !== REMOVED && mark !== this.stamp) gone.push(name);
    return gone;
  }
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
