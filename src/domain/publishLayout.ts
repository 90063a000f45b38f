// Turns what was read from one `<publishDir>/<version>/` into a PublishedVersion (SPEC §2
// "Published layout", "Complete version"). Pure: the scanner in src/infra does the reading.
import { stageOfModule } from './stages.ts';
import { OUTPUT_EXTS } from './types.ts';
import type { Column, DqmFailure, OutputEntry, OutputExt, PublishedModule, PublishedVersion } from './types.ts';

/** One name directly under the version dir, as the scanner saw it. */
export interface RawEntry {
  name: string;
  /** Symlinks are followed; anything else (socket, fifo, dangling link) is 'other'. */
  kind: 'dir' | 'file' | 'other';
  /** Plain file: its size. Directory: sum of the data files below it (names not starting with `.` or `_`). */
  bytes: number;
  /** Newest mtime of the entry and of everything below it (epoch ms). */
  mtimeMs: number;
  /** Directory holds a `_SUCCESS` marker directly. */
  hasSuccess: boolean;
  /** Paths (relative to the version dir) of `_temporary` directories at or below this entry. */
  temporaryPaths: string[];
  /** `.meta`/`.schema` contents (part files concatenated in name order) when the scanner read them. */
  text?: string;
  /** Why the scanner did not read the `.meta`/`.schema` contents (e.g. over the read cap). */
  textError?: string;
  /** Why the entry (or something below it) could not be read. */
  readError?: string;
  /** Why the scanner refused to follow or read the entry itself (then kind is 'other'). */
  unsafe?: string;
}

/** Raw description of one version dir; everything the pure rules need. */
export interface RawVersionDir {
  version: string;
  /** mtime of the version dir itself (changes when entries are added or removed). */
  mtimeMs: number;
  entries: RawEntry[];
  /** Errors reading the version dir itself. */
  readErrors: string[];
  /** Entries the scanner refused to follow or read (symlinks out of the publish dir, loops, FIFOs, caps). */
  unsafe?: string[];
}

export interface LayoutOptions {
  /** Stage FQNs of the publisher. */
  stages: readonly string[];
  settleSeconds: number;
  /** Epoch ms the settle rule is measured against. */
  now: number;
}

/** Stage whose FQN is the longest prefix of `fqn` followed by `.`; null when none matches. */
export function moduleStage(fqn: string, stageFqns: readonly string[]): string | null {
  return stageOfModule(fqn, stageFqns);
}

/** Splits `com.acme.geo.Zip.csv` into fqn and ext; null when it is not a module output name. */
export function parseEntryName(name: string): { fqn: string; ext: OutputExt } | null {
  const dot = name.lastIndexOf('.');
  if (dot <= 0) return null;
  const ext = name.slice(dot + 1);
  if (!(OUTPUT_EXTS as readonly string[]).includes(ext)) return null;
  return { fqn: name.slice(0, dot), ext: ext as OutputExt };
}

/** Names at version level that are markers or hidden, never modules. */
export function isHiddenName(name: string): boolean {
  return name.startsWith('.') || name.startsWith('_');
}

// ---------------------------------------------------------------------------------------------
// Column readers. SMV writes `.meta` as one JSON document and `.schema` as SmvSchema text.

export type ColumnsParse = { columns: Column[] } | { error: string };

/**
 * Columns of a `.meta` JSON document. Scala SMV uses `columns`, Python SMV `_columns`; each
 * item is `{name, type}`. A Spark StructType (`{fields: [...]}`) is accepted too.
 */
export function parseMetaColumns(text: string): ColumnsParse {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    return { error: `is not valid JSON (${(err as Error).message})` };
  }
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) {
    return { error: 'is not a JSON object' };
  }
  const record = doc as Record<string, unknown>;
  let raw = record['columns'] ?? record['_columns'];
  if (raw === undefined) return { error: 'has no "columns" or "_columns" key' };
  if (raw !== null && typeof raw === 'object' && !Array.isArray(raw)) {
    raw = (raw as Record<string, unknown>)['fields'];
  }
  if (!Array.isArray(raw)) return { error: 'has a "columns" value that is not a list' };
  const columns: Column[] = [];
  for (const item of raw) {
    if (item === null || typeof item !== 'object') return { error: 'has a column that is not {name, type}' };
    const { name, type } = item as Record<string, unknown>;
    if (typeof name !== 'string' || type === undefined) {
      return { error: 'has a column without "name" and "type"' };
    }
    if (typeof type === 'string') {
      columns.push({ name, type });
      continue;
    }
    if (nestingDepth(type, MAX_TYPE_DEPTH) > MAX_TYPE_DEPTH) {
      return { error: `has a column type (${name.slice(0, 80)}) nested deeper than ${MAX_TYPE_DEPTH} levels; not read` };
    }
    columns.push({ name, type: JSON.stringify(type) });
  }
  return { columns };
}

