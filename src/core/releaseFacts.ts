// What an announcement says beyond names and sizes (SPEC §4): how each stage's schema changed
// against its previous complete version (classed none / compatible / breaking), and which modules
// failed their data-quality rules. Read from the publish dir when the version is announced.
import { classifyDiff, diffVersions, type ChangeClass } from '../domain/schemaDiff.ts';
import type { VersionRecord } from '../domain/records.ts';
import type { PublishedVersion } from '../domain/types.ts';
import type { VersionCatalog } from './catalog.ts';
import type { InspectVersion } from './diff.ts';
import type { Topology } from './topology.ts';

export interface StageSchemaChange {
  stage: string;
  /** The version compared against; null when this is the stage's first (or the previous one is gone). */
  against: string | null;
  class: ChangeClass;
  /** What decided the class, breaking changes first, at most MAX_CHANGES. */
  changes: string[];
  /** Changes left out of `changes`. */
  more: number;
  /** Modules whose columns could not be read on one side (listed last in `changes`): the class holds only for the rest. */
  unknown?: number;
}

export interface ModuleQualityFailure {
  module: string;
  stage: string | null;
  rules: { name: string; count: number | null }[];
  /** The `.meta` holding the verdict could not be read: why (the check counts as failed). */
  unread?: string;
}

export interface ReleaseFacts {
  /** The worst class over the version's stages. */
  schemaClass: ChangeClass;
  stages: StageSchemaChange[];
  /** Modules whose `.meta` says they failed data-quality rules. */
  qualityFailures: ModuleQualityFailure[];
}

export const MAX_CHANGES = 10;
const CACHED = 500;
const ORDER: ChangeClass[] = ['none', 'compatible', 'breaking'];

export interface ReleaseFactsPorts {
  topology: Topology;
  catalog: VersionCatalog;
  inspectVersion: InspectVersion;
}

export class ReleaseFactsReader {
  private readonly cache = new Map<string, Promise<ReleaseFacts | null>>();

  constructor(private readonly ports: ReleaseFactsPorts) {}

  /** Null when the version's dir cannot be read any more. Computed once per version (retries and updates reuse it). */
  factsOf(publisher: string, version: VersionRecord): Promise<ReleaseFacts | null> {
    const key = `${publisher}\0${version.version}`;
    let facts = this.cache.get(key);
    if (!facts) {
      if (this.cache.size >= CACHED) this.cache.delete(this.cache.keys().next().value!);
      facts = this.read(publisher, version);
      this.cache.set(key, facts);
      // A failure is not remembered: the next post tries again.
      facts.catch(() => this.cache.delete(key));
    }
    return facts;
  }

  private async read(publisherName: string, version: VersionRecord): Promise<ReleaseFacts | null> {
    const publisher = this.ports.topology.publishers.find((p) => p.name === publisherName);
    if (!publisher) return null;
    const opts = { stages: publisher.stages, settleSeconds: 0 };
    const current = await this.ports.inspectVersion(publisher.publishDir, version.version, opts);
    if (!current) return null;
    const stages = await Promise.all(
      version.stages.map(async (stage): Promise<StageSchemaChange> => {
        const previous = await this.previousOf(stage, version);
        const before: PublishedVersion | undefined = previous ? await this.ports.inspectVersion(publisher.publishDir, previous, opts) : undefined;
        if (!before) return { stage, against: null, class: 'none', changes: [], more: 0 };
        const classified = classifyDiff(diffVersions(stage, before, current));
        return {
          stage,
          against: previous!,
          class: classified.class,
          changes: classified.reasons.slice(0, MAX_CHANGES),
          more: Math.max(0, classified.reasons.length - MAX_CHANGES),
          ...(classified.unknown ? { unknown: classified.unknown } : {}),
        };
      }),
    );
    const schemaClass = stages.reduce<ChangeClass>((worst, s) => (ORDER.indexOf(s.class) > ORDER.indexOf(worst) ? s.class : worst), 'none');
    const qualityFailures = current.modules.flatMap((m) =>
      m.dqmFailed ? [{ module: m.fqn, stage: m.stage, rules: m.dqmFailed.rules, ...(m.dqmFailed.unread ? { unread: m.dqmFailed.unread } : {}) }] : [],
    );
    return { schemaClass, stages, qualityFailures };
  }

  /** The stage's complete version just before this one (by completion time), still published. */
  private async previousOf(stage: string, version: VersionRecord): Promise<string | null> {
    const versions = await this.ports.catalog.versionsOf(stage);
    const older = versions.find(
      (v) => v.version !== version.version && (v.completedAt < version.completedAt || (v.completedAt === version.completedAt && v.version < version.version)),
    );
    return older?.version ?? null;
  }
}
