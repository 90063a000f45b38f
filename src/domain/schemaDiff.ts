// What changed for one stage between two published versions (`/smv diff`, SPEC §4):
// modules added/removed, and per module columns added/removed/retyped from `.meta`/`.schema`.
import type { Column, PublishedModule, PublishedVersion } from './types.ts';

export interface ColumnRetype {
  name: string;
  /** Type in the `from` version, as written there. */
  from: string;
  /** Type in the `to` version, as written there. */
  to: string;
}

export interface ModuleColumnsDiff {
  fqn: string;
  added: Column[];
  removed: Column[];
  retyped: ColumnRetype[];
}

export interface VersionDiff {
  stage: string;
  from: string;
  to: string;
  /** Whether each version holds modules of the stage at all. */
  fromHasStage: boolean;
  toHasStage: boolean;
  /** Module FQNs, sorted. */
  modulesAdded: string[];
  modulesRemoved: string[];
  /** Modules in both versions whose columns differ, sorted by FQN. */
  modulesChanged: ModuleColumnsDiff[];
  /** Modules in both versions with the same columns. */
  modulesUnchanged: string[];
  /** Modules in both versions whose columns are unknown on at least one side (no readable .meta/.schema). */
  columnsUnknown: string[];
  /** Why, from either version's problems (`X.meta could not be read: …`, `X.meta has a column type … nested …`). */
  columnsUnknownWhy: string[];
  /** Nothing added, removed or changed, and every column list was known. */
  identical: boolean;
}

/**
 * `.meta` carries Spark type names (`string`, `decimal(10,0)`) and `.schema` SMV ones
 * (`String`, `Decimal[10,0]`); compare them so that spelling alone is not a retype.
 */
export function normalizeType(type: string): string {
  return type.toLowerCase().replace(/\s+/g, '').replace(/\[/g, '(').replace(/\]/g, ')');
}

function stageModules(version: PublishedVersion, stageFqn: string): Map<string, PublishedModule> {
  return new Map(version.modules.filter((m) => m.stage === stageFqn).map((m) => [m.fqn, m]));
}

export function diffColumns(fqn: string, from: readonly Column[], to: readonly Column[]): ModuleColumnsDiff {
  const before = new Map(from.map((c) => [c.name, c]));
  const after = new Map(to.map((c) => [c.name, c]));
  const added = to.filter((c) => !before.has(c.name));
  const removed = from.filter((c) => !after.has(c.name));
  const retyped: ColumnRetype[] = [];
  for (const col of to) {
    const old = before.get(col.name);
    if (old !== undefined && normalizeType(old.type) !== normalizeType(col.type)) {
      retyped.push({ name: col.name, from: old.type, to: col.type });
    }
  }
  return { fqn, added, removed, retyped };
}

/** Diff of `stageFqn` going from version `a` to version `b`. */
export function diffVersions(stageFqn: string, a: PublishedVersion, b: PublishedVersion): VersionDiff {
  const before = stageModules(a, stageFqn);
  const after = stageModules(b, stageFqn);
  const modulesAdded = [...after.keys()].filter((fqn) => !before.has(fqn)).sort();
  const modulesRemoved = [...before.keys()].filter((fqn) => !after.has(fqn)).sort();
  const modulesChanged: ModuleColumnsDiff[] = [];
  const modulesUnchanged: string[] = [];
  const columnsUnknown: string[] = [];
  for (const fqn of [...after.keys()].filter((f) => before.has(f)).sort()) {
    const fromCols = before.get(fqn)!.columns;
    const toCols = after.get(fqn)!.columns;
    if (fromCols === null || toCols === null) {
      columnsUnknown.push(fqn);
      continue;
    }
    const diff = diffColumns(fqn, fromCols, toCols);
    if (diff.added.length + diff.removed.length + diff.retyped.length > 0) modulesChanged.push(diff);
    else modulesUnchanged.push(fqn);
  }
  const columnsUnknownWhy = [
    ...new Set(
      [...a.problems.map((p) => `${a.version}: ${p}`), ...b.problems.map((p) => `${b.version}: ${p}`)].filter((p) =>
        columnsUnknown.some((fqn) => p.includes(` ${fqn}.meta `) || p.includes(` ${fqn}.schema`)),
      ),
    ),
  ];
  return {
    stage: stageFqn,
    from: a.version,
    to: b.version,
    fromHasStage: before.size > 0,
    toHasStage: after.size > 0,
    modulesAdded,
    modulesRemoved,
    modulesChanged,
    modulesUnchanged,
    columnsUnknown,
    columnsUnknownWhy,
    identical:
      modulesAdded.length === 0 &&
      modulesRemoved.length === 0 &&
      modulesChanged.length === 0 &&
      columnsUnknown.length === 0,
  };
}

/**
 * How a consumer is affected (SPEC §4): `none`; `compatible` (only additions and widenings, which
 * code reading the old columns keeps working with); `breaking` (a removal or any other retype).
 */
export type ChangeClass = 'none' | 'compatible' | 'breaking';

export interface ClassifiedChange {
  class: ChangeClass;
  /** One short phrase per change that decided the class, breaking ones first; then modules whose columns are unknown. */
  reasons: string[];
  /** Modules in both versions whose columns could not be read on one side: the class holds only for the rest. */
  unknown: number;
}

/** Spark and SMV spellings of the same type, to one name. */
const TYPE_SYNONYMS: Record<string, string> = {
  integer: 'int',
  bigint: 'long',
  smallint: 'short',
  tinyint: 'byte',
  real: 'float',
};

function canonicalType(type: string): string {
  const t = normalizeType(type);
  return TYPE_SYNONYMS[t] ?? t;
}

const WIDER_INTEGRAL = ['byte', 'short', 'int', 'long'];

/** Whether every value of `from` fits `to` unchanged: int→long, float→double, a wider decimal of the same scale. */
export function isWidening(from: string, to: string): boolean {
  const a = canonicalType(from);
  const b = canonicalType(to);
  if (a === b) return true;
  const ia = WIDER_INTEGRAL.indexOf(a);
  const ib = WIDER_INTEGRAL.indexOf(b);
  if (ia >= 0 && ib >= 0) return ia < ib;
  if (a === 'float' && b === 'double') return true;
  const da = /^decimal\((\d+),(\d+)\)$/.exec(a);
  const db = /^decimal\((\d+),(\d+)\)$/.exec(b);
  if (da && db) return Number(db[1]) > Number(da[1]) && da[2] === db[2];
  return false;
}

/** The class of a diff, with the reasons a person reads in the announcement. */
export function classifyDiff(diff: VersionDiff): ClassifiedChange {
  const breaking: string[] = [];
  const compatible: string[] = [];
  for (const fqn of diff.modulesRemoved) breaking.push(`module ${fqn} removed`);
  for (const fqn of diff.modulesAdded) compatible.push(`module ${fqn} added`);
  for (const m of diff.modulesChanged) {
    for (const c of m.removed) breaking.push(`${m.fqn}: column ${c.name} removed`);
    for (const r of m.retyped) {
      (isWidening(r.from, r.to) ? compatible : breaking).push(`${m.fqn}: column ${r.name} ${r.from} → ${r.to}`);
    }
    for (const c of m.added) compatible.push(`${m.fqn}: column ${c.name} (${c.type}) added`);
  }
  const unknown = diff.columnsUnknown.map((fqn) => `${fqn}: columns unknown (no readable .meta/.schema)`);
  const reasons = [...breaking, ...compatible, ...unknown];
  return { class: breaking.length ? 'breaking' : compatible.length ? 'compatible' : 'none', reasons, unknown: unknown.length };
}
