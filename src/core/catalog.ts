import type { StatePort, VersionSummary } from './statePort.ts';

/** A complete published version as the bot remembers it. */
export type CatalogEntry = VersionSummary;

/** The newest published versions of a stage and how many there are in all. */
export interface StageHead {
  versions: readonly CatalogEntry[];
  total: number;
}

/** Read access to every complete version the scanner has recorded. */
export interface VersionCatalog {
  /** The newest `limit` (at most HEAD_SIZE) published versions of the stage, newest first, and the total. */
  head(stageFqn: string, limit?: number): Promise<StageHead>;
  /** Every version holding the stage, newest first (a query: for answers that need the whole list). */
  versionsOf(stageFqn: string, opts?: { includeRemoved?: boolean }): Promise<readonly CatalogEntry[]>;
  /** Changes whenever the recorded versions change, so answers built from them can be reused until then. */
  readonly revision: number;
}

/** How many newest versions per stage are kept at hand: enough for every list an answer shows. */
export const HEAD_SIZE = 20;

/**
 * Catalog over the state store. Each stage's head (newest versions and count) is kept in memory
 * until the scanner says versions changed: a few entries per stage, whatever the history.
 */
export class StateCatalog implements VersionCatalog {
  private readonly heads = new Map<string, StageHead>();
  private rev = 0;

  constructor(private readonly state: Pick<StatePort, 'versionsOfStage' | 'countPublishedOfStage'>) {}

  get revision(): number {
    return this.rev;
  }

  invalidate(): void {
    this.heads.clear();
    this.rev++;
  }

  async head(stageFqn: string, limit = HEAD_SIZE): Promise<StageHead> {
    let head = this.heads.get(stageFqn);
    if (!head) {
      const rev = this.rev;
      const [versions, total] = await Promise.all([
        this.state.versionsOfStage(stageFqn, { includeRemoved: false, limit: HEAD_SIZE }),
        this.state.countPublishedOfStage(stageFqn),
      ]);
      head = { versions, total };
      // A change while the queries ran makes this head stale: answer with it, but do not keep it.
      if (rev === this.rev) this.heads.set(stageFqn, head);
    }
    return limit >= head.versions.length ? head : { versions: head.versions.slice(0, limit), total: head.total };
  }

  versionsOf(stageFqn: string, opts: { includeRemoved?: boolean } = {}): Promise<readonly CatalogEntry[]> {
    return this.state.versionsOfStage(stageFqn, { includeRemoved: opts.includeRemoved === true });
  }
}
