import type { Deprecation } from '../domain/records.ts';
import type { CatalogEntry, VersionCatalog } from './catalog.ts';
import type { KnownStage, Topology } from './topology.ts';

export interface StageReleases {
  stage: KnownStage;
  /** Newest first, at most the requested number. */
  versions: CatalogEntry[];
  /** How many complete versions exist in all. */
  total: number;
  /** The stage's deprecated versions by name. */
  deprecated: ReadonlyMap<string, Deprecation>;
}

/** `/smv releases`: newest few versions of every stage, or a longer history of one. */
export async function listReleases(
  topology: Topology,
  catalog: VersionCatalog,
  opts: { stage?: KnownStage; perStage?: number; forOneStage?: number; deprecationsOf?: (stageFqn: string) => Promise<readonly Deprecation[]> } = {},
): Promise<StageReleases[]> {
  const stages = opts.stage ? [opts.stage] : topology.stages;
  const limit = opts.stage ? (opts.forOneStage ?? 15) : (opts.perStage ?? 3);
  return Promise.all(
    stages.map(async (stage) => {
      const [{ versions, total }, deprecations] = await Promise.all([catalog.head(stage.fqn, limit), opts.deprecationsOf?.(stage.fqn) ?? []]);
      return { stage, versions: [...versions], total, deprecated: new Map(deprecations.map((d) => [d.version, d])) };
    }),
  );
}
