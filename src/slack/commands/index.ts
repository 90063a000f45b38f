// The `/smv` subcommands, in the order help lists them. A new subcommand is one file in this
// folder and one entry here: parsing, help, `usage_hint` and the listener all come from the list.
import { adopt } from './adopt.ts';
import type { AnySmvCommand, CommandHelp, ParseError } from './command.ts';
import { deprecate } from './deprecate.ts';
import { diff } from './diff.ts';
import { freeze } from './freeze.ts';
import { helpCommand, usageHint, usageOf as usageOfCommand, usageText } from './help.ts';
import { history } from './history.ts';
import { pins } from './pins.ts';
import { releases } from './releases.ts';
import { retention } from './retention.ts';
import { subscribe } from './subscribe.ts';
import { undeprecate } from './undeprecate.ts';
import { unfreeze } from './unfreeze.ts';
import { unpin } from './unpin.ts';
import { unsubscribe } from './unsubscribe.ts';

const help = helpCommand((): readonly CommandHelp[] => COMMANDS);

export const COMMANDS = [releases, pins, adopt, unpin, diff, history, deprecate, undeprecate, subscribe, unsubscribe, freeze, unfreeze, retention, help] as const;

export type Subcommand = (typeof COMMANDS)[number]['name'];

/** What the words after `/smv` mean, names as typed, or what was wrong with them. */
export type ParsedCommand = ReturnType<(typeof COMMANDS)[number]['parse']>;
export type SmvCommand = Exclude<ParsedCommand, ParseError>;

export const SUBCOMMANDS: readonly Subcommand[] = COMMANDS.map((c) => c.name);

const byWord = new Map<string, AnySmvCommand>(COMMANDS.flatMap((c: AnySmvCommand) => [c.name, ...(c.aliases ?? [])].map((word) => [word, c] as const)));

/** The subcommand a word (lower case) names, by its name or an alias. */
export function commandNamed(word: string): AnySmvCommand | undefined {
  return byWord.get(word);
}

/** Help text with examples for every command (Slack mrkdwn). */
export const USAGE: string = usageText(COMMANDS);

/** Usage of one command, for `/smv help <command>`. */
export function usageOf(name: Subcommand): string {
  return usageOfCommand(commandNamed(name)!);
}

/** The `usage_hint` of `/smv` in manifest.yml. */
export const USAGE_HINT: string = usageHint(COMMANDS);
