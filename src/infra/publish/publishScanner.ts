// Reads `<publishDir>/<version>/` trees from disk and hands them to the pure layout rules.
//
// Cost grows with what changed: versions known complete are only listed, never read or kept.
// All reading goes through publishWalker: symlinks never lead out of the publish dir, loops,
// FIFOs and devices are skipped, depth, entries and text sizes are capped, and the walk yields
// to the event loop every few milliseconds (inside a version too).
import fs from 'node:fs';
import type { Dir, Dirent, Stats } from 'node:fs';
import path from 'node:path';
import { buildPublishedVersion, isHiddenName, parseEntryName, parseMetaColumns } from '../../domain/publishLayout.ts';
import type { RawEntry, RawVersionDir } from '../../domain/publishLayout.ts';
import type { PublishedVersion } from '../../domain/types.ts';
import { VERSION_PATTERN } from '../../domain/validation.ts';
import {
  childPath,
  DEFAULT_WALK_LIMITS,
  readSeenFiles,
  resolveEntry,
  resolveRoot,
  scanContext,
  VersionWalk,
  type PublishRoot,
  type ScanContext,
  type SeenFile,
  type SkippedEntry,
  type WalkLimits,
} from './publishWalker.ts';

export type { SkippedEntry, WalkLimits } from './publishWalker.ts';

export interface ScanOptions {
  /** Stage FQNs of the publisher. */
  stages: readonly string[];
  settleSeconds: number;
  /** Epoch ms the settle rule is measured against; default: when the scan starts. */
  now?: number;
  /** Told of every version dir name as it is listed; answering true (known complete) means it is not read. */
  listed?: (version: string) => boolean;
  /** Caps; tests lower them. */
  limits?: Partial<WalkLimits>;
  /** Read `.meta`/`.schema` for columns (default true). Recording versions needs none: `find`-like cost. */
  columns?: boolean;
  /**
   * Told of each version as it is read; when it answers false the version is not kept in
   * `versions` (the caller keeps what it needs), so memory does not grow with a first scan of history.
   */
  onVersion?: (version: PublishedVersion) => boolean;
}

export interface ScanResult {
  /** Versions read this time (not the skipped ones), sorted by name. */
  versions: PublishedVersion[];
  /** False when publishDir could not be listed to the end: a version not listed is not known to be gone. */
  listedAll: boolean;
  /** Why the dir or some version could not be listed; never fatal. */
  problems: string[];
  /** Entries refused as unsafe this scan (paths relative to the publish dir), in walk order. */
  skipped: SkippedEntry[];
}

function errorText(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  return e.code ?? e.message ?? String(err);
}

interface DirTotals {
  bytes: number;
  mtimeMs: number;
  /** `_SUCCESS` directly inside the walked directory. */
  hasSuccess: boolean;
  temporaryPaths: string[];
  /** Data files directly inside, for `.meta`/`.schema` text. */
  dataFiles: SeenFile[];
  error?: string;
}

const seen = (abs: string, stat: { dev: number; ino: number; size: number }): SeenFile => ({ abs, dev: stat.dev, ino: stat.ino, size: stat.size });

/**
 * Walks one output directory: sizes of data files (Hadoop's rule: names not starting with `.`
 * or `_`), newest mtime, `_SUCCESS`, and every `_temporary` below. Marker and `.crc` files are
 * not stat'ed; `_temporary` trees are not walked (nothing in them can be trusted yet).
 */
async function walkDir(walk: VersionWalk, absPath: string, stat: Stats, relPath: string, totals: DirTotals, depth: number): Promise<void> {
  const listed = await walk.list(absPath, stat, relPath);
  if ('error' in listed) {
    totals.error ??= `${relPath}: ${listed.error}`;
    return;
  }
  for (const dirent of listed.dirents) {
    const name = dirent.name;
    const childRel = `${relPath}/${name}`;
    if (name === '_temporary' && !dirent.isFile()) {
      totals.temporaryPaths.push(childRel);
      continue;
    }
    if (depth === 0 && name === '_SUCCESS') totals.hasSuccess = true;
    if (dirent.isFile() && isHiddenName(name)) continue;
    if (walk.slicer.due()) await walk.slicer.yield();
    const resolved = resolveEntry(walk.root, childPath(absPath, name), dirent);
    if (resolved.kind === 'unsafe') {
      walk.skip(childRel, resolved.reason);
      continue;
    }
    if (resolved.kind === 'dir') {
      if (depth >= walk.limits.maxDepth) walk.skip(childRel, `is deeper than ${walk.limits.maxDepth} levels; not read`);
      else if (walk.enter(resolved.stat, childRel)) {
        totals.mtimeMs = Math.max(totals.mtimeMs, resolved.stat.mtimeMs);
        await walkDir(walk, resolved.abs, resolved.stat, childRel, totals, depth + 1);
      }
      continue;
    }
    if (resolved.kind !== 'file' || isHiddenName(name)) continue;
    totals.bytes += resolved.stat.size;
    totals.mtimeMs = Math.max(totals.mtimeMs, resolved.stat.mtimeMs);
    if (depth === 0) totals.dataFiles.push(seen(resolved.abs, resolved.stat));
  }
}

