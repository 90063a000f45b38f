// Parses the text after `/smv` into a command. Pure: it knows the grammar (SPEC §4; each
// subcommand's own in src/slack/commands/), not which stages or consumers exist; callers resolve
// names and report unknown ones.
import { closest } from '../domain/suggest.ts';
import { parseError, type ParseError } from './commands/command.ts';
import { commandNamed, SUBCOMMANDS, type ParsedCommand } from './commands/index.ts';
import { code } from './render/mrkdwn.ts';

export type { ParseError, ParsedCommand };

export function parseSmvCommand(text: string): ParsedCommand {
  const [first, ...args] = tokenize(text);
  if (first === undefined) return { kind: 'help' };
  const command = commandNamed(first.toLowerCase());
  return command ? (command.parse(args) as ParsedCommand) : unknownSubcommand(first);
}

/**
 * Splits command text into words the way a user means them: any run of whitespace
 * (including the non-breaking and zero-width spaces Slack clients insert) separates words;
 * quotes and backticks around a word are dropped (no argument contains spaces, and
 * versions never contain quotes); Slack's `&lt;`/`&gt;`/`&amp;` escapes and its markup
 * (`<http://…|label>`, `<@U…>`, `<#C…|name>`, sent when the command escapes links) are undone.
 * Angle brackets that are not Slack markup (`<b>` in a deprecation reason) are kept as typed:
 * what renders them escapes them.
 */
export function tokenize(text: string): string[] {
  const unwrapped = text
    .replace(new RegExp(`<${SLACK_MARKUP}[^<>|]*\\|([^<>]*)>`, 'g'), '$1')
    .replace(new RegExp(`<${SLACK_MARKUP}([^<>]*)>`, 'g'), '$1')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');
  return unwrapped
    .split(/[\s\u200B\u2060\uFEFF]+/u)
    .map((word) => word.replace(QUOTES_AT_ENDS, ''))
    .filter((word) => word !== '');
}

/** What starts Slack markup inside `<…>`: a link, a mention, a channel, a special command. */
const SLACK_MARKUP = '(?:https?://|mailto:|[#@!])';

const QUOTES_AT_ENDS = /^["'`\u2018\u2019\u201A\u201B\u201C\u201D\u201E\u201F\u00AB\u00BB\u2039\u203A]+|["'`\u2018\u2019\u201A\u201B\u201C\u201D\u201E\u201F\u00AB\u00BB\u2039\u203A]+$/gu;

function unknownSubcommand(word: string): ParseError {
  const meant = closest(word, SUBCOMMANDS, 2);
  const suggestion = meant ? ` Did you mean \`/smv ${meant}\`?` : '';
  const list = SUBCOMMANDS.map((sub) => `\`${sub}\``).join(', ');
  return parseError(`Unknown subcommand ${code(word)}.${suggestion} Subcommands: ${list}. Type \`/smv help\` for examples.`);
}
