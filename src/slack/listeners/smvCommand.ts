import { code, esc } from '../render/mrkdwn.ts';
import { diffStageVersions } from '../../core/diff.ts';
import type { ConsumerConfFiles } from '../../core/pinsReport.ts';
import { listReleases } from '../../core/releases.ts';
import { RepoAccessError, RepoFileRefusedError } from '../../core/workspaces.ts';
import type { KnownStage } from '../../core/topology.ts';
import { stateTroubleAnswer } from '../../core/statePort.ts';
import { parseSmvCommand, resolveHistoryArgs, USAGE, usageOf } from '../commandParser.ts';
import { resolveCommand, type ResolvedCommand } from '../commandResolver.ts';
import { releasesAnswerFull, renderAdoptOutcome, renderDiff, renderHistory, renderPins, renderReleases, renderUnpinOutcome } from '../render/answers.ts';
import { mrkdwnMessage } from '../render/format.ts';
import { renderRefusal } from '../render/refusals.ts';
import { renderDeprecateOutcome, renderDeprecationNotice, renderSubscribeOutcome, renderSubscriptions, renderUndeprecateOutcome } from '../render/lifecycle.ts';
import type { DeprecateOutcome } from '../../core/lifecycle.ts';
import type { ConsumerSpec } from '../../core/topology.ts';
import { adviceFor, type GitFailure } from '../../domain/gitFailure.ts';
import { redactUrlCredentials } from '../../domain/redact.ts';
import { ephemeral, inChannel, type AckFn, type BotServices, type Reply, type RespondFn } from '../services.ts';
import { randomUUID } from 'node:crypto';
import type { QueuedCommand } from '../../domain/records.ts';

export interface SmvCommandInput {
  text: string;
  userId: string;
  channelId: string;
  /** A durable command resumed after its worker died: when it was received (its own earlier effects are found as done since then). */
  resumedSince?: string;
}

/** Where to answer a command, and who asked. */
export interface SmvCommandContext extends SmvCommandInput {
  responseUrl?: string;
}

/**
 * `/smv …`. Fast answers (help, history, mistakes, releases with a recent pin read) go in the ack
 * itself; a command that changes something is written to the state store first and acked, and the
 * command runner answers it through `response_url` (SPEC §5 "Durable"); other reads of git or disk
 * are acked at once and answered through `response_url`, well inside Slack's 3 s.
 */
export async function handleSmvCommand(services: BotServices, input: SmvCommandContext, ack: AckFn, respond: RespondFn): Promise<void> {
  const parsed = parseSmvCommand(input.text);
  if (parsed.kind === 'error') return ack(ephemeral(mrkdwnMessage(parsed.message)));
  if (parsed.kind === 'help') return ack(ephemeral(mrkdwnMessage(parsed.topic ? usageOf(parsed.topic) : USAGE)));
  // Answered in the ack: a state store that fails is said there too (else Slack shows a time-out).
  if (parsed.kind === 'history') return ack(await history(services, input, parsed.args).catch(stateTroubleReply(input)));

  const resolved = resolveCommand(services.topology, parsed, input.channelId);
  if (!resolved.ok) return ack(ephemeral(renderRefusal(resolved)));
  const { command } = resolved;
  const queue = queueOf(command, input.channelId);
  if (queue !== null) {
    const refused = await enqueued(services, {
      request: { kind: 'smv', text: input.text },
      queue,
      userId: input.userId,
      channelId: input.channelId,
      responseUrl: input.responseUrl ?? null,
    });
    return ack(refused ?? undefined);
  }
  // Releases need git only to mark the pin; with a recent read at hand the answer goes in the ack.
  if (command.kind === 'releases') {
    const quick = await releases(services, input, command.stage, 'cached').catch(stateTroubleReply(input));
    if (quick) return ack(quick);
  }

  await ack();
  await respond(await answerSmv(services, input, command));
}

/**
 * Writes a command to the state store; null when it is there (the ack may go), else the answer
 * saying why nothing will happen.
 */
