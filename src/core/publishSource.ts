// The publish-source port: what the bot needs from a store holding `<publishDir>/<version>/`
// trees (a mounted dir, HDFS over WebHDFS, S3). One implementation per store lives in
// src/infra/publish/; nothing above infra knows which one it talks to. The completeness rules
// are not here: a source describes what it sees (RawVersionDir) and the domain decides.
import { buildPublishedVersion, type RawVersionDir } from '../domain/publishLayout.ts';
import type { PublishedVersion } from '../domain/types.ts';
import { VERSION_PATTERN } from '../domain/validation.ts';

/** Why a source could not be read, in the words /healthz uses for its `problems[].kind`. */
export type SourceTroubleKind = 'not-found' | 'auth' | 'permission' | 'timeout' | 'standby' | 'safe-mode' | 'throttled' | 'unavailable' | 'unreadable';

export interface SourceTrouble {
  kind: SourceTroubleKind;
  /** Human words, never holding a credential (the source redacts). */
  detail: string;
}

/** Something the source refused to follow or read, relative to the publish dir. */
export interface SkippedEntry {
  path: string;
  reason: string;
}

export interface ListOutcome {
  /** False when the listing stopped before its end: a version not listed is not known to be gone. */
  listedAll: boolean;
  troubles: SourceTrouble[];
  /** Names ignored with a reason (invalid version names). */
  notes: string[];
  skipped: SkippedEntry[];
}

export interface DescribeOptions {
  /** Read `.meta`/`.schema` text (bounded) for columns and data-quality verdicts. */
  columns: boolean;
}

export interface Described {
  /** Undefined when the version is not there (never was, or gone since listing). */
  raw?: RawVersionDir;
  skipped: SkippedEntry[];
}

export interface SourceWatcher {
  /** Watch these version dirs (still writing or settling) closely. */
  watchVersions(versions: readonly string[]): void;
  /** Ask for a scan at a given time (a version finishes settling then). */
  wakeAt(epochMs: number): void;
  close(): void;
}

export interface PublishSource {
  /** Where it is, for people: the configured location with any credential removed. */
  readonly where: string;
  /**
   * Tells `onName` each top-level name that may be a version, as the listing streams in (a
   * publish dir of 100,000 versions is listed on every scan: never held whole).
   */
  listVersions(onName: (version: string) => void): Promise<ListOutcome>;
  /** Describes one version; reads at most the bounded `.meta`/`.schema` text it needs. */
  describeVersion(version: string, opts: DescribeOptions): Promise<Described>;
  /**
   * Describes many versions from one listing where the store can (S3's flat listing), telling
   * `onEach` each one in turn; resolves with the versions it did not describe. Absent: one by one.
   */
  describeMany?: (versions: readonly string[], opts: DescribeOptions, onEach: (version: string, described: Described) => void) => Promise<string[]>;
  /**
   * Lists the versions and describes them in one pass where the store can (S3's flat listing):
   * `onName` is told each name as listVersions tells it, and the versions it answers true for are
   * described and told to `onEach`. `undescribed`: versions wanted but not told (the listing
   * failed part-way); describeVersion reads them. Absent: listVersions, then describeMany.
   */
  listAndDescribe?: (
    onName: (version: string) => boolean,
    opts: DescribeOptions,
    onEach: (version: string, described: Described) => void,
  ) => Promise<ListOutcome & { undescribed: string[] }>;
  /** Best-effort change notification; absent where the store has none (a schedule or the hook covers it). */
  watch?(onChange: () => void, onProblems: (problems: string[]) => void): SourceWatcher;
}

/** The one place above infra that turns a configured location into its source. */
export type PublishSources = (location: string) => PublishSource;

