// `/smv` or `/smv help [command]`: usage with examples, made from the registry (index.ts), as is
// the manifest's usage hint.
import { mrkdwnMessage } from '../render/format.ts';
import { code } from '../render/mrkdwn.ts';
import { ephemeral } from '../services.ts';
import { asParsed, defineCommand, examplesText, type CommandHelp } from './command.ts';

/**
 * The help command over every registered command (it lists itself too). `registry` is read when
 * help is asked for, so the list may name this command.
 */
export function helpCommand(registry: () => readonly CommandHelp[]) {
  return defineCommand<{ kind: 'help'; topic?: string }, { kind: 'help'; topic?: string }, string>({
    name: 'help',
    usage: '/smv help',
    summary: 'this help; name a command for just its usage',
    examples: ['/smv help', '/smv help adopt'],
    aliases: ['-h', '--help', '?', 'usage'],
    parse(args) {
      const topic = args[0]?.toLowerCase();
      return topic !== undefined && registry().some((c) => c.name === topic) ? { kind: 'help', topic } : { kind: 'help' };
    },
    inAck: true,
    resolve: asParsed,
    async run(_ctx, { topic }) {
      const commands = registry();
      const command = commands.find((c) => c.name === topic);
      return command ? usageOf(command) : usageText(commands);
    },
    render: (text) => ephemeral(mrkdwnMessage(text)),
  });
}

/** Help text with examples for every command (Slack mrkdwn). */
export function usageText(commands: readonly CommandHelp[]): string {
  return [
    '*smvbot* announces complete SMV stage versions and pins them in consumer repos.',
    ...commands.map((command) => `• ${usageOf(command)}`),
    '`&lt;stage&gt;` is a stage base name (`geo`) or its full name (`com.acme.geo`). ' +
      '`[consumer]` is needed only when the channel does not decide it. ' +
      'In `/smv history`, use `*` as the stage to see every stage of one consumer.',
  ].join('\n');
}

/** Usage of one command, for `/smv help <command>`. */
export function usageOf(command: CommandHelp): string {
  return `${code(command.usage)} — ${command.summary}. ${examplesText(command.examples)}`;
}

/** The slash command's `usage_hint` in manifest.yml: each command's usage without `/smv `, `|`-separated. */
export function usageHint(commands: readonly CommandHelp[]): string {
  return commands.map((c) => c.hint ?? c.usage.replace(/^\/smv /, '')).join(' | ');
}
