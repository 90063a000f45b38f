// `/smv adopt <stage> <version|latest> [consumer]`, and what every other way to adopt (the Adopt
// button and its modal, App Home) shares with it: one use case, one answer.
import type { AdoptOutcome } from '../../core/adopt.ts';
import { stateTroubleAnswer } from '../../core/statePort.ts';
import type { ConsumerSpec, KnownStage } from '../../core/topology.ts';
import { resolveAdoptTarget } from '../commandResolver.ts';
import { enqueued } from '../enqueue.ts';
import { renderAdoptOutcome } from '../render/answers.ts';
import { code, esc } from '../render/mrkdwn.ts';
import type { BotServices, Reply } from '../services.ts';
import { defineCommand, normaliseVersion, parseError, replyOf, tooMany, withoutForce } from './command.ts';

const help = {
  name: 'adopt',
  usage: '/smv adopt <stage> <version|latest> [consumer]',
  summary: "pin a published version in the consumer's repo (commit and push)",
  examples: ['/smv adopt geo TCD.20160802.geo', '/smv adopt geo latest', '/smv adopt geo latest client-model'],
} as const;

/** An adopt with its names resolved; `force`: an admin's adopt despite a freeze. */
export interface AdoptTarget {
  consumer: ConsumerSpec;
  stage: KnownStage;
  version: string;
  force?: boolean;
}

/** `version` is a version name or exactly `latest` (any case is normalised); a trailing `force` overrides a freeze (admins). */
export const adopt = defineCommand<{ kind: 'adopt'; stage: string; version: string; consumer?: string; force?: true }, AdoptTarget, AdoptOutcome>({
  ...help,
  parse(typed) {
    const { args, force } = withoutForce(typed);
    const [stage, version, consumer] = args;
    if (stage === undefined) {
      return parseError('`/smv adopt` needs a stage and a version. Try `/smv adopt geo TCD.20160802.geo` or `/smv adopt geo latest`.');
    }
    if (version === undefined) {
      return parseError(
        `\`/smv adopt ${esc(stage)}\` is missing the version. Try \`/smv adopt ${esc(stage)} &lt;version&gt;\` or \`/smv adopt ${esc(stage)} latest\`; \`/smv releases ${esc(stage)}\` lists the versions.`,
      );
    }
    if (args.length > 3) return tooMany(help, 'a stage, a version and optionally a consumer', args);
    const parsed = { kind: 'adopt', stage, version: normaliseVersion(version), ...(force ? { force } : {}) } as const;
    return consumer === undefined ? parsed : { ...parsed, consumer };
  },
  resolve(topology, cmd, channelId) {
    const resolved = resolveAdoptTarget(topology, cmd.stage, cmd.consumer, channelId);
    const force = cmd.force ? { force: true } : {};
    return resolved.ok ? { ok: true, command: { consumer: resolved.consumer, stage: resolved.stage, version: cmd.version, ...force } } : resolved;
  },
  queue: ({ consumer }) => consumerQueue(consumer.name),
  run: ({ services, userId, channelId, resumedSince }, target) =>
    adoptAs(services, userId, { ...target, channel: channelId, ...(resumedSince !== undefined ? { resumedSince } : {}) }),
  render: (outcome, { userId }) => adoptReply(outcome, userId),
});

/** Changes of one consumer's repo run one at a time, in order. */
export function consumerQueue(consumer: string): string {
  return `consumer:${consumer}`;
}

/** The adopt use case for a Slack user (their real name is the commit's author). */
export async function adoptAs(
  services: BotServices,
  userId: string,
  req: AdoptTarget & { channel?: string; resumedSince?: string },
): Promise<AdoptOutcome> {
  const actor = await services.actor(userId);
  return services.adopt.adopt({
    consumer: req.consumer,
    stage: req.stage,
    version: req.version,
    actor,
    ...(req.force ? { force: true } : {}),
    ...(req.channel !== undefined ? { channel: req.channel } : {}),
    ...(req.resumedSince !== undefined ? { resumedSince: req.resumedSince } : {}),
  });
}

/** A change in the channel; a refusal, or nothing to do, for the user only (SPEC §5.6). */
export function adoptReply(outcome: AdoptOutcome, userId: string): Reply {
  return replyOf(renderAdoptOutcome(outcome, userId));
}

/** An Adopt click (button, modal, App Home), written to the state store before its ack; null when it is there. */
export function enqueueAdopt(
  services: BotServices,
  click: { stage: string; version: string; consumer: string; via: 'button' | 'modal' | 'home'; userId: string; channelId: string; responseUrl: string | null },
): Promise<Reply | null> {
  const { stage, version, consumer, via, ...where } = click;
  return enqueued(services, { request: { kind: 'adopt', stage, version, consumer, via }, queue: consumerQueue(consumer), ...where });
}

/** An adopt from a click that failed unexpectedly (logged by the caller): a state store in trouble says so, else what to type instead. */
export function adoptFailedText(error: unknown, version: string, retry: string): string {
  const trouble = stateTroubleAnswer(error);
  if (trouble) return `Adopting ${esc(version)}: ${esc(trouble)}`;
  return `Sorry, adopting ${esc(version)} failed unexpectedly (it is in the bot log). Try ${code(retry)} again.`;
}
