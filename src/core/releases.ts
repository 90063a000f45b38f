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
export function listReleases(
  topology: Topology,
  catalog: VersionCatalog,
  opts: { stage?: KnownStage; perStage?: number; forOneStage?: number } = {},
): StageReleases[] {
  const stages = opts.stage ? [opts.stage] : topology.stages;
  const limit = opts.stage ? (opts.forOneStage ?? 15) : (opts.perStage ?? 3);
  return stages.map((stage) => {
    const all = catalog.versionsOf(stage.fqn);
    return { stage, versions: all.slice(0, limit), total: all.length };
  });
}
