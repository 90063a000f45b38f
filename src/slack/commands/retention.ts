// `/smv retention <publisher>`: for a publisher's cleanup, which complete versions no consumer
// pins (safe to delete) and which are pinned, by whom; read from every consumer's repo.
import type { RetentionReport, RetentionVersion } from '../../core/retention.ts';
import { code, esc } from '../render/mrkdwn.ts';
import { ephemeral, type Reply } from '../services.ts';
import { asParsed, defineCommand, tooMany } from './command.ts';

const help = {
  name: 'retention',
  usage: '/smv retention [publisher]',
  summary: 'which complete versions no consumer pins (safe to delete), and who pins the others',
  examples: ['/smv retention public-data'],
} as const;

/** Safe versions named per stage at most; the rest are counted (GET /retention/<publisher> lists all). */
const MAX_NAMED = 20;

type Outcome = RetentionReport | { unknownPublisher: string; publishers: string[] };

export const retention = defineCommand<{ kind: 'retention'; publisher?: string }, { kind: 'retention'; publisher?: string }, Outcome>({
  ...help,
  parse(args) {
    if (args.length > 1) return tooMany(help, 'at most one publisher', args);
    return args[0] === undefined ? { kind: 'retention' } : { kind: 'retention', publisher: args[0] };
  },
  resolve: asParsed,
  run({ services }, cmd) {
    const publishers = services.topology.publishers.map((p) => p.name);
    const name = cmd.publisher ?? (publishers.length === 1 ? publishers[0]! : '');
    return services.retention(name);
  },
  render: (outcome): Reply => ephemeral({ text: renderRetention(outcome) }),
});

export function renderRetention(outcome: Outcome): string {
  if ('unknownPublisher' in outcome) {
    const which = outcome.unknownPublisher === '' ? 'Which publisher?' : `There is no publisher ${code(outcome.unknownPublisher)}.`;
    return `${which} Type one of ${outcome.publishers.map((p) => code(p)).join(', ')}, e.g. \`/smv retention ${outcome.publishers[0] ?? 'public-data'}\`.`;
  }
  const lines = [`*Retention for ${esc(outcome.publisher)}*: what each consumer's SMV reads now, from its repo.`];
  const byStage = new Map<string, RetentionVersion[]>();
  for (const v of outcome.versions) byStage.set(v.stageName, [...(byStage.get(v.stageName) ?? []), v]);
  for (const [stage, versions] of byStage) {
    const safe = versions.filter((v) => v.safe).map((v) => v.version);
    const pinned = versions.filter((v) => v.pinnedBy.length > 0);
    const held = versions.filter((v) => !v.safe && v.pinnedBy.length === 0).length;
    const parts = [
      safe.length === 0 ? 'nothing safe to delete' : `safe to delete (${safe.length}): ${safe.slice(0, MAX_NAMED).map(esc).join(', ')}${safe.length > MAX_NAMED ? ` and ${safe.length - MAX_NAMED} more` : ''}`,
      ...pinned.map((v) => `${esc(v.version)} pinned by ${v.pinnedBy.map((p) => `${esc(p.consumer)} (${code(p.key)} in ${esc(p.file)})`).join(', ')}`),
      ...(held > 0 ? [`${held} not called safe: a consumer repo could not be read`] : []),
    ];
    lines.push(`• *${esc(stage)}*: ${parts.join('; ')}`);
  }
  if (outcome.versions.length === 0) lines.push('No complete version of its stages is recorded.');
  for (const u of outcome.unread) lines.push(`:warning: Could not read ${esc(u.consumer)}'s repo (${esc(u.reason)}): no version of a stage it could pin is called safe.`);
  if (outcome.unseen.length) lines.push(`Pins in ${outcome.unseen.map((f) => code(f)).join(', ')} on the machines that run SMV cannot be seen here: check them before deleting.`);
  return lines.join('\n');
}