export async function enqueued(services: BotServices, command: Omit<QueuedCommand, 'attempts' | 'id' | 'receivedAt'>): Promise<Reply | null> {
  try {
    await services.commands.enqueue({ ...command, id: randomUUID(), receivedAt: (services.now?.() ?? new Date()).toISOString() });
    return null;
  } catch (error) {
    services.log.warn({ err: error, queue: command.queue }, 'could not write a command to the state store; refused it');
    const trouble = stateTroubleAnswer(error);
    return ephemeral(
      mrkdwnMessage(
        trouble
          ? esc(trouble)
          : 'The bot could not record your command (an unexpected error, in the bot log), so nothing was changed. Try again in a minute; if it keeps failing, ask an admin to check `/healthz`.',
      ),
    );
  }
}

/** Commands that change something queue by what they change (one at a time each); reads return null. */
function queueOf(command: ResolvedCommand, channelId: string): string | null {
  switch (command.kind) {
    case 'adopt':
    case 'unpin':
      return `consumer:${command.consumer.name}`;
    case 'deprecate':
    case 'undeprecate':
      return `stage:${command.stage.fqn}`;
    case 'subscribe':
      return command.stage === undefined ? null : `channel:${channelId}`;
    case 'unsubscribe':
      return `channel:${channelId}`;
    default:
      return null;
  }
}

/** A queued `/smv` command, run by the command runner: parsed and resolved again (the config may have changed), then answered. */
export async function answerQueuedSmv(services: BotServices, input: SmvCommandInput): Promise<Reply> {
  const parsed = parseSmvCommand(input.text);
  if (parsed.kind === 'error' || parsed.kind === 'help' || parsed.kind === 'history') return ephemeral(mrkdwnMessage(parsed.kind === 'error' ? parsed.message : USAGE));
  const resolved = resolveCommand(services.topology, parsed, input.channelId);
  if (!resolved.ok) return ephemeral(renderRefusal(resolved));
  return answerSmv(services, input, resolved.command);
}

/** The answer to a resolved command that needs git, disk or a change; failures become answers. */
async function answerSmv(services: BotServices, input: SmvCommandInput, command: ResolvedCommand): Promise<Reply> {
  try {
    return await slowAnswer(services, input, command);
  } catch (error) {
    if (error instanceof RepoFileRefusedError) return ephemeral(mrkdwnMessage(esc(error.message)));
    if (error instanceof RepoAccessError) {
      // What the user can act on, as adopt says it; logged as adopt logs a git failure (warn, gist, no stack).
      const consumer = 'consumer' in command ? command.consumer : undefined;
      services.log.warn({ action: command.kind, consumer: consumer?.name, user: input.userId, git: error.failure.kind, gist: error.failure.gist }, `${command.kind} failed`);
      return ephemeral(mrkdwnMessage(repoReadFailure(input, command.kind, consumer, error.failure)));
    }
    services.log.error({ err: error, command: command.kind }, 'command failed');
    const trouble = stateTroubleAnswer(error);
    if (trouble) return ephemeral(mrkdwnMessage(`${code(`/smv ${input.text.trim()}`)}: ${esc(trouble)}`));
    return ephemeral(mrkdwnMessage(`Sorry, ${code(`/smv ${input.text.trim()}`)} failed: an unexpected error (it is in the bot log). Try again, or ask an admin to check the bot.`));
  }
}

/** A consumer repo the bot could not read: git's gist, then what to do about that kind of failure. */
function repoReadFailure(input: SmvCommandInput, kind: ResolvedCommand['kind'], consumer: ConsumerSpec | undefined, failure: GitFailure): string {
  const gist = esc(failure.gist.replace(/[.\s]+$/, ''));
  const advice = adviceFor(failure, { branch: consumer?.branch ?? 'the branch' }) || 'Try again, or ask an admin to check the bot.';
  if (kind === 'pins' && consumer) {
    return `Could not read the pins of \`${esc(consumer.name)}\` (${esc(redactUrlCredentials(consumer.repo))}, branch \`${esc(consumer.branch)}\`): ${gist}. ${advice}`;
  }
  return `Sorry, ${code(`/smv ${input.text.trim()}`)} failed: git said: ${gist}. ${advice}`;
}

/** For `.catch`: a state store the bot cannot use becomes the answer saying so; any other error is thrown on. */
function stateTroubleReply(input: SmvCommandInput): (error: unknown) => Reply {
  return (error) => {
    const trouble = stateTroubleAnswer(error);
    if (trouble === null) throw error;
    return ephemeral(mrkdwnMessage(`${code(`/smv ${input.text.trim()}`)}: ${esc(trouble)}`));
  };
}

