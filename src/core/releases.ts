import type { CatalogEntry, VersionCatalog } from './catalog.ts';
import type { KnownStage, Topology } from './topology.ts';

export interface StageReleases {
  stage: KnownStage;
  /** Newest first, at most the requested number. */
  versions: CatalogEntry[];
  /** How many complete versions exist in all. */
  total: number;
}

/** `/smv releases`: newest few versions of every stage, or a longer history of one. */
export async function listReleases(
  topology: Topology,
  catalog: VersionCatalog,
  opts: { stage?: KnownStage; perStage?: number; forOneStage?: number } = {},
): Promise<StageReleases[]> {
  const stages = opts.stage ? [opts.stage] : topology.stages;
  const limit = opts.stage ? (opts.forOneStage ?? 15) : (opts.perStage ?? 3);
  return Promise.all(
    stages.map(async (stage) => {
      const { versions, total } = await catalog.head(stage.fqn, limit);
      return { stage, versions: [...versions], total };
    }),
  );
}