export interface ScanOptions {
  /** Stage FQNs of the publisher. */
  stages: readonly string[];
  settleSeconds: number;
  /** Epoch ms the settle rule is measured against; default: when the scan starts. */
  now?: number;
  /** Told of every version name as it is listed; answering true (known complete) means it is not read. */
  listed?: (version: string) => boolean;
  /** Read `.meta`/`.schema` for columns (default true). Recording versions needs none. */
  columns?: boolean;
  /** Told of each version as it is read; when it answers false the version is not kept in `versions`. */
  onVersion?: (version: PublishedVersion) => boolean;
  /**
   * The caller knows no version of this source yet (a first scan): where the store can, the
   * listing that names the versions reads them too (S3: one listing of every key, without a
   * listing of the version prefixes before it).
   */
  firstScan?: boolean;
}

export interface ScanResult {
  /** Versions read this time (not the skipped ones), sorted by name. */
  versions: PublishedVersion[];
  /** False when the publish dir could not be listed to the end: a version not listed is not known to be gone. */
  listedAll: boolean;
  /** Why the dir or some version could not be listed, or a name was ignored; never fatal. */
  problems: string[];
  /** Why the store could not be listed, by kind (also in `problems` as words). */
  troubles: SourceTrouble[];
  /** Entries refused as unsafe this scan (paths relative to the publish dir), in walk order. */
  skipped: SkippedEntry[];
}

/** Versions to read from which one listing of the whole dir is worth it, where the store offers one. */
const MANY_VERSIONS = 20;

/**
 * Lists a source and reads every version `listed` does not answer true for: the cost of a scan
 * that finds nothing new is the listing alone.
 */
export async function scanSource(source: PublishSource, opts: ScanOptions): Promise<ScanResult> {
  const now = opts.now ?? Date.now();
  const layout = { stages: opts.stages, settleSeconds: opts.settleSeconds, now };
  const versions: PublishedVersion[] = [];
  const skipped: SkippedEntry[] = [];
  const describe = { columns: opts.columns !== false };
  const take = (read: Described) => {
    skipped.push(...read.skipped);
    // Gone since listing (e.g. deleted by the publisher): nothing to report.
    if (read.raw === undefined) return;
    const built = buildPublishedVersion(read.raw, layout);
    if (opts.onVersion?.(built) !== false) versions.push(built);
  };
  const wanted = (name: string) => opts.listed?.(name) !== true;
  let listing: ListOutcome;
  let oneByOne: string[];
  if (opts.firstScan && source.listAndDescribe) {
    // Nothing known: listing and reading are one pass where the store can.
    const both = await source.listAndDescribe(wanted, describe, (_version, read) => take(read));
    listing = both;
    oneByOne = both.undescribed.sort();
  } else {
    // Only versions to read are kept (new or incomplete ones): few, whatever the history.
    const toRead: string[] = [];
    let listed = 0;
    listing = await source.listVersions((name) => {
      listed++;
      if (wanted(name)) toRead.push(name);
    });
    oneByOne = toRead.sort();
    // Most of the dir to read (a first scan): one listing of it all where the store can.
    if (source.describeMany && toRead.length >= MANY_VERSIONS && toRead.length * 2 >= listed) {
      oneByOne = (await source.describeMany(oneByOne, describe, (_version, read) => take(read))).sort();
    }
  }
  skipped.unshift(...listing.skipped);
  for (const version of oneByOne) take(await source.describeVersion(version, describe));
  versions.sort((a, b) => (a.version < b.version ? -1 : a.version > b.version ? 1 : 0));
  const problems = [...listing.notes, ...listing.troubles.map((t) => t.detail)];
  return { versions, listedAll: listing.listedAll, problems, troubles: listing.troubles, skipped };
}

/** Reads and interprets one version; undefined when it does not exist (or its name cannot be one). */
export async function inspectSourceVersion(
  source: PublishSource,
  version: string,
  opts: Omit<ScanOptions, 'listed' | 'onVersion'>,
): Promise<PublishedVersion | undefined> {
  // Only names a version may have: no `..`, no separators, nothing to escape the dir with.
  if (!VERSION_PATTERN.test(version)) return undefined;
  const { raw } = await source.describeVersion(version, { columns: opts.columns !== false });
  if (raw === undefined) return undefined;
  return buildPublishedVersion(raw, { stages: opts.stages, settleSeconds: opts.settleSeconds, now: opts.now ?? Date.now() });
}
