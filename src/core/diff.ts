import { diffVersions, type VersionDiff } from '../domain/schemaDiff.ts';
import { validateVersionString } from '../domain/validation.ts';
import { refuse, type PublishedVersion, type Result } from '../domain/types.ts';
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
): Promise<Result<{ diff: VersionDiff }>> {
  for (const v of [from, to]) {
    const bad = validateVersionString(v);
    if (bad) return bad;
  }
  const opts = { stages: stage.publisher.stages, settleSeconds: 0 };
  const [a, b] = await Promise.all([inspect(stage.publisher.publishDir, from, opts), inspect(stage.publisher.publishDir, to, opts)]);
  const missing = [a ? null : from, b ? null : to].filter((v): v is string => v !== null);
  if (missing.length) {
    return refuse(
      'unknown-version',
      `${missing.map((v) => `\`${v}\``).join(' and ')} ${missing.length > 1 ? 'are' : 'is'} not in ${stage.publisher.name}'s publish dir. ` +
        `See \`/smv releases ${stage.displayName}\` for the versions there.`,
    );
  }
  return { ok: true, diff: diffVersions(stage.fqn, a!, b!) };
}
