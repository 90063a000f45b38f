// `/smv undeprecate <stage> <version>`: a deprecation taken back.
import type { UndeprecateOutcome } from '../../core/lifecycle.ts';
import type { KnownStage } from '../../core/topology.ts';
import { renderUndeprecateOutcome } from '../render/lifecycle.ts';
import { defineCommand, parseError, replyOf, tooMany } from './command.ts';
import { stageQueue } from './deprecate.ts';

const help = {
  name: 'undeprecate',
  usage: '/smv undeprecate <stage> <version>',
  summary: 'reverse a deprecation',
  examples: ['/smv undeprecate geo TCD.20160802.geo'],
} as const;

export const undeprecate = defineCommand<{ kind: 'undeprecate'; stage: string; version: string }, { stage: KnownStage; version: string }, UndeprecateOutcome>({
  ...help,
  parse(args) {
    const [stage, version] = args;
    if (version === undefined) return parseError('`/smv undeprecate` needs a stage and a version. Try `/smv undeprecate geo TCD.20160802.geo`.');
    if (args.length > 2) return tooMany(help, 'a stage and a version', args);
    return { kind: 'undeprecate', stage: stage!, version };
  },
  resolve(topology, cmd) {
    const resolved = topology.resolveStage(cmd.stage);
    return resolved.ok ? { ok: true, command: { stage: resolved.stage, version: cmd.version } } : resolved;
  },
  queue: ({ stage }) => stageQueue(stage),
  async run({ services, userId }, { stage, version }) {
    const actor = await services.actor(userId);
    return services.lifecycle.undeprecate({ stage, version, actor });
  },
  render: (outcome, { userId }) => replyOf(renderUndeprecateOutcome(outcome, userId)),
});
