// `/smv pins [consumer]`: the consumer's effective pin per stage, read from its repo now.
import type { StagePin } from '../../core/pinsReport.ts';
import type { ConsumerSpec } from '../../core/topology.ts';
import type { Freeze } from '../../domain/records.ts';
import { adviceFor } from '../../domain/gitFailure.ts';
import { redactUrlCredentials } from '../../domain/redact.ts';
import { renderPins } from '../render/answers.ts';
import { esc } from '../render/mrkdwn.ts';
import { ephemeral } from '../services.ts';
import { defineCommand, tooMany } from './command.ts';

const help = {
  name: 'pins',
  usage: '/smv pins [consumer]',
  summary: "the consumer's effective pin per stage and how far behind latest it is",
  examples: ['/smv pins', '/smv pins client-model'],
} as const;

export const pins = defineCommand<
  { kind: 'pins'; consumer?: string },
  { consumer: ConsumerSpec },
  { consumer: ConsumerSpec; stages: StagePin[]; unseen: string[]; freeze: Freeze | null }
>({
  ...help,
  parse(args) {
    if (args.length > 1) return tooMany(help, 'at most one consumer', args);
    return args[0] === undefined ? { kind: 'pins' } : { kind: 'pins', consumer: args[0] };
  },
  resolve(topology, cmd, channelId) {
    const consumer = topology.resolveConsumer(cmd.consumer, channelId);
    return consumer.ok ? { ok: true, command: { consumer: consumer.consumer } } : consumer;
  },
  async run({ services }, { consumer }) {
    const report = await services.pins.report(consumer);
    return { consumer, stages: report.stages, unseen: report.files.unseen, freeze: report.freeze };
  },
  render: ({ consumer, stages, unseen, freeze }) => ephemeral(renderPins(consumer.name, consumer.branch, stages, unseen, freeze)),
  readFailure({ consumer }, failure) {
    const advice = adviceFor(failure, { branch: consumer.branch }) || 'Try again, or ask an admin to check the bot.';
    return (
      `Could not read the pins of \`${esc(consumer.name)}\` (${esc(redactUrlCredentials(consumer.repo))}, branch \`${esc(consumer.branch)}\`): ` +
      `${esc(failure.gist.replace(/[.\s]+$/, ''))}. ${advice}`
    );
  },
});
