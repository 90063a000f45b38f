// `/smv adopt <stage> <version|latest> [<stage> <version|latest>…] [consumer]`, and what every other
// way to adopt (the Adopt and Adopt all buttons and their modal, App Home) shares with it: one use
// case, one answer. Several stages are one commit, all or nothing.
import { stageNamedTwice, type AdoptAllOutcome, type AdoptOutcome } from '../../core/adopt.ts';
import { stateTroubleAnswer } from '../../core/statePort.ts';
import type { ConsumerSpec, KnownStage } from '../../core/topology.ts';
import { resolveAdoptTarget } from '../commandResolver.ts';
import { enqueued } from '../enqueue.ts';
import { renderAdoptAllOutcome, renderAdoptOutcome } from '../render/answers.ts';
import { code, esc } from '../render/mrkdwn.ts';
import type { BotServices, Reply } from '../services.ts';
import { defineCommand, normaliseVersion, parseError, replyOf, withoutForce } from './command.ts';

const help = {
  name: 'adopt',
  usage: '/smv adopt <stage> <version|latest> [<stage> <version|latest>…] [consumer]',
  summary: "pin a published version in the consumer's repo (commit and push); several stages are one commit, all or nothing",
  examples: ['/smv adopt geo TCD.20160802.geo', '/smv adopt geo latest', '/smv adopt geo latest client-model', '/smv adopt geo TCD.20160802.geo cms latest client-model'],
} as const;

/** An adopt with its names resolved; `force`: an admin's adopt despite a freeze. */
export interface AdoptTarget {
  consumer: ConsumerSpec;
  stage: KnownStage;
  version: string;
  force?: boolean;
}

/** An adopt of several stages with its names resolved: each stage once, in the order typed; `force` as for one stage. */
export interface AdoptAllTarget {
  consumer: ConsumerSpec;
  pairs: { stage: KnownStage; version: string }[];
  force?: boolean;
}

/**
 * `version` is a version name or exactly `latest` (any case is normalised). Words come in pairs
 * `<stage> <version>`; an odd last word is the consumer; a trailing `force` overrides a freeze
 * (admins). `more`: the pairs after the first, when there are several.
 */
export const adopt = defineCommand<
  { kind: 'adopt'; stage: string; version: string; consumer?: string; more?: { stage: string; version: string }[]; force?: true },
  AdoptTarget | AdoptAllTarget,
  AdoptOutcome | AdoptAllOutcome
>({
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
    const parsed = { kind: 'adopt', stage, version: normaliseVersion(version), ...(force ? { force } : {}) } as const;
    if (args.length <= 3) return consumer === undefined ? parsed : { ...parsed, consumer };
    const more: { stage: string; version: string }[] = [];
    for (let i = 2; i + 1 < args.length; i += 2) more.push({ stage: args[i]!, version: normaliseVersion(args[i + 1]!) });
    return args.length % 2 === 1 ? { ...parsed, more, consumer: args.at(-1)! } : { ...parsed, more };
  },
  resolve(topology, cmd, channelId) {
    const force = cmd.force ? { force: true } : {};
    if (cmd.more === undefined) {
      const resolved = resolveAdoptTarget(topology, cmd.stage, cmd.consumer, channelId);
      return resolved.ok ? { ok: true, command: { consumer: resolved.consumer, stage: resolved.stage, version: cmd.version, ...force } } : resolved;
    }
    // Every stage, then the consumer: the first mistake is the answer, as for one stage.
    const pairs: AdoptAllTarget['pairs'] = [];
    for (const { stage, version } of [{ stage: cmd.stage, version: cmd.version }, ...cmd.more]) {
      const resolved = topology.resolveStage(stage);
      if (!resolved.ok) return resolved;
      pairs.push({ stage: resolved.stage, version });
    }
    const consumer = topology.resolveConsumer(cmd.consumer, channelId);
    if (!consumer.ok) return consumer;
    return stageNamedTwice(pairs) ?? { ok: true, command: { consumer: consumer.consumer, pairs, ...force } };
  },
  queue: ({ consumer }) => consumerQueue(consumer.name),
  run: ({ services, userId, channelId, resumedSince }, target) => {
    const where = { channel: channelId, ...(resumedSince !== undefined ? { resumedSince } : {}) };
    return 'pairs' in target ? adoptAllAs(services, userId, { ...target, ...where }) : adoptAs(services, userId, { ...target, ...where });
  },
  render: (outcome, { userId }) => ('stages' in outcome ? adoptAllReply(outcome, userId) : adoptReply(outcome, userId)),
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

/** The adopt of several stages in one commit, for a Slack user. */
export async function adoptAllAs(
  services: BotServices,
  userId: string,
  req: AdoptAllTarget & { channel?: string; resumedSince?: string },
): Promise<AdoptAllOutcome> {
  const actor = await services.actor(userId);
  return services.adopt.adoptAll({
    consumer: req.consumer,
    pairs: req.pairs,
    actor,
    ...(req.channel !== undefined ? { channel: req.channel } : {}),
    ...(req.resumedSince !== undefined ? { resumedSince: req.resumedSince } : {}),
    ...(req.force ? { force: true } : {}),
  });
}

/** Several stages adopted: in the channel; a refusal, or nothing to do, for the user only. */
export function adoptAllReply(outcome: AdoptAllOutcome, userId: string): Reply {
  return replyOf(renderAdoptAllOutcome(outcome, userId));
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

/** An Adopt all click (button or modal): every stage of one version, in one commit; written to the state store before its ack. */
export function enqueueAdoptAll(
  services: BotServices,
  click: { stages: string[]; version: string; consumer: string; via: 'button' | 'modal'; userId: string; channelId: string; responseUrl: string | null },
): Promise<Reply | null> {
  const { stages, version, consumer, via, ...where } = click;
  return enqueued(services, { request: { kind: 'adopt-all', stages, version, consumer, via }, queue: consumerQueue(consumer), ...where });
}

/** An adopt from a click that failed unexpectedly (logged by the caller): a state store in trouble says so, else what to type instead. */
export function adoptFailedText(error: unknown, version: string, retry: string): string {
  const trouble = stateTroubleAnswer(error);
  if (trouble) return `Adopting ${esc(version)}: ${esc(trouble)}`;
  return `Sorry, adopting ${esc(version)} failed unexpectedly (it is in the bot log). Try ${code(retry)} again.`;
}