interface EntryWithFiles {
  entry: RawEntry;
  /** Files whose concatenation is the entry's text (the plain file, or a directory's part files). */
  dataFiles: SeenFile[];
}

async function readEntry(walk: VersionWalk, versionDir: string, version: string, dirent: Dirent): Promise<EntryWithFiles> {
  const name = dirent.name;
  const resolved = resolveEntry(walk.root, childPath(versionDir, name), dirent);
  const entry: RawEntry = { name, kind: 'other', bytes: 0, mtimeMs: 0, hasSuccess: false, temporaryPaths: [] };
  if (resolved.kind === 'unsafe') {
    walk.skip(`${version}/${name}`, resolved.reason);
    entry.unsafe = resolved.reason;
    return { entry, dataFiles: [] };
  }
  if (resolved.kind === 'other') return { entry, dataFiles: [] };
  entry.kind = resolved.kind;
  entry.mtimeMs = resolved.stat.mtimeMs;
  if (resolved.kind === 'file') {
    entry.bytes = resolved.stat.size;
    return { entry, dataFiles: [seen(resolved.abs, resolved.stat)] };
  }
  if (name === '_temporary') {
    entry.temporaryPaths.push(name);
    return { entry, dataFiles: [] };
  }
  if (!walk.enter(resolved.stat, `${version}/${name}`)) {
    entry.kind = 'other';
    entry.unsafe = 'leads back to a directory already read (a symlink loop)';
    return { entry, dataFiles: [] };
  }
  const totals: DirTotals = { bytes: 0, mtimeMs: resolved.stat.mtimeMs, hasSuccess: false, temporaryPaths: entry.temporaryPaths, dataFiles: [] };
  await walkDir(walk, resolved.abs, resolved.stat, `${version}/${name}`, totals, 0);
  entry.hasSuccess = totals.hasSuccess;
  entry.bytes = totals.bytes;
  entry.mtimeMs = totals.mtimeMs;
  if (totals.error !== undefined) entry.readError = totals.error.slice(version.length + 1);
  return { entry, dataFiles: totals.dataFiles };
}

/** Reads `.meta` texts, and `.schema` texts only for modules whose `.meta` gives no columns. */
function attachColumnTexts(read: EntryWithFiles[], walk: VersionWalk): void {
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
    const sorted = [...dataFiles].sort((a, b) => (a.abs < b.abs ? -1 : a.abs > b.abs ? 1 : 0));
    const result = readSeenFiles(sorted, walk.limits.maxTextBytes);
    // Not read (over the cap, changed meanwhile): the layout rules report it, and a `.meta` not read
    // leaves its data-quality verdict unknown, never passed. The version itself is still complete.
    if ('text' in result) entry.text = result.text;
    else entry.textError = result.error;
  };
  for (const { meta, schema } of byFqn.values()) {
    if (meta !== undefined) attach(meta);
    const metaGaveColumns = meta?.entry.text !== undefined && 'columns' in parseMetaColumns(meta.entry.text);
    if (schema !== undefined && !metaGaveColumns) attach(schema);
  }
}

async function readVersionTree(
  scan: ScanContext,
  version: string,
  columns = true,
): Promise<{ raw?: RawVersionDir; skipped: SkippedEntry[] }> {
  const root = scan.root;
  const walk = new VersionWalk(scan);
  const resolved = resolveEntry(root, path.join(root.real, version));
  if (resolved.kind === 'other') return { skipped: [] };
  if (resolved.kind === 'unsafe' || resolved.kind === 'file') {
    // Listing already refused these; a version named directly (adopt, diff) lands here.
    if (resolved.kind === 'unsafe') walk.skip(version, resolved.reason);
    return { raw: { version, mtimeMs: 0, entries: [], readErrors: [], unsafe: walk.skipped.map(describe) }, skipped: walk.skipped };
  }
  walk.enter(resolved.stat, version);
  const listed = await walk.list(resolved.abs, resolved.stat, version);
  if ('error' in listed) {
    return { raw: { version, mtimeMs: 0, entries: [], readErrors: [`${version} could not be read: ${listed.error}`] }, skipped: walk.skipped };
  }
  const read: EntryWithFiles[] = [];
  for (const dirent of listed.dirents) read.push(await readEntry(walk, resolved.abs, version, dirent));
  const readErrors: string[] = [];
  if (columns) attachColumnTexts(read, walk);
  const raw: RawVersionDir = { version, mtimeMs: resolved.stat.mtimeMs, entries: read.map((r) => r.entry), readErrors };
  if (walk.skipped.length) raw.unsafe = walk.skipped.map(describe);
  return { raw, skipped: walk.skipped };
}

