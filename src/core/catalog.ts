import type { StateStore, StoredVersion } from '../infra/stateStore.ts';

/** A complete published version as the bot remembers it. */
export interface CatalogEntry {
  publisher: string;
  version: string;
  stages: string[];
  moduleCount: number;
  bytes: number;
  completedAt: string;
  /** The version dir has since disappeared from the publish dir. */
  removed: boolean;
}

/** Read access to every complete version the scanner has recorded. */
export interface VersionCatalog {
  /** Versions holding the stage, newest completion first; removed ones only when asked. */
  versionsOf(stageFqn: string, opts?: { includeRemoved?: boolean }): CatalogEntry[];
  find(publisher: string, version: string): CatalogEntry | undefined;
}

export function toCatalogEntry(publisher: string, v: StoredVersion): CatalogEntry {
  return {
    publisher,
    version: v.version,
    stages: v.stages,
    moduleCount: v.modules.length,
    bytes: v.bytes,
    completedAt: v.completedAt,
    removed: v.removedAt !== undefined,
  };
}

/** Newest completion first; version name breaks ties so the order is stable. */
export function newestFirst(a: CatalogEntry, b: CatalogEntry): number {
  if (a.completedAt !== b.completedAt) return a.completedAt < b.completedAt ? 1 : -1;
  return b.version.localeCompare(a.version);
}

/**
 * Catalog over the state store. The per-stage index is rebuilt lazily after `invalidate()`
 * (the scanner calls it after recording), so command answers stay O(answer), not O(history).
 */
export class StateCatalog implements VersionCatalog {
  private index: Map<string, CatalogEntry[]> | null = null;

  constructor(private readonly store: Pick<StateStore, 'data'>) {}

  invalidate(): void {
    this.index = null;
  }

  versionsOf(stageFqn: string, opts: { includeRemoved?: boolean } = {}): CatalogEntry[] {
    const all = this.buildIndex().get(stageFqn) ?? [];
    return opts.includeRemoved ? all : all.filter((e) => !e.removed);
  }

  find(publisher: string, version: string): CatalogEntry | undefined {
    const stored = this.store.data.publishers[publisher]?.versions[version];
    return stored ? toCatalogEntry(publisher, stored) : undefined;
  }

  private buildIndex(): Map<string, CatalogEntry[]> {
    if (this.index) return this.index;
    const index = new Map<string, CatalogEntry[]>();
    for (const [publisher, { versions }] of Object.entries(this.store.data.publishers)) {
      for (const stored of Object.values(versions)) {
        const entry = toCatalogEntry(publisher, stored);
        for (const stage of entry.stages) {
          let list = index.get(stage);
          if (!list) index.set(stage, (list = []));
          list.push(entry);
        }
      }
    }
    for (const list of index.values()) list.sort(newestFirst);
    this.index = index;
    return index;
  }
}
