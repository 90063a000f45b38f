// Writes publish trees shaped like real SMV output (SPEC §2), for tests, the demo and benchmarks.
//
//   const publishDir = makeTempDir('publish-');
//   writeVersion(publishDir, 'TCD.20160802.geo', [
//     { fqn: 'com.acme.geo.Zip', columns: [{ name: 'zip', type: 'String' }] },
//     { fqn: 'com.acme.geo.County', layout: 'plain', metaStyle: 'python' },
//   ]);
//   ...
//   removeDir(publishDir);
//
// Spark layout: `<fqn>.csv/part-00000` + `_SUCCESS`, and the same for `.schema` and `.meta`.
// Plain layout: `<fqn>.csv`, `<fqn>.schema`, `<fqn>.meta` as files (local exports).
// Everything is synchronous so a fixture is one call, with or without `await`.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Column } from '../../src/domain/types.ts';

export const SAMPLE_COLUMNS: readonly Column[] = [
  { name: 'id', type: 'String' },
  { name: 'amt', type: 'Double' },
];

export interface FixtureModule {
  fqn: string;
  /** Default SAMPLE_COLUMNS. */
  columns?: readonly Column[];
  /** Data rows of the csv: a count to generate, or explicit cells. Default 3. */
  rows?: number | readonly (readonly string[])[];
  /** Default 'spark'. */
  layout?: 'spark' | 'plain';
  /** Key style of the `.meta` JSON; 'none' writes no `.meta`. Default 'scala'. */
  metaStyle?: 'scala' | 'python' | 'none';
  /** Write `<fqn>.schema`. Default true. */
  schema?: boolean;
  /** Extra outputs SMV may write next to the csv. */
  extraOutputs?: readonly ('hist' | 'edd')[];
  /** Spark layout only: the csv write has not finished (no `_SUCCESS`, or a `_temporary` tree). */
  incomplete?: 'no-success' | 'temporary';
  /** Spark layout only: number of csv part files. Default 1. */
  parts?: number;
  /** Raw `.meta` text to write instead of the generated document (e.g. malformed JSON). */
  metaText?: string;
}

export interface WriteVersionOptions {
  /** mtime of everything written. Default one hour ago, so the version counts as settled. */
  mtime?: number | Date | 'now';
  /** Also write Hadoop's `.part-00000.crc` / `._SUCCESS.crc` side files, like Spark on a local FS. */
  crc?: boolean;
  /** `timestamp` recorded in `.meta`. Default 2016-08-02T10:00:00Z. */
  timestamp?: string;
}

const ONE_HOUR_MS = 3_600_000;

