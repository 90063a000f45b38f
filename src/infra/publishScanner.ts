// Reads `<publishDir>/<version>/` trees from disk and hands them to the pure layout rules.
//
// Cost grows with what changed: versions in `skip` (already known complete) are only listed.
// Each version is read with synchronous fs calls, one version at a time, yielding to the event
// loop every few milliseconds. Why not fs.promises: every promise call is a thread-pool round
// trip (~40µs on a 2-core box), which made a full scan of 10,000 versions 3.5–6× slower than
// `find`; a version is ~30 cached-metadata syscalls, ~0.2ms synchronously, so the event loop
// (Slack acks) never waits longer than one slice.
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import type { Dirent, Stats } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { buildPublishedVersion, isHiddenName, parseEntryName, parseMetaColumns } from '../domain/publishLayout.ts';
import type { RawEntry, RawVersionDir } from '../domain/publishLayout.ts';
import type { PublishedVersion } from '../domain/types.ts';
import { VERSION_PATTERN } from '../domain/validation.ts';

export interface ScanOptions {
  /** Stage FQNs of the publisher. */
  stages: readonly string[];
  settleSeconds: number;
  /** Epoch ms the settle rule is measured against; default: when the scan starts. */
  now?: number;
  /** Version names already known complete: listed in `present`, not read. */
  skip?: { has(version: string): boolean };
}

export interface ScanResult {
  /** Versions read this time (not the skipped ones), sorted by name. */
  versions: PublishedVersion[];
  /** Every version dir name seen, including skipped ones, sorted. */
  present: string[];
  /** Why the dir or some version could not be listed; never fatal. */
  problems: string[];
}

/** Longest stretch of synchronous reading before letting other work run. */
const SLICE_MS = 8;
/** Spark output is one or two levels deep; this only guards against symlink loops. */
const MAX_DEPTH = 16;
/** `.meta`/`.schema` are a few KB; anything far bigger is not read for columns. */
const MAX_TEXT_BYTES = 4 * 1024 * 1024;

function errorText(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  return e.code ?? e.message ?? String(err);
}

type Kind = RawEntry['kind'];

/** Kind of a directory entry, following symlinks (their stat is returned to avoid a second call). */
function kindOf(absPath: string, dirent: Dirent): { kind: Kind; stat?: Stats } {
  if (dirent.isDirectory()) return { kind: 'dir' };
  if (dirent.isFile()) return { kind: 'file' };
  if (!dirent.isSymbolicLink()) return { kind: 'other' };
  const stat = fs.statSync(absPath, { throwIfNoEntry: false });
  if (stat === undefined) return { kind: 'other' };
  return { kind: stat.isDirectory() ? 'dir' : stat.isFile() ? 'file' : 'other', stat };
}

interface DirTotals {
  bytes: number;
  mtimeMs: number;
  /** `_SUCCESS` directly inside the walked directory. */
  hasSuccess: boolean;
  temporaryPaths: string[];
  /** Data files directly inside, for `.meta`/`.schema` text. */
  dataFiles: string[];
  error?: string;
}

/**
 * Walks one output directory: sizes of data files (Hadoop's rule: names not starting with `.`
 * or `_`), newest mtime, `_SUCCESS`, and every `_temporary` below. Marker and `.crc` files are
 * not stat'ed; `_temporary` trees are not walked (nothing in them can be trusted yet).
 */
