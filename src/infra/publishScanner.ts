// Reads `<publishDir>/<version>/` trees from disk and hands them to the pure layout rules.
// Cost grows with what changed: versions in `skip` (already known complete) are only listed.
import fsp from 'node:fs/promises';
import type { Dirent, Stats } from 'node:fs';
import path from 'node:path';
import {
  buildPublishedVersion,
  isHiddenName,
  parseEntryName,
  parseMetaColumns,
} from '../domain/publishLayout.ts';
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
  skip?: ReadonlySet<string>;
  /** Versions read at the same time. Default 64. */
  concurrency?: number;
}

export interface ScanResult {
  /** Versions read this time (not the skipped ones), sorted by name. */
  versions: PublishedVersion[];
  /** Every version dir name seen, including skipped ones, sorted. */
  present: string[];
  /** Why the dir or some entry could not be read; never fatal. */
  problems: string[];
}

const DEFAULT_CONCURRENCY = 64;
/** Spark output is one or two levels deep; this only guards against symlink loops. */
const MAX_DEPTH = 16;

function errorText(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  return e.code ?? e.message ?? String(err);
}

/** Follows a symlink so an entry linked from elsewhere counts like the real thing. */
async function resolveKind(absPath: string, dirent: Dirent): Promise<{ kind: RawEntry['kind']; stat?: Stats }> {
  if (dirent.isDirectory()) return { kind: 'dir' };
  if (dirent.isFile()) return { kind: 'file' };
  if (!dirent.isSymbolicLink()) return { kind: 'other' };
  try {
    const stat = await fsp.stat(absPath);
    return { kind: stat.isDirectory() ? 'dir' : stat.isFile() ? 'file' : 'other', stat };
  } catch {
    return { kind: 'other' };
  }
}

interface DirTotals {
  bytes: number;
  mtimeMs: number;
  temporaryPaths: string[];
  /** `_SUCCESS` directly inside the walked directory. */
  hasSuccess: boolean;
  /** Data files directly inside, for `.meta`/`.schema` text. */
  dataFiles: string[];
  error?: string;
}

/**
 * Walks one output directory: sizes of data files (Hadoop's rule: names not starting with `.`
 * or `_`), newest mtime, and every `_temporary` below. Marker and checksum files are not stat'ed.
 */
async function walkDir(absPath: string, relPath: string, totals: DirTotals, depth: number, dirStat?: Stats): Promise<void> {
  let dirents: Dirent[];
  try {
    const [stat, list] = await Promise.all([
      dirStat ?? fsp.stat(absPath),
      fsp.readdir(absPath, { withFileTypes: true }),
    ]);
    totals.mtimeMs = Math.max(totals.mtimeMs, stat.mtimeMs);
    dirents = list;
  } catch (err) {
    totals.error ??= `${relPath}: ${errorText(err)}`;
    return;
  }
  const pending: Promise<void>[] = [];
  for (const dirent of dirents) {
    const name = dirent.name;
    const childAbs = path.join(absPath, name);
    const childRel = `${relPath}/${name}`;
    if (name === '_temporary' && !dirent.isFile()) {
      // Still writing: nothing below can be trusted, so don't spend time walking it.
      totals.temporaryPaths.push(childRel);
      continue;
    }
    if (depth === 0 && name === '_SUCCESS') totals.hasSuccess = true;
    if (dirent.isFile() && isHiddenName(name)) continue;
    pending.push(
      (async () => {
        const { kind, stat } = await resolveKind(childAbs, dirent);
        if (kind === 'dir') {
          if (depth < MAX_DEPTH) await walkDir(childAbs, childRel, totals, depth + 1, stat);
          return;
        }
        if (kind !== 'file' || isHiddenName(name)) return;
        try {
          const fileStat = stat ?? (await fsp.stat(childAbs));
          totals.bytes += fileStat.size;
          totals.mtimeMs = Math.max(totals.mtimeMs, fileStat.mtimeMs);
          if (depth === 0) totals.dataFiles.push(childAbs);
        } catch (err) {
          totals.error ??= `${childRel}: ${errorText(err)}`;
        }
      })(),
    );
  }
  await Promise.all(pending);
}

async function readText(files: string[]): Promise<string> {
  const texts = await Promise.all(files.sort().map((f) => fsp.readFile(f, 'utf8')));
  return texts.join('');
}

interface EntryWithFiles {
  entry: RawEntry;
  dataFiles: string[];
}

async function readEntry(versionDir: string, dirent: Dirent): Promise<EntryWithFiles> {
  const name = dirent.name;
  const absPath = path.join(versionDir, name);
  const entry: RawEntry = { name, kind: 'other', bytes: 0, mtimeMs: 0, hasSuccess: false, temporaryPaths: [] };
  const { kind, stat } = await resolveKind(absPath, dirent);
  entry.kind = kind;
  if (kind === 'file') {
    try {
      const fileStat = stat ?? (await fsp.stat(absPath));
      entry.bytes = fileStat.size;
      entry.mtimeMs = fileStat.mtimeMs;
    } catch (err) {
      entry.readError = errorText(err);
    }
    return { entry, dataFiles: [absPath] };
  }
  if (kind !== 'dir') return { entry, dataFiles: [] };
  if (name === '_temporary') entry.temporaryPaths.push(name);
  const totals: DirTotals = { bytes: 0, mtimeMs: 0, temporaryPaths: entry.temporaryPaths, hasSuccess: false, dataFiles: [] };
  if (name !== '_temporary') await walkDir(absPath, name, totals, 0, stat);
  entry.hasSuccess = totals.hasSuccess;
  entry.bytes = totals.bytes;
  entry.mtimeMs = totals.mtimeMs;
  if (totals.error !== undefined) entry.readError = totals.error;
  return { entry, dataFiles: totals.dataFiles };
}