/** Deepest nesting of a column type read (Spark's own types nest a few levels; a type deeper than this is refused). */
export const MAX_TYPE_DEPTH = 64;

/** How deeply `value` nests objects and arrays, counted without recursion and up to `limit + 1`. */
function nestingDepth(value: unknown, limit: number): number {
  let deepest = 0;
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length) {
    const [v, depth] = stack.pop()!;
    if (v === null || typeof v !== 'object') continue;
    if (depth + 1 > deepest) deepest = depth + 1;
    if (deepest > limit) return deepest;
    for (const child of Array.isArray(v) ? v : Object.values(v as Record<string, unknown>)) stack.push([child, depth + 1]);
  }
  return deepest;
}

/**
 * Python SMV's data-quality verdict in `.meta`: `_dqmValidation.passed: false` is a failure, with
 * the failed rules from `dqmStateSnapshot.ruleErrors` (name → `{total, firstN}` or a count).
 * Null when it passed, or the field is absent (Scala SMV writes none), or the text is not JSON.
 */
export function parseMetaDqm(text: string): DqmFailure | null {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    return null;
  }
  const validation = (doc as { _dqmValidation?: unknown } | null)?._dqmValidation as { passed?: unknown; dqmStateSnapshot?: { ruleErrors?: unknown } } | undefined;
  if (!validation || typeof validation !== 'object' || validation.passed !== false) return null;
  const ruleErrors = validation.dqmStateSnapshot?.ruleErrors;
  const rules: DqmFailure['rules'] = [];
  if (ruleErrors && typeof ruleErrors === 'object' && !Array.isArray(ruleErrors)) {
    for (const [name, value] of Object.entries(ruleErrors as Record<string, unknown>)) {
      const total = typeof value === 'number' ? value : (value as { total?: unknown } | null)?.total;
      rules.push({ name, count: typeof total === 'number' ? total : null });
    }
  }
  return { rules };
}

/**
 * Columns of an SmvSchema file: `@key = value` attribute lines, `name: Type` entries (optionally
 * followed by `@metadata=<json>`), `#` and `//` comments, blank lines and trailing `;`.
 * Lines that are not entries are skipped and returned as `skipped`.
 */