function walkDir(absPath: string, relPath: string, totals: DirTotals, depth: number, dirStat?: Stats): void {
  let dirents: Dirent[];
  try {
    const stat = dirStat ?? fs.statSync(absPath);
    totals.mtimeMs = Math.max(totals.mtimeMs, stat.mtimeMs);
    dirents = fs.readdirSync(absPath, { withFileTypes: true });
  } catch (err) {
    totals.error ??= `${relPath}: ${errorText(err)}`;
    return;
  }
  for (const dirent of dirents) {
    const name = dirent.name;
    const childAbs = path.join(absPath, name);
    if (name === '_temporary' && !dirent.isFile()) {
      totals.temporaryPaths.push(`${relPath}/${name}`);
      continue;
    }
    if (depth === 0 && name === '_SUCCESS') totals.hasSuccess = true;
    if (dirent.isFile() && isHiddenName(name)) continue;
    const { kind, stat } = kindOf(childAbs, dirent);
    if (kind === 'dir') {
      if (depth < MAX_DEPTH) walkDir(childAbs, `${relPath}/${name}`, totals, depth + 1, stat);
      continue;
    }
    if (kind !== 'file' || isHiddenName(name)) continue;
    try {
      const fileStat = stat ?? fs.statSync(childAbs);
      totals.bytes += fileStat.size;
      totals.mtimeMs = Math.max(totals.mtimeMs, fileStat.mtimeMs);
      if (depth === 0) totals.dataFiles.push(childAbs);
    } catch (err) {
      totals.error ??= `${relPath}/${name}: ${errorText(err)}`;
    }
  }
}

interface EntryWithFiles {
  entry: RawEntry;
  /** Files whose concatenation is the entry's text (the plain file, or a directory's part files). */
  dataFiles: string[];
}

function readEntry(versionDir: string, dirent: Dirent): EntryWithFiles {
  const name = dirent.name;
  const absPath = path.join(versionDir, name);
  const { kind, stat } = kindOf(absPath, dirent);
  const entry: RawEntry = { name, kind, bytes: 0, mtimeMs: 0, hasSuccess: false, temporaryPaths: [] };
  if (kind === 'file') {
    try {
      const fileStat = stat ?? fs.statSync(absPath);
      entry.bytes = fileStat.size;
      entry.mtimeMs = fileStat.mtimeMs;
    } catch (err) {
      entry.readError = errorText(err);
    }
    return { entry, dataFiles: [absPath] };
  }
  if (kind !== 'dir') return { entry, dataFiles: [] };
  if (name === '_temporary') {
    entry.temporaryPaths.push(name);
    entry.mtimeMs = (stat ?? fs.statSync(absPath, { throwIfNoEntry: false }))?.mtimeMs ?? 0;
    return { entry, dataFiles: [] };
  }
  const totals: DirTotals = { bytes: 0, mtimeMs: 0, hasSuccess: false, temporaryPaths: entry.temporaryPaths, dataFiles: [] };
  walkDir(absPath, name, totals, 0, stat);
  entry.hasSuccess = totals.hasSuccess;
  entry.bytes = totals.bytes;
  entry.mtimeMs = totals.mtimeMs;
  if (totals.error !== undefined) entry.readError = totals.error;
  return { entry, dataFiles: totals.dataFiles };
}

/** Reads `.meta` texts, and `.schema` texts only for modules whose `.meta` gives no columns. */
function attachColumnTexts(read: EntryWithFiles[], problems: string[]): void {
  const byFqn = new Map<string, { meta?: EntryWithFiles; schema?: EntryWithFiles }>();
  for (const item of read) {
    if (isHiddenName(item.entry.name)) continue;
    const parsed = parseEntryName(item.entry.name);
    if (parsed === null || (parsed.ext !== 'meta' && parsed.ext !== 'schema')) continue;
    const slot = byFqn.get(parsed.fqn) ?? {};
    slot[parsed.ext] = item;
    byFqn.set(parsed.fqn, slot);
  }
  const attach = ({ entry, dataFiles }: EntryWithFiles): void => {
    if (entry.readError !== undefined || dataFiles.length === 0) return;
    if (entry.bytes > MAX_TEXT_BYTES) {
      problems.push(`${entry.name} is ${entry.bytes} bytes; too large to read columns from`);
      return;
    }
    try {
      entry.text = dataFiles
        .sort()
        .map((file) => fs.readFileSync(file, 'utf8'))
        .join('');
    } catch (err) {
      entry.readError = errorText(err);
    }
  };
  for (const { meta, schema } of byFqn.values()) {
    if (meta !== undefined) attach(meta);
    const metaGaveColumns = meta?.entry.text !== undefined && 'columns' in parseMetaColumns(meta.entry.text);
    if (schema !== undefined && !metaGaveColumns) attach(schema);
  }
}

