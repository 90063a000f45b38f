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
    identical:
      modulesAdded.length === 0 &&
      modulesRemoved.length === 0 &&
      modulesChanged.length === 0 &&
      columnsUnknown.length === 0,
  };
}