export function parseSchemaColumns(text: string): { columns: Column[]; skipped: string[] } {
  const columns: Column[] = [];
  const skipped: string[] = [];
  for (const rawLine of text.split(/\r?\n/)) {
    // Split off metadata first: its JSON may contain `#` or `//`, which are not comments there.
    const metaAt = rawLine.indexOf('@metadata=');
    const head = metaAt >= 0 ? rawLine.slice(0, metaAt) : rawLine.replace(/(\/\/|#).*/, '');
    const line = head.trim().replace(/;\s*$/, '').trim();
    if (line === '' || line.startsWith('@')) continue;
    const match = /^([^:]+?)\s*:\s*(.+)$/.exec(line);
    if (match === null) {
      skipped.push(rawLine.trim());
      continue;
    }
    columns.push({ name: match[1]!, type: match[2]! });
  }
  return { columns, skipped };
}

// ---------------------------------------------------------------------------------------------

const COMPLETION_MARKED_EXTS: readonly OutputExt[] = ['csv', 'schema', 'meta'];

function toOutputEntry(raw: RawEntry, ext: OutputExt): OutputEntry {
  const kind = raw.kind === 'dir' ? 'dir' : 'file';
  const complete =
    raw.readError === undefined &&
    raw.temporaryPaths.length === 0 &&
    (raw.kind === 'file' || (raw.kind === 'dir' && raw.hasSuccess));
  return { name: raw.name, ext, kind, complete, bytes: raw.bytes };
}

function columnsOf(fqn: string, byExt: Map<OutputExt, RawEntry>, problems: string[]): Column[] | null {
  const meta = byExt.get('meta');
  for (const entry of [meta, byExt.get('schema')]) {
    if (entry?.textError !== undefined) problems.push(`${entry.name} could not be read: ${entry.textError}`);
  }
  if (meta?.text !== undefined) {
    const parsed = parseMetaColumns(meta.text);
    if ('columns' in parsed) return parsed.columns;
    problems.push(`${meta.name} ${parsed.error}; columns of ${fqn} taken from .schema if present`);
  }
  const schema = byExt.get('schema');
  if (schema?.text !== undefined) {
    const { columns, skipped } = parseSchemaColumns(schema.text);
    for (const line of skipped.slice(0, 3)) problems.push(`${schema.name}: skipped unreadable line "${line}"`);
    if (skipped.length > 3) problems.push(`${schema.name}: skipped ${skipped.length - 3} more unreadable lines`);
    return columns;
  }
  return null;
}

function describeAge(ms: number): string {
  const seconds = Math.max(0, Math.floor(ms / 1000));
  return `${seconds}s`;
}

/** Applies SPEC §2 to one version dir. Never throws: oddities become `problems`. */
export function buildPublishedVersion(raw: RawVersionDir, opts: LayoutOptions): PublishedVersion {
  const problems = [...raw.readErrors];
  const incompleteReasons: string[] = [];
  let lastChangeMs = raw.mtimeMs;
  const byFqn = new Map<string, Map<OutputExt, RawEntry>>();

  for (const entry of raw.entries) {
    lastChangeMs = Math.max(lastChangeMs, entry.mtimeMs);
    // One reason per entry is enough for a person, however many `_temporary` dirs it holds.
    if (entry.temporaryPaths.length > 0) {
      incompleteReasons.push(
        entry.name === '_temporary' ? '_temporary present at version level' : `_temporary present in ${entry.name}`,
      );
    }
    if (entry.readError !== undefined) problems.push(`${entry.name} could not be read: ${entry.readError}`);
    if (isHiddenName(entry.name)) continue;
    const parsed = parseEntryName(entry.name);
    if (parsed === null) {
      problems.push(`${entry.name} is not a module output (expected <moduleFqn>.<${OUTPUT_EXTS.join('|')}>)`);
      continue;
    }
    let exts = byFqn.get(parsed.fqn);
    if (exts === undefined) byFqn.set(parsed.fqn, (exts = new Map()));
    exts.set(parsed.ext, entry);
  }

  const modules: PublishedModule[] = [];
  const stages = new Set<string>();
  for (const fqn of [...byFqn.keys()].sort()) {
    const byExt = byFqn.get(fqn)!;
    const entries: OutputEntry[] = [];
    for (const ext of OUTPUT_EXTS) {
      const rawEntry = byExt.get(ext);
      if (rawEntry === undefined) continue;
      const entry = toOutputEntry(rawEntry, ext);
      entries.push(entry);
      if (COMPLETION_MARKED_EXTS.includes(ext) && rawEntry.temporaryPaths.length === 0) {
        if (rawEntry.readError !== undefined) {
          incompleteReasons.push(`${entry.name} could not be read`);
        } else if (rawEntry.kind === 'other' && rawEntry.unsafe === undefined) {
          incompleteReasons.push(`${entry.name} is neither a file nor a directory`);
        } else if (rawEntry.kind === 'dir' && !rawEntry.hasSuccess) {
          incompleteReasons.push(`${entry.name} has no _SUCCESS yet`);
        }
      }
    }
    const stage = moduleStage(fqn, opts.stages);
    if (stage === null) {
      problems.push(`module ${fqn} matches no configured stage`);
    } else {
      stages.add(stage);
    }
    const columns = columnsOf(fqn, byExt, problems);
    const meta = byExt.get('meta');
    // A `.meta` that was there but not read may hold a failed check: never taken as passed.
    const dqmFailed =
      meta?.textError !== undefined ? { rules: [], unread: `${meta.name} could not be read: ${meta.textError}` } : meta?.text === undefined ? null : parseMetaDqm(meta.text);
    const bytes = entries.reduce((sum, e) => sum + e.bytes, 0);
    modules.push({ fqn, stage, entries, columns, ...(dqmFailed ? { dqmFailed } : {}), bytes });
  }

  if (modules.length === 0) incompleteReasons.push('no module outputs yet');
  // Never announced or pinned: someone must look at (or fix) what was skipped first.
  for (const what of raw.unsafe ?? []) incompleteReasons.push(`skipped as unsafe: ${what}`);
  const ageMs = opts.now - lastChangeMs;
  const writtenOut = incompleteReasons.length === 0;
  // With no settle time there is no rule to wait for (an mtime a fraction of a millisecond
  // ahead of the clock would otherwise hold a finished version back).
  if (opts.settleSeconds > 0 && ageMs < opts.settleSeconds * 1000) {
    incompleteReasons.push(`changed ${describeAge(ageMs)} ago (settleSeconds ${opts.settleSeconds})`);
  }
  const complete = incompleteReasons.length === 0;
  return {
    version: raw.version,
    stages: [...stages].sort(),
    modules,
    complete,
    settling: writtenOut && !complete,
    incompleteReasons,
    lastChangeMs,
    completedAtMs: complete ? lastChangeMs : null,
    bytes: modules.reduce((sum, m) => sum + m.bytes, 0),
    problems,
    ...(raw.unsafe?.length ? { unsafe: [...raw.unsafe] } : {}),
  };
}