async function slowAnswer(services: BotServices, input: SmvCommandInput, cmd: ResolvedCommand): Promise<Reply> {
  switch (cmd.kind) {
    case 'releases':
      return releases(services, input, cmd.stage, 'git');
    case 'pins': {
      const report = await services.pins.report(cmd.consumer);
      return ephemeral(renderPins(cmd.consumer.name, cmd.consumer.branch, report.stages, report.files.unseen));
    }
    case 'adopt': {
      const actor = await services.actor(input.userId);
      const outcome = await services.adopt.adopt({
        consumer: cmd.consumer,
        stage: cmd.stage,
        version: cmd.version,
        actor,
        channel: input.channelId,
        ...(input.resumedSince !== undefined ? { resumedSince: input.resumedSince } : {}),
      });
      const { message, inChannel: public_ } = renderAdoptOutcome(outcome, input.userId);
      return public_ ? inChannel(message) : ephemeral(message);
    }
    case 'unpin': {
      const actor = await services.actor(input.userId);
      const outcome = await services.adopt.unpin({
        consumer: cmd.consumer,
        stage: cmd.stage,
        actor,
        channel: input.channelId,
        ...(input.resumedSince !== undefined ? { resumedSince: input.resumedSince } : {}),
      });
      const { message, inChannel: public_ } = renderUnpinOutcome(outcome, input.userId);
      return public_ ? inChannel(message) : ephemeral(message);
    }
    case 'diff': {
      const result = await diffStageVersions(services.inspectVersion, cmd.stage, cmd.from, cmd.to);
      return ephemeral(result.ok ? renderDiff(result.diff, cmd.stage.displayName) : renderRefusal(result));
    }
    case 'deprecate': {
      const actor = await services.actor(input.userId);
      const outcome = await services.lifecycle.deprecate({
        stage: cmd.stage,
        version: cmd.version,
        reason: cmd.reason,
        actor,
        ...(input.resumedSince !== undefined ? { resumedSince: input.resumedSince } : {}),
      });
      if (outcome.ok) await tellPinnedConsumers(services, outcome);
      const { message, inChannel: public_ } = renderDeprecateOutcome(outcome, input.userId);
      return public_ ? inChannel(message) : ephemeral(message);
    }
    case 'undeprecate': {
      const actor = await services.actor(input.userId);
      const { message, inChannel: public_ } = renderUndeprecateOutcome(await services.lifecycle.undeprecate({ stage: cmd.stage, version: cmd.version, actor }), input.userId);
      return public_ ? inChannel(message) : ephemeral(message);
    }
    case 'subscribe': {
      if (cmd.stage === undefined) return ephemeral(renderSubscriptions(await services.lifecycle.subscriptionsOf(input.channelId), input.channelId, services.topology));
      const actor = await services.actor(input.userId);
      return ephemeral(renderSubscribeOutcome(await services.lifecycle.subscribe({ channel: input.channelId, stage: cmd.stage, actor }), input.channelId));
    }
    case 'unsubscribe':
      return ephemeral(renderSubscribeOutcome(await services.lifecycle.unsubscribe({ channel: input.channelId, stage: cmd.stage }), input.channelId));
  }
}

/** Each claimed notice is posted once; one that Slack refuses is logged (it was claimed: not retried). */
async function tellPinnedConsumers(services: BotServices, outcome: Extract<DeprecateOutcome, { ok: true }>): Promise<void> {
  for (const notice of outcome.notices) {
    try {
      await services.post(notice.channel, renderDeprecationNotice(outcome, notice.consumer));
    } catch (error) {
      services.log.warn({ err: error, channel: notice.channel, consumer: notice.consumer.name }, 'could not post a deprecation notice');
    }
  }
}

/**
 * `/smv releases`, marking the pin of the channel's consumer. `read` says how pins may be had:
 * `cached` answers only from a recent read (null when that would need git), `git` reads if needed.
 */
