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

/** Stages listed per step when an answer is listed until it is full. */
const STAGES_PER_STEP = 50;

/**
 * `/smv releases`: newest few versions of every stage, or a longer history of one. With `full`,
 * stages are listed a step at a time until `full` says an answer could not show more: the
 * rest are only counted (`unlisted`), so an answer costs what it shows, not the number of stages.
 */
export async function listReleases(
  topology: Topology,
  catalog: VersionCatalog,
  opts: {
    stage?: KnownStage;
    perStage?: number;
    forOneStage?: number;
    deprecationsOf?: (stageFqn: string) => Promise<readonly Deprecation[]>;
    full?: (listed: readonly StageReleases[]) => boolean;
  } = {},
): Promise<{ list: StageReleases[]; unlisted: number }> {
  const stages = opts.stage ? [opts.stage] : topology.stages;
  const limit = opts.stage ? (opts.forOneStage ?? 15) : (opts.perStage ?? 3);
  const releasesOf = async (stage: KnownStage): Promise<StageReleases> => {
    const [{ versions, total }, deprecations] = await Promise.all([catalog.head(stage.fqn, limit), opts.deprecationsOf?.(stage.fqn) ?? []]);
    return { stage, versions: [...versions], total, deprecated: new Map(deprecations.map((d) => [d.version, d])) };
  };
  const list: StageReleases[] = [];
  for (let from = 0; from < stages.length; from += STAGES_PER_STEP) {
    list.push(...(await Promise.all(stages.slice(from, from + STAGES_PER_STEP).map(releasesOf))));
    if (opts.full?.(list)) break;
  }
  return { list, unlisted: stages.length - list.length };
}