/** `TCD.x/a.csv/l1: is a symbolic link loop…` without the version prefix (the version says it). */
function describe(s: SkippedEntry): string {
  const slash = s.path.indexOf('/');
  return `${slash < 0 ? '(version dir)' : s.path.slice(slash + 1)} ${s.reason}`;
}

function limitsOf(opts: { limits?: Partial<WalkLimits> }): WalkLimits {
  return { ...DEFAULT_WALK_LIMITS, ...opts.limits };
}

/** Reads and interprets one version; undefined when `<publishDir>/<version>` does not exist. */
export async function scanVersion(
  publishDir: string,
  version: string,
  opts: Omit<ScanOptions, 'listed'>,
): Promise<PublishedVersion | undefined> {
  // Only names a version may have: no `..`, no separators, nothing to escape the dir with.
  if (!VERSION_PATTERN.test(version)) return undefined;
  const root = await resolveRoot(publishDir).catch(() => undefined);
  if (root === undefined) return undefined;
  const { raw } = await readVersionTree(scanContext(root, limitsOf(opts)), version);
  if (raw === undefined) return undefined;
  return buildPublishedVersion(raw, { stages: opts.stages, settleSeconds: opts.settleSeconds, now: opts.now ?? Date.now() });
}

/** A version dir name if this top-level entry is one; hidden names skipped, invalid names and unsafe links reported. */
function versionName(root: PublishRoot, dirent: Dirent, problems: string[], skipped: SkippedEntry[]): string | null {
  const name = dirent.name;
  if (isHiddenName(name)) return null;
  if (dirent.isSymbolicLink()) {
    const resolved = resolveEntry(root, childPath(root.real, name), dirent);
    if (resolved.kind === 'unsafe') {
      skipped.push({ path: name, reason: resolved.reason });
      return null;
    }
    if (resolved.kind !== 'dir') return null;
  } else if (!dirent.isDirectory()) return null;
  if (!VERSION_PATTERN.test(name)) {
    problems.push(`ignored ${path.join(root.dir, name)}: ${JSON.stringify(name)} is not a valid version name`);
    return null;
  }
  return name;
}

/** Why publishDir could not be listed, in words for /healthz. */
function listingProblem(publishDir: string, err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  return `publishDir ${publishDir} ${code === 'ENOENT' ? 'does not exist (yet)' : `could not be read: ${errorText(err)}`}`;
}

/**
 * Lists `<publishDir>` and reads every version dir that `listed` does not answer true for. A
 * missing or unreadable publishDir is reported in `problems` (it may simply not exist yet), never thrown.
 *
 * The listing is a stream handed to `listed` name by name, not an array: a publish dir of
 * 100,000 versions is listed on every scan, and holding it whole made each scan leave megabytes
 * of garbage that outlived the young generation (the process grew by 100 MB over ten scans).
 */
export async function scanPublishDir(publishDir: string, opts: ScanOptions): Promise<ScanResult> {
  const now = opts.now ?? Date.now();
  const limits = limitsOf(opts);
  const problems: string[] = [];
  const skipped: SkippedEntry[] = [];
  let root: PublishRoot;
  let dir: Dir;
  try {
    root = await resolveRoot(publishDir);
    dir = fs.opendirSync(root.real, { bufferSize: 1024 });
  } catch (err) {
    return { versions: [], listedAll: false, problems: [listingProblem(publishDir, err)], skipped };
  }
  const scan = scanContext(root, limits);
  const slicer = scan.slicer;
  // Only versions to read are kept (new or incomplete ones): few, whatever the history.
  const toRead: string[] = [];
  let listedAll = true;
  try {
    for (let dirent = dir.readSync(); dirent !== null; dirent = dir.readSync()) {
      const name = versionName(root, dirent, problems, skipped);
      if (name !== null && opts.listed?.(name) !== true) toRead.push(name);
      if (slicer.due()) await slicer.yield();
    }
  } catch (err) {
    problems.push(listingProblem(publishDir, err));
    listedAll = false;
  } finally {
    dir.closeSync();
  }
  const layout = { stages: opts.stages, settleSeconds: opts.settleSeconds, now };
  const versions: PublishedVersion[] = [];
  for (const version of toRead.sort()) {
    if (slicer.due()) await slicer.yield();
    const read = await readVersionTree(scan, version, opts.columns !== false);
    skipped.push(...read.skipped);
    // Gone since listing (e.g. deleted by the publisher): nothing to report.
    if (read.raw === undefined) continue;
    const built = buildPublishedVersion(read.raw, layout);
    if (opts.onVersion?.(built) !== false) versions.push(built);
  }
  return { versions, listedAll, problems, skipped };
}
