import { stateTroubleAnswer } from '../../core/statePort.ts';
import type { ConsumerSpec } from '../../core/topology.ts';
import { RepoAccessError, RepoFileRefusedError } from '../../core/workspaces.ts';
import { adviceFor, type GitFailure } from '../../domain/gitFailure.ts';
import { parseSmvCommand } from '../commandParser.ts';
import { typed, type AnySmvCommand, type CommandContext, type SmvCommandInput } from '../commands/command.ts';
import { commandNamed, USAGE } from '../commands/index.ts';
import { enqueued } from '../enqueue.ts';
import { mrkdwnMessage } from '../render/format.ts';
import { esc } from '../render/mrkdwn.ts';
import { renderRefusal } from '../render/refusals.ts';
import { ephemeral, type AckFn, type BotServices, type Reply, type RespondFn } from '../services.ts';

export type { SmvCommandInput };

/** Where to answer a command, and who asked. */
export interface SmvCommandContext extends SmvCommandInput {
  responseUrl?: string;
}

/**
 * `/smv …`, for every subcommand of the registry (src/slack/commands/). Fast answers (help,
 * history, mistakes, releases with a recent pin read) go in the ack itself; a command that changes
 * something is written to the state store first and acked, and the command runner answers it
 * through `response_url` (SPEC §5 "Durable"); other reads of git or disk are acked at once and
 * answered through `response_url`, well inside Slack's 3 s.
 */
export async function handleSmvCommand(services: BotServices, input: SmvCommandContext, ack: AckFn, respond: RespondFn): Promise<void> {
  const started = performance.now();
  const outcome = await handle(services, input, ack, respond);
  // Durable commands are counted by the runner when done; the rest here, answered or refused.
  if (outcome.name !== null) services.metrics?.command(outcome.name, outcome.outcome, (performance.now() - started) / 1000);
}

async function handle(services: BotServices, input: SmvCommandContext, ack: AckFn, respond: RespondFn): Promise<{ name: string | null; outcome: string }> {
  const done = async (name: string | null, outcome: string, answered: Promise<unknown>) => (await answered, { name, outcome });
  const parsed = parseSmvCommand(input.text);
  if (parsed.kind === 'error') return done('unknown', 'refused', ack(ephemeral(mrkdwnMessage(parsed.message))));
  const definition = commandNamed(parsed.kind)!;
  const ctx = contextOf(services, input);
  // Answered in the ack: a state store that fails is said there too (else Slack shows a time-out).
  if (definition.inAck) return done(parsed.kind, 'answered', ack(await answer(definition, ctx, parsed).catch(stateTroubleReply(input))));

  const resolved = definition.resolve(services.topology, parsed, input.channelId);
  if (!resolved.ok) return done(parsed.kind, 'refused', ack(ephemeral(renderRefusal(resolved))));
  const { command } = resolved;
  const queue = definition.queue?.(command, input.channelId) ?? null;
  if (queue !== null) {
    const refused = await enqueued(services, {
      request: { kind: 'smv', text: input.text },
      queue,
      userId: input.userId,
      channelId: input.channelId,
      responseUrl: input.responseUrl ?? null,
    });
    return done(refused ? parsed.kind : null, 'refused', ack(refused ?? undefined));
  }
  if (definition.quick) {
    const quick = await definition.quick(ctx, command).catch(stateTroubleReply(input));
    if (quick) return done(parsed.kind, 'answered', ack(quick));
  }

  await ack();
  return done(parsed.kind, 'answered', respond(await answerSmv(definition, ctx, command)));
}

/** A queued `/smv` command, run by the command runner: parsed and resolved again (the config may have changed), then answered. */
export async function answerQueuedSmv(services: BotServices, input: SmvCommandInput): Promise<Reply> {
  const parsed = parseSmvCommand(input.text);
  if (parsed.kind === 'error') return ephemeral(mrkdwnMessage(parsed.message));
  const definition = commandNamed(parsed.kind)!;
  if (definition.inAck) return ephemeral(mrkdwnMessage(USAGE));
  const resolved = definition.resolve(services.topology, parsed, input.channelId);
  if (!resolved.ok) return ephemeral(renderRefusal(resolved));
  return answerSmv(definition, contextOf(services, input), resolved.command);
}

function contextOf(services: BotServices, input: SmvCommandInput): CommandContext {
  const { text, userId, channelId, resumedSince } = input;
  return { services, text, userId, channelId, ...(resumedSince !== undefined ? { resumedSince } : {}) };
}

async function answer(definition: AnySmvCommand, ctx: CommandContext, command: unknown): Promise<Reply> {
  return definition.render(await definition.run(ctx, command), ctx);
}

/** The answer to a resolved command that needs git, disk or a change; failures become answers. */
async function answerSmv(definition: AnySmvCommand, ctx: CommandContext, command: unknown): Promise<Reply> {
  const { services } = ctx;
  try {
    return await answer(definition, ctx, command);
  } catch (error) {
    if (error instanceof RepoFileRefusedError) return ephemeral(mrkdwnMessage(esc(error.message)));
    if (error instanceof RepoAccessError) {
      // What the user can act on, as adopt says it; logged as adopt logs a git failure (warn, gist, no stack).
      const consumer = consumerOf(command);
      services.log.warn({ action: definition.name, consumer: consumer?.name, user: ctx.userId, git: error.failure.kind, gist: error.failure.gist }, `${definition.name} failed`);
      return ephemeral(mrkdwnMessage(definition.readFailure?.(command, error.failure) ?? repoReadFailure(ctx, consumer, error.failure)));
    }
    services.log.error({ err: error, command: definition.name }, 'command failed');
    const trouble = stateTroubleAnswer(error);
    if (trouble) return ephemeral(mrkdwnMessage(`${typed(ctx)}: ${esc(trouble)}`));
    return ephemeral(mrkdwnMessage(`Sorry, ${typed(ctx)} failed: an unexpected error (it is in the bot log). Try again, or ask an admin to check the bot.`));
  }
}

/** The consumer a resolved command acts for, if any. */
function consumerOf(command: unknown): ConsumerSpec | undefined {
  return typeof command === 'object' && command !== null && 'consumer' in command ? (command.consumer as ConsumerSpec) : undefined;
}

/** A consumer repo the bot could not read: git's gist, then what to do about that kind of failure. */
function repoReadFailure(input: SmvCommandInput, consumer: ConsumerSpec | undefined, failure: GitFailure): string {
  const gist = esc(failure.gist.replace(/[.\s]+$/, ''));
  const advice = adviceFor(failure, { branch: consumer?.branch ?? 'the branch' }) || 'Try again, or ask an admin to check the bot.';
  return `Sorry, ${typed(input)} failed: git said: ${gist}. ${advice}`;
}

/** For `.catch`: a state store the bot cannot use becomes the answer saying so; any other error is thrown on. */
function stateTroubleReply(input: SmvCommandInput): (error: unknown) => Reply {
  return (error) => {
    const trouble = stateTroubleAnswer(error);
    if (trouble === null) throw error;
    return ephemeral(mrkdwnMessage(`${typed(input)}: ${esc(trouble)}`));
  };
}