function readVersionDirSync(publishDir: string, version: string): RawVersionDir | undefined {
  const versionDir = path.join(publishDir, version);
  let dirents: Dirent[];
  let mtimeMs: number;
  try {
    const stat = fs.statSync(versionDir, { throwIfNoEntry: false });
    if (stat === undefined) return undefined;
    mtimeMs = stat.mtimeMs;
    dirents = fs.readdirSync(versionDir, { withFileTypes: true });
  } catch (err) {
    return { version, mtimeMs: 0, entries: [], readErrors: [`${version} could not be read: ${errorText(err)}`] };
  }
  const read = dirents.map((d) => readEntry(versionDir, d));
  const readErrors: string[] = [];
  attachColumnTexts(read, readErrors);
  return { version, mtimeMs, entries: read.map((r) => r.entry), readErrors };
}

/** Reads one version dir without interpreting it; undefined when it does not exist. */
export async function readVersionDir(publishDir: string, version: string): Promise<RawVersionDir | undefined> {
  return readVersionDirSync(publishDir, version);
}

/** Reads and interprets one version; undefined when `<publishDir>/<version>` does not exist. */
export async function scanVersion(
  publishDir: string,
  version: string,
  opts: Omit<ScanOptions, 'skip'>,
): Promise<PublishedVersion | undefined> {
  const raw = readVersionDirSync(publishDir, version);
  if (raw === undefined) return undefined;
  return buildPublishedVersion(raw, { stages: opts.stages, settleSeconds: opts.settleSeconds, now: opts.now ?? Date.now() });
}

/** Version dir names under publishDir; hidden names skipped, invalid names reported. */
function listVersionNames(publishDir: string, dirents: Dirent[], problems: string[]): string[] {
  const names: string[] = [];
  for (const dirent of dirents) {
    const name = dirent.name;
    if (isHiddenName(name)) continue;
    if (kindOf(path.join(publishDir, name), dirent).kind !== 'dir') continue;
    if (!VERSION_PATTERN.test(name)) {
      problems.push(`ignored ${path.join(publishDir, name)}: ${JSON.stringify(name)} is not a valid version name`);
      continue;
    }
    names.push(name);
  }
  return names.sort();
}

/**
 * Lists `<publishDir>` and reads every version dir not in `skip`. A missing or unreadable
 * publishDir is reported in `problems` (it may simply not exist yet), never thrown.
 */
export async function scanPublishDir(publishDir: string, opts: ScanOptions): Promise<ScanResult> {
  const now = opts.now ?? Date.now();
  const problems: string[] = [];
  let dirents: Dirent[];
  try {
    // One call, but 10,000 entries: off the event loop, so commands are acked meanwhile.
    dirents = await fsp.readdir(publishDir, { withFileTypes: true });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'does not exist (yet)' : `could not be read: ${errorText(err)}`;
    return { versions: [], present: [], problems: [`publishDir ${publishDir} ${why}`] };
  }
  const present = listVersionNames(publishDir, dirents, problems);
  const layout = { stages: opts.stages, settleSeconds: opts.settleSeconds, now };
  const versions: PublishedVersion[] = [];
  let sliceStart = performance.now();
  for (const version of present) {
    if (opts.skip?.has(version)) continue;
    if (performance.now() - sliceStart > SLICE_MS) {
      await yieldToEventLoop();
      sliceStart = performance.now();
    }
    // Gone since listing (e.g. deleted by the publisher): nothing to report.
    const raw = readVersionDirSync(publishDir, version);
    if (raw !== undefined) versions.push(buildPublishedVersion(raw, layout));
  }
  return { versions, present, problems };
}