/** Reads one version dir without interpreting it; undefined when it does not exist. */
export async function readVersionDir(publishDir: string, version: string): Promise<RawVersionDir | undefined> {
  const versionDir = path.join(publishDir, version);
  let dirents: Dirent[];
  let mtimeMs: number;
  try {
    const [stat, list] = await Promise.all([fsp.stat(versionDir), fsp.readdir(versionDir, { withFileTypes: true })]);
    dirents = list;
    mtimeMs = stat.mtimeMs;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    return { version, mtimeMs: 0, entries: [], readErrors: [`${version} could not be read: ${errorText(err)}`] };
  }
  const read = await Promise.all(dirents.map((d) => readEntry(versionDir, d)));
  await attachColumnTexts(read);
  return { version, mtimeMs, entries: read.map((r) => r.entry), readErrors: [] };
}

/** Reads `.meta` texts, and `.schema` texts only for modules whose `.meta` gives no columns. */
async function attachColumnTexts(read: EntryWithFiles[]): Promise<void> {
  const byFqn = new Map<string, { meta?: EntryWithFiles; schema?: EntryWithFiles }>();
  for (const item of read) {
    if (isHiddenName(item.entry.name)) continue;
    const parsed = parseEntryName(item.entry.name);
    if (parsed === null || (parsed.ext !== 'meta' && parsed.ext !== 'schema')) continue;
    const slot = byFqn.get(parsed.fqn) ?? {};
    slot[parsed.ext] = item;
    byFqn.set(parsed.fqn, slot);
  }
  const attach = async (item: EntryWithFiles): Promise<void> => {
    try {
      item.entry.text = await readText(item.dataFiles);
    } catch (err) {
      item.entry.readError ??= errorText(err);
    }
  };
  await Promise.all(
    [...byFqn.values()].map(async ({ meta, schema }) => {
      if (meta !== undefined) await attach(meta);
      const metaGaveColumns = meta?.entry.text !== undefined && 'columns' in parseMetaColumns(meta.entry.text);
      if (schema !== undefined && !metaGaveColumns) await attach(schema);
    }),
  );
}

/** Reads and interprets one version; undefined when `<publishDir>/<version>` does not exist. */
export async function scanVersion(
  publishDir: string,
  version: string,
  opts: Omit<ScanOptions, 'skip' | 'concurrency'>,
): Promise<PublishedVersion | undefined> {
  const raw = await readVersionDir(publishDir, version);
  if (raw === undefined) return undefined;
  return buildPublishedVersion(raw, { stages: opts.stages, settleSeconds: opts.settleSeconds, now: opts.now ?? Date.now() });
}

/** Runs `work` over `items` with at most `limit` in flight. */
async function forEachBounded<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const item = items[next++]!;
      await work(item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
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
    dirents = await fsp.readdir(publishDir, { withFileTypes: true });
  } catch (err) {
    const why = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'does not exist (yet)' : `could not be read: ${errorText(err)}`;
    return { versions: [], present: [], problems: [`publishDir ${publishDir} ${why}`] };
  }
  const present: string[] = [];
  for (const dirent of dirents) {
    const name = dirent.name;
    if (isHiddenName(name)) continue;
    const { kind } = await resolveKindIfLink(publishDir, dirent);
    if (kind !== 'dir') continue;
    if (!VERSION_PATTERN.test(name)) {
      problems.push(`ignored ${path.join(publishDir, name)}: "${name}" is not a valid version name`);
      continue;
    }
    present.push(name);
  }
  present.sort();
  const toRead = opts.skip === undefined ? present : present.filter((v) => !opts.skip!.has(v));
  const versions: PublishedVersion[] = [];
  const layout = { stages: opts.stages, settleSeconds: opts.settleSeconds, now };
  await forEachBounded(toRead, opts.concurrency ?? DEFAULT_CONCURRENCY, async (version) => {
    const raw = await readVersionDir(publishDir, version);
    if (raw !== undefined) versions.push(buildPublishedVersion(raw, layout));
  });
  versions.sort((a, b) => (a.version < b.version ? -1 : a.version > b.version ? 1 : 0));
  return { versions, present, problems };
}

async function resolveKindIfLink(dir: string, dirent: Dirent): Promise<{ kind: RawEntry['kind'] }> {
  if (!dirent.isSymbolicLink()) return { kind: dirent.isDirectory() ? 'dir' : dirent.isFile() ? 'file' : 'other' };
  return resolveKind(path.join(dir, dirent.name), dirent);
}
