import { diffVersions, type VersionDiff } from '../domain/schemaDiff.ts';
import { validateVersionString } from '../domain/validation.ts';
import type { DiffRefusal, VersionRefusal } from '../domain/refusals.ts';
import type { PublishedVersion, Result } from '../domain/types.ts';
import type { KnownStage } from './topology.ts';

export type InspectVersion = (
  publishDir: string,
  version: string,
  opts: { stages: string[]; settleSeconds: number },
) => Promise<PublishedVersion | undefined>;

/** `/smv diff <stage> <v1> <v2>`: reads both versions' `.meta`/`.schema` from the publish dir. */
export async function diffStageVersions(
  inspect: InspectVersion,
  stage: KnownStage,
  from: string,
  to: string,
): Promise<Result<{ diff: VersionDiff }, VersionRefusal | DiffRefusal>> {
  for (const v of [from, to]) {
    const bad = validateVersionString(v);
    if (bad) return bad;
  }
  const opts = { stages: stage.publisher.stages, settleSeconds: 0 };
  const [a, b] = await Promise.all([inspect(stage.publisher.publishDir, from, opts), inspect(stage.publisher.publishDir, to, opts)]);
  const missing = [a ? null : from, b ? null : to].filter((v): v is string => v !== null);
  if (missing.length) return { ok: false, code: 'unknown-version', for: 'diff', stage: stage.displayName, publisher: stage.publisher.name, versions: missing };
  return { ok: true, diff: diffVersions(stage.fqn, a!, b!) };
}
