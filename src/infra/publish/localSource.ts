// The mounted publish dir as a PublishSource: reads `<publishDir>/<version>/` trees from disk.
//
// Cost grows with what changed: versions known complete are only listed, never read or kept.
// All reading goes through publishWalker: symlinks never lead out of the publish dir, loops,
// FIFOs and devices are skipped, depth, entries and text sizes are capped, and the walk yields
// to the event loop every few milliseconds (inside a version too).
import fs from 'node:fs';
import type { Dir, Dirent, Stats } from 'node:fs';
import path from 'node:path';
import { isHiddenName, parseEntryName, parseMetaColumns } from '../../domain/publishLayout.ts';
import type { RawEntry, RawVersionDir } from '../../domain/publishLayout.ts';
import type { Described, DescribeOptions, ListOutcome, PublishSource, SourceTrouble, SourceWatcher } from '../../core/publishSource.ts';
import { VERSION_PATTERN } from '../../domain/validation.ts';
import {
  childPath,
  DEFAULT_WALK_LIMITS,
  readSeenFiles,
  resolveEntry,
  resolveRoot,
  Slicer,
  DirSizeTrust,
  VersionWalk,
  type PublishRoot,
  type ScanContext,
  type SeenFile,
  type SkippedEntry,
  type WalkLimits,
} from './publishWalker.ts';

import { watchPublishDir } from './publishWatcher.ts';

export type { SkippedEntry, WalkLimits } from './publishWalker.ts';

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

/** A version dir name if this top-level entry is one; hidden names skipped, invalid names and unsafe links reported. */
function versionName(root: PublishRoot, dirent: Dirent, notes: string[], skipped: SkippedEntry[]): string | null {
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
    notes.push(`ignored ${path.join(root.dir, name)}: ${JSON.stringify(name)} is not a valid version name`);
    return null;
  }
  return name;
}

/** Why publishDir could not be listed, by kind and in words for /healthz. */
function listingTrouble(publishDir: string, err: unknown): SourceTrouble {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return { kind: 'not-found', detail: `publishDir ${publishDir} does not exist (yet)` };
  const kind = code === 'EACCES' || code === 'EPERM' ? 'permission' : 'unreadable';
  return { kind, detail: `publishDir ${publishDir} could not be read: ${errorText(err)}` };
}

/**
 * A publish dir mounted on the bot's machine. What every version of one source shares: the caps,
 * the time slices (one slicer, so a run of small versions still yields) and what is known of the devices.
 */
export class LocalPublishSource implements PublishSource {
  readonly where: string;
  private readonly limits: WalkLimits;
  private readonly slicer: Slicer;
  private readonly sizeTrust: DirSizeTrust;

  constructor(
    private readonly dir: string,
    limits: Partial<WalkLimits> = {},
  ) {
    this.where = dir;
    this.limits = { ...DEFAULT_WALK_LIMITS, ...limits };
    this.slicer = new Slicer(this.limits.sliceMs);
    this.sizeTrust = new DirSizeTrust(this.limits.wholeDirBytes);
  }

  private context(root: PublishRoot): ScanContext {
    return { root, limits: this.limits, slicer: this.slicer, sizeTrust: this.sizeTrust };
  }

  /**
   * The listing is a stream handed to `onName` name by name, not an array: a publish dir of
   * 100,000 versions is listed on every scan, and holding it whole made each scan leave megabytes
   * of garbage that outlived the young generation (the process grew by 100 MB over ten scans).
   */
  async listVersions(onName: (version: string) => void): Promise<ListOutcome> {
    const notes: string[] = [];
    const skipped: SkippedEntry[] = [];
    let root: PublishRoot;
    let dir: Dir;
    try {
      root = await resolveRoot(this.dir);
      dir = fs.opendirSync(root.real, { bufferSize: 1024 });
    } catch (err) {
      return { listedAll: false, troubles: [listingTrouble(this.dir, err)], notes, skipped };
    }
    try {
      for (let dirent = dir.readSync(); dirent !== null; dirent = dir.readSync()) {
        const name = versionName(root, dirent, notes, skipped);
        if (name !== null) onName(name);
        if (this.slicer.due()) await this.slicer.yield();
      }
    } catch (err) {
      return { listedAll: false, troubles: [listingTrouble(this.dir, err)], notes, skipped };
    } finally {
      dir.closeSync();
    }
    return { listedAll: true, troubles: [], notes, skipped };
  }

  async describeVersion(version: string, opts: DescribeOptions): Promise<Described> {
    // Only names a version may have: no `..`, no separators, nothing to escape the dir with.
    if (!VERSION_PATTERN.test(version)) return { skipped: [] };
    if (this.slicer.due()) await this.slicer.yield();
    const root = await resolveRoot(this.dir).catch(() => undefined);
    if (root === undefined) return { skipped: [] };
    return readVersionTree(this.context(root), version, opts.columns);
  }

  watch(onChange: () => void, onProblems: (problems: string[]) => void): SourceWatcher {
    return watchPublishDir(this.dir, onChange, { onProblems });
  }
}