async function releases(services: BotServices, input: SmvCommandInput, stage: KnownStage | undefined, read: 'cached'): Promise<Reply | null>;
async function releases(services: BotServices, input: SmvCommandInput, stage: KnownStage | undefined, read: 'git'): Promise<Reply>;
async function releases(services: BotServices, input: SmvCommandInput, stage: KnownStage | undefined, read: 'cached' | 'git'): Promise<Reply | null> {
  const consumer = services.topology.resolveConsumer(undefined, input.channelId);
  const revision = services.catalog.revision;
  const listed = () =>
    listReleases(services.topology, services.catalog, {
      ...(stage ? { stage } : { full: releasesAnswerFull }),
      deprecationsOf: (fqn) => services.lifecycle.deprecationsOf(fqn),
    });
  if (!consumer.ok) {
    const { list, unlisted } = await listed();
    return ephemeral(renderReleases(list, null, undefined, unlisted));
  }
  const marked = async (files: ConsumerConfFiles) => {
    const { list, unlisted } = await listed();
    const read = list.map(({ stage: s }) => [s.fqn, services.pins.pinOf(files, s)] as const);
    const pins = new Map(read.map(([fqn, pin]) => [fqn, pin.version]));
    const unmanaged = new Map(read.flatMap(([fqn, pin]) => (pin.unmanaged ? [[fqn, pin.path ?? '']] : [])));
    return ephemeral(renderReleases(list, { consumer: consumer.consumer.name, pins, unmanaged }, undefined, unlisted));
  };
  if (read === 'cached') {
    const files = services.pins.freshConfFiles(consumer.consumer);
    if (!files) return null;
    // Same versions, same pin read, same question: the same answer (it is asked a lot after a release).
    return remembered(services, `${revision}|${stage?.fqn ?? '*'}|${consumer.consumer.name}|${files.readAt}`, () => marked(files));
  }
  try {
    return await marked(await services.pins.confFiles(consumer.consumer));
  } catch (error) {
    const gist = error instanceof RepoFileRefusedError ? error.message : error instanceof RepoAccessError ? error.failure.gist : undefined;
    if (gist === undefined) throw error;
    const { list, unlisted } = await listed();
    return ephemeral(renderReleases(list, null, `Could not read ${esc(consumer.consumer.name)}'s pins (${esc(gist)}), so they are not marked.`, unlisted));
  }
}

const answers = new WeakMap<BotServices, Map<string, Reply>>();

/** A small per-bot memo of rendered answers; keys carry everything the answer depends on, and are looked up before any work. */
async function remembered(services: BotServices, key: string, render: () => Promise<Reply>): Promise<Reply> {
  let memo = answers.get(services);
  if (!memo) answers.set(services, (memo = new Map()));
  let reply = memo.get(key);
  if (!reply) {
    reply = await render();
    if (memo.size >= 64) memo.clear();
    memo.set(key, reply);
  }
  return reply;
}

/** `/smv history [stage] [consumer]`: the channel's consumer by default, else every consumer. */
async function history(services: BotServices, input: SmvCommandInput, args: readonly string[]): Promise<Reply> {
  const { topology } = services;
  const resolved = resolveHistoryArgs(args, {
    isStage: (name) => {
      const r = topology.resolveStage(name);
      return r.ok || r.code === 'ambiguous-stage';
    },
    consumers: topology.consumers.map((c) => c.name),
  });
  if (resolved.kind === 'error') return ephemeral(mrkdwnMessage(resolved.message));
  let stageFqn: string | undefined;
  if (resolved.stage !== undefined) {
    const stage = topology.resolveStage(resolved.stage);
    if (!stage.ok) return ephemeral(renderRefusal(stage));
    stageFqn = stage.stage.fqn;
  }
  let consumer = resolved.consumer;
  if (consumer !== undefined) {
    const found = topology.resolveConsumer(consumer, undefined);
    if (!found.ok) return ephemeral(renderRefusal(found));
  } else if (args.length < 2) {
    const bound = topology.consumersForChannel(input.channelId);
    if (bound.length === 1) consumer = bound[0]!.name;
  }
  const records = await services.adoptions({ ...(stageFqn ? { stage: stageFqn } : {}), ...(consumer ? { consumer } : {}), limit: 15 });
  const scope = [stageFqn ? ` of ${topology.stage(stageFqn)?.displayName ?? stageFqn}` : '', consumer ? ` for ${consumer}` : ''].join('');
  return ephemeral(renderHistory(records, topology, scope));
}
