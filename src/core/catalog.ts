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
  versionsOf(stageFqn: string, opts?: { includeRemoved?: boolean }): readonly CatalogEntry[];
  find(publisher: string, version: string): CatalogEntry | undefined;
  /** Changes whenever the recorded versions change, so answers built from them can be reused until then. */
  readonly revision: number;
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
  /** Per stage, newest first: every version, and the ones still published (answers reuse these). */
  private index: Map<string, { all: CatalogEntry[]; published: CatalogEntry[] }> | null = null;

  private rev = 0;

  constructor(private readonly store: Pick<StateStore, 'data'>) {}

  get revision(): number {
    return this.rev;
  }

  invalidate(): void {
    this.index = null;
    this.rev++;
  }

  versionsOf(stageFqn: string, opts: { includeRemoved?: boolean } = {}): readonly CatalogEntry[] {
    const lists = this.buildIndex().get(stageFqn);
    if (!lists) return [];
    return opts.includeRemoved ? lists.all : lists.published;
  }

  find(publisher: string, version: string): CatalogEntry | undefined {
    const stored = this.store.data.publishers[publisher]?.versions[version];
    return stored ? toCatalogEntry(publisher, stored) : undefined;
  }

  private buildIndex(): Map<string, { all: CatalogEntry[]; published: CatalogEntry[] }> {
    if (this.index) return this.index;
    const index = new Map<string, { all: CatalogEntry[]; published: CatalogEntry[] }>();
    for (const [publisher, { versions }] of Object.entries(this.store.data.publishers)) {
      for (const stored of Object.values(versions)) {
        const entry = toCatalogEntry(publisher, stored);
        for (const stage of entry.stages) {
          let lists = index.get(stage);
          if (!lists) index.set(stage, (lists = { all: [], published: [] }));
          lists.all.push(entry);
        }
      }
    }
    for (const lists of index.values()) {
      lists.all.sort(newestFirst);
      lists.published = lists.all.filter((e) => !e.removed);
    }
    this.index = index;
    return index;
  }
}