export function makeTempDir(prefix = 'smvbot-publish-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

export function removeDir(dir: string): void {
  fs.rmSync(dir, { recursive: true, force: true });
}

/** The `.meta` JSON SMV writes: Scala keys (`fqn`, `columns`…) or Python keys (`_fqn`, `_columns`…). */
export function metaDocument(
  fqn: string,
  columns: readonly Column[],
  style: 'scala' | 'python' = 'scala',
  timestamp = '2016-08-02T10:00:00Z',
): string {
  const cols = columns.map((c) => ({ name: c.name, type: c.type }));
  const doc =
    style === 'scala'
      ? { fqn, timestamp, columns: cols, inputs: [] as string[] }
      : { _fqn: fqn, _timestamp: timestamp, _columns: cols, _inputs: [] as string[], _userMetadata: {} };
  return JSON.stringify(doc, null, 2) + '\n';
}

/** The `.schema` text SMV writes: sorted `@attr = value` lines, then one `name: Type` per column. */
export function schemaDocument(columns: readonly Column[]): string {
  const attrs = ['@delimiter = ,', '@has-header = false', '@quote-char = "'];
  return [...attrs, ...columns.map((c) => `${c.name}: ${c.type}`)].join('\n') + '\n';
}

function cellFor(type: string, row: number): string {
  const t = type.toLowerCase();
  if (t.startsWith('double') || t.startsWith('float') || t.startsWith('decimal')) return (row * 1.5).toFixed(2);
  if (t.startsWith('integer') || t.startsWith('long')) return String(row);
  if (t.startsWith('boolean')) return row % 2 === 0 ? 'true' : 'false';
  return `"v${row}"`;
}

function csvText(columns: readonly Column[], rows: FixtureModule['rows']): string {
  const lines =
    typeof rows === 'object'
      ? rows.map((cells) => cells.join(','))
      : Array.from({ length: rows ?? 3 }, (_, i) => columns.map((c) => cellFor(c.type, i)).join(','));
  return lines.map((l) => l + '\n').join('');
}

/** A Spark output directory: part files, then `_SUCCESS` when the write finished. */
function writeSparkDir(dir: string, parts: readonly string[], finished: boolean, crc: boolean): void {
  fs.mkdirSync(dir, { recursive: true });
  parts.forEach((text, i) => {
    const part = `part-${String(i).padStart(5, '0')}`;
    fs.writeFileSync(path.join(dir, part), text);
    if (crc) fs.writeFileSync(path.join(dir, `.${part}.crc`), 'crc\n');
  });
  if (finished) {
    fs.writeFileSync(path.join(dir, '_SUCCESS'), '');
    if (crc) fs.writeFileSync(path.join(dir, '._SUCCESS.crc'), 'crc\n');
  }
}

/** A Spark write still in progress: attempt files under `_temporary`, no `_SUCCESS`. */
function writeSparkInProgress(dir: string, text: string): void {
  const attempt = path.join(dir, '_temporary', '0', '_temporary', 'attempt_201608021000_0001_m_000000_0');
  fs.mkdirSync(attempt, { recursive: true });
  fs.writeFileSync(path.join(attempt, 'part-00000'), text);
}

function splitParts(text: string, parts: number): string[] {
  const lines = text.split(/(?<=\n)/);
  return Array.from({ length: Math.max(1, parts) }, (_, p) => lines.filter((_, i) => i % parts === p).join(''));
}

function writeModule(versionDir: string, mod: FixtureModule, opts: WriteVersionOptions): void {
  const columns = mod.columns ?? SAMPLE_COLUMNS;
  const layout = mod.layout ?? 'spark';
  const crc = opts.crc ?? false;
  if (layout === 'plain' && mod.incomplete !== undefined) {
    throw new Error(`writeVersion: 'incomplete' needs layout 'spark' (module ${mod.fqn})`);
  }
  const outputs = new Map<string, string>();
  outputs.set('csv', csvText(columns, mod.rows));
  if (mod.schema ?? true) outputs.set('schema', schemaDocument(columns));
  const metaStyle = mod.metaStyle ?? 'scala';
  if (mod.metaText !== undefined) outputs.set('meta', mod.metaText);
  else if (metaStyle !== 'none') outputs.set('meta', metaDocument(mod.fqn, columns, metaStyle, opts.timestamp));
  for (const ext of mod.extraOutputs ?? []) outputs.set(ext, `${ext} report for ${mod.fqn}\n`);

  for (const [ext, text] of outputs) {
    const target = path.join(versionDir, `${mod.fqn}.${ext}`);
    if (layout === 'plain') {
      fs.writeFileSync(target, text);
    } else if (ext === 'csv' && mod.incomplete === 'temporary') {
      writeSparkInProgress(target, text);
    } else {
      const parts = ext === 'csv' ? splitParts(text, mod.parts ?? 1) : [text];
      writeSparkDir(target, parts, !(ext === 'csv' && mod.incomplete === 'no-success'), crc);
    }
  }
}

/** Sets the mtime (and atime) of `target` and everything below it; children first. */
export function setMtimes(target: string, when: number | Date): void {
  const time = when instanceof Date ? when : new Date(when);
  const stat = fs.lstatSync(target);
  if (stat.isDirectory()) {
    for (const name of fs.readdirSync(target)) setMtimes(path.join(target, name), time);
  }
  // A symlink gets its own time; its target (maybe outside the tree, maybe gone) is left alone.
  if (stat.isSymbolicLink()) fs.lutimesSync(target, time, time);
  else fs.utimesSync(target, time, time);
}

/**
 * Writes `<publishDir>/<version>/` holding the given modules and returns its path.
 * Adds to an existing version dir, so several stages can share one version.
 */
export function writeVersion(
  publishDir: string,
  version: string,
  modules: readonly FixtureModule[],
  opts: WriteVersionOptions = {},
): string {
  const versionDir = path.join(publishDir, version);
  fs.mkdirSync(versionDir, { recursive: true });
  for (const mod of modules) writeModule(versionDir, mod, opts);
  const mtime = opts.mtime ?? Date.now() - ONE_HOUR_MS;
  if (mtime !== 'now') setMtimes(versionDir, mtime);
  return versionDir;
}

/** Gives every path under `target` the mtime of the same path under `source`; children first. */
function mirrorMtimes(source: string, target: string): void {
  const stat = fs.lstatSync(source);
  if (stat.isDirectory()) {
    for (const name of fs.readdirSync(source)) mirrorMtimes(path.join(source, name), path.join(target, name));
  }
  if (stat.isSymbolicLink()) fs.lutimesSync(target, stat.atime, stat.mtime);
  else fs.utimesSync(target, stat.atime, stat.mtime);
}

/** Copies a version into another publish dir keeping every mtime (directories too), like `rsync -a`. */
export function copyVersion(fromPublishDir: string, toPublishDir: string, version: string): string {
  const source = path.join(fromPublishDir, version);
  const target = path.join(toPublishDir, version);
  fs.cpSync(source, target, { recursive: true, verbatimSymlinks: true });
  mirrorMtimes(source, target);
  return target;
}

/** Writes (or replaces) one file inside a version, e.g. to corrupt or grow a synced copy. */
export function writeVersionFile(publishDir: string, version: string, relPath: string, text: string): string {
  const target = path.join(publishDir, version, relPath);
  fs.mkdirSync(path.dirname(target), { recursive: true });
  fs.writeFileSync(target, text);
  return target;
}
