// What one `/smv` subcommand is (SPEC §4): its help, how its words parse, how its names resolve,
// whether it is durable, what it runs and how the outcome reads. Each subcommand is one file in
// this folder; index.ts lists them, and `/smv help` and the manifest's usage hint come from there.
import type { Topology } from '../../core/topology.ts';
import type { GitFailure } from '../../domain/gitFailure.ts';
import type { Result } from '../../domain/types.ts';
import { code } from '../render/mrkdwn.ts';
import type { SlackMessage } from '../render/format.ts';
import { ephemeral, inChannel, type BotServices, type Reply } from '../services.ts';

/** A mistake in the words: what was wrong and what to type instead (Slack mrkdwn). */
export interface ParseError {
  kind: 'error';
  message: string;
}

/** How a subcommand is shown in `/smv help` and in the manifest. */
export interface CommandHelp<Name extends string = string> {
  name: Name;
  /** e.g. `/smv adopt <stage> <version|latest> [consumer]` (escaped where shown). */
  usage: string;
  summary: string;
  /** Each parses to this subcommand. */
  examples: readonly string[];
  /** Its part of the manifest's usage hint, when not the usage without `/smv `. */
  hint?: string;
  /** Other words that name it. */
  aliases?: readonly string[];
}

/** What a command was typed with, by whom and where; `resumedSince` is set for a durable command resumed after its worker died. */
export interface SmvCommandInput {
  text: string;
  userId: string;
  channelId: string;
  resumedSince?: string;
}

export interface CommandContext extends SmvCommandInput {
  services: BotServices;
}

/**
 * One subcommand. `Parsed` is what its words mean (names as typed), `Resolved` the same with every
 * name resolved against the config, `Outcome` what running it returned. Methods, so a definition
 * fits the registry's list of any command.
 */
export interface SmvCommandDefinition<Parsed extends { kind: string }, Resolved = Parsed, Outcome = unknown> extends CommandHelp<Parsed['kind']> {
  parse(args: readonly string[]): Parsed | ParseError;
  /**
   * Answered in the ack, names and all (help, history): nothing slow, never queued. A durable
   * command resumed with such words (the config changed) gets the usage.
   */
  inAck?: boolean;
  /** Names resolved once, before any I/O: a mistake is the ack's answer. */
  resolve(topology: Topology, cmd: Parsed, channelId: string): Result<{ command: Resolved }>;
  /**
   * Durable (SPEC §5 "Durable"): the queue a command that changes something is written to before
   * its ack, run one at a time with the others of that queue; null for a read.
   */
  queue?(cmd: Resolved, channelId: string): string | null;
  /** An answer at hand without git, for the ack; null: acked at once and answered through response_url. */
  quick?(ctx: CommandContext, cmd: Resolved): Promise<Reply | null>;
  run(ctx: CommandContext, cmd: Resolved): Promise<Outcome>;
  render(outcome: Outcome, ctx: CommandContext): Reply;
  /** A consumer repo that could not be read, in this command's words (default: the command, then git's gist). */
  readFailure?(cmd: Resolved, failure: GitFailure): string;
}

/** Any subcommand, as the registry lists it. */
export type AnySmvCommand = SmvCommandDefinition<{ kind: string }, unknown, unknown>;

/** Checks a definition's types once, where it is written. */
export function defineCommand<Parsed extends { kind: string }, Resolved, Outcome>(
  definition: SmvCommandDefinition<Parsed, Resolved, Outcome>,
): SmvCommandDefinition<Parsed, Resolved, Outcome> {
  return definition;
}

/** The words as parsed are all the command needs (help, history). */
export function asParsed<Parsed>(_topology: Topology, cmd: Parsed): Result<{ command: Parsed }> {
  return { ok: true, command: cmd };
}

/** An outcome for the user only, or for the channel (a change). */
export function replyOf(rendered: { message: SlackMessage; inChannel: boolean }): Reply {
  return rendered.inChannel ? inChannel(rendered.message) : ephemeral(rendered.message);
}

export function parseError(message: string): ParseError {
  return { kind: 'error', message };
}

/** More words than the subcommand takes: its usage and examples. */
export function tooMany(help: CommandHelp, takes: string, args: readonly string[]): ParseError {
  return parseError(
    `\`/smv ${help.name}\` takes ${takes}, but got ${args.length} arguments (${code(args.join(' '))}). ` +
      `Usage: ${code(help.usage)}. ${examplesText(help.examples)}`,
  );
}

export function examplesText(examples: readonly string[]): string {
  const quoted = examples.map((e) => `\`${e}\``);
  return `${quoted.length === 1 ? 'Example' : 'Examples'}: ${quoted.join(', ')}.`;
}

/**
 * A trailing `force` (any case): an admin adopts or unpins despite the consumer's freeze. The other
 * words, and whether it was there.
 */
export function withoutForce(args: readonly string[]): { args: readonly string[]; force: boolean } {
  const force = args.length > 0 && args.at(-1)!.toLowerCase() === 'force';
  return { args: force ? args.slice(0, -1) : args, force };
}

/** `latest` in any case is `latest`. */
export function normaliseVersion(version: string): string {
  return version.toLowerCase() === 'latest' ? 'latest' : version;
}

/** What the user typed, as code: `/smv …`. */
export function typed(input: SmvCommandInput): string {
  return code(`/smv ${input.text.trim()}`);
}
