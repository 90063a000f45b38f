// `/smv diff <stage> <v1> <v2>`: modules and columns added, removed or retyped.
import { diffStageVersions } from '../../core/diff.ts';
import type { KnownStage } from '../../core/topology.ts';
import { renderDiff } from '../render/answers.ts';
import { code } from '../render/mrkdwn.ts';
import { renderRefusal } from '../render/refusals.ts';
import { ephemeral } from '../services.ts';
import { defineCommand, normaliseVersion, parseError, tooMany } from './command.ts';

const help = {
  name: 'diff',
  usage: '/smv diff <stage> <version1> <version2>',
  hint: 'diff <stage> <v1> <v2>',
  summary: 'modules and columns added, removed or retyped between two versions',
  examples: ['/smv diff geo TCD.20160801.geo TCD.20160802.geo'],
} as const;

interface Diff {
  stage: KnownStage;
  from: string;
  to: string;
}

export const diff = defineCommand<{ kind: 'diff'; stage: string; from: string; to: string }, Diff, { stage: KnownStage; result: Awaited<ReturnType<typeof diffStageVersions>> }>({
  ...help,
  parse(args) {
    const [stage, from, to] = args;
    if (to === undefined) {
      const typed = ['/smv diff', ...args].join(' ');
      return parseError(`${code(typed)} needs a stage and two versions. Try \`/smv diff geo TCD.20160801.geo TCD.20160802.geo\`.`);
    }
    if (args.length > 3 || stage === undefined || from === undefined) return tooMany(help, 'a stage and two versions', args);
    return { kind: 'diff', stage, from: normaliseVersion(from), to: normaliseVersion(to) };
  },
  resolve(topology, cmd) {
    const resolved = topology.resolveStage(cmd.stage);
    return resolved.ok ? { ok: true, command: { stage: resolved.stage, from: cmd.from, to: cmd.to } } : resolved;
  },
  run: async ({ services }, { stage, from, to }) => ({ stage, result: await diffStageVersions(services.inspectVersion, stage, from, to) }),
  render: ({ stage, result }) => ephemeral(result.ok ? renderDiff(result.diff, stage.displayName) : renderRefusal(result)),
});
