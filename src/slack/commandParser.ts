// Parses the text after `/smv` into a command. Pure: it knows the grammar (SPEC §4), not
// which stages or consumers exist; callers resolve names and report unknown ones.
import { code, esc } from './render/mrkdwn.ts';
import { closest } from '../domain/suggest.ts';

export const SUBCOMMANDS = ['releases', 'pins', 'adopt', 'unpin', 'diff', 'history', 'deprecate', 'undeprecate', 'subscribe', 'unsubscribe', 'help'] as const;
export type Subcommand = (typeof SUBCOMMANDS)[number];

export type SmvCommand =
  | { kind: 'help'; topic?: Subcommand }
  | { kind: 'releases'; stage?: string }
  | { kind: 'pins'; consumer?: string }
  /** `version` is a version name or exactly `latest` (any case is normalised). */
  | { kind: 'adopt'; stage: string; version: string; consumer?: string }
  | { kind: 'unpin'; stage: string; consumer?: string }
  | { kind: 'diff'; stage: string; from: string; to: string }
  /**
   * `/smv history [stage] [consumer]`: the arguments as typed. With one argument only the
   * caller knows whether it names a stage or a consumer — use `resolveHistoryArgs`.
   */
  | { kind: 'history'; args: [] | [string] | [string, string] }
  /** `reason` is the rest of the text, as typed (null when none). */
  | { kind: 'deprecate'; stage: string; version: string; reason: string | null }
  | { kind: 'undeprecate'; stage: string; version: string }
  /** `stage` is a stage or `*` (every stage); without one, `subscribe` lists the channel's subscriptions. */
  | { kind: 'subscribe'; stage?: string }
  | { kind: 'unsubscribe'; stage: string };

export interface ParseError {
  kind: 'error';
  /** What was wrong and what to type instead (Slack mrkdwn). */
  message: string;
}

export type ParsedCommand = SmvCommand | ParseError;

interface CommandHelp {
  syntax: string;
  summary: string;
  examples: string[];
}

export const COMMAND_HELP: Record<Subcommand, CommandHelp> = {
  releases: {
    syntax: '/smv releases [stage]',
    summary: 'newest complete versions per stage, with completion time and module count',
    examples: ['/smv releases', '/smv releases geo'],
  },
  pins: {
    syntax: '/smv pins [consumer]',
    summary: "the consumer's effective pin per stage and how far behind latest it is",
    examples: ['/smv pins', '/smv pins client-model'],
  },
  adopt: {
    syntax: '/smv adopt <stage> <version|latest> [consumer]',
    summary: "pin a published version in the consumer's repo (commit and push)",
    examples: ['/smv adopt geo TCD.20160802.geo', '/smv adopt geo latest', '/smv adopt geo latest client-model'],
  },
  unpin: {
    syntax: '/smv unpin <stage> [consumer]',
    summary: 'remove the pin so the stage runs live code again',
    examples: ['/smv unpin geo', '/smv unpin geo client-model'],
  },
  diff: {
    syntax: '/smv diff <stage> <version1> <version2>',
    summary: 'modules and columns added, removed or retyped between two versions',
    examples: ['/smv diff geo TCD.20160801.geo TCD.20160802.geo'],
  },
  history: {
    syntax: '/smv history [stage] [consumer]',
    summary: 'recent adoptions: who, when, from → to, commit',
    examples: ['/smv history', '/smv history geo', '/smv history geo client-model', '/smv history * client-model'],
  },
  deprecate: {
    syntax: '/smv deprecate <stage> <version> [reason…]',
    summary: "publisher owners and admins: take a version back; its announcements say so, consumers pinned to it are told, and it can no longer be adopted",
    examples: ['/smv deprecate geo TCD.20160802.geo zip codes shifted by one'],
  },
  undeprecate: {
    syntax: '/smv undeprecate <stage> <version>',
    summary: 'reverse a deprecation',
    examples: ['/smv undeprecate geo TCD.20160802.geo'],
  },
  subscribe: {
    syntax: '/smv subscribe [stage|*]',
    summary: "this channel gets announcements of that stage (`*`: every stage); with no argument, lists this channel's subscriptions",
    examples: ['/smv subscribe geo', '/smv subscribe *', '/smv subscribe'],
  },
  unsubscribe: {
    syntax: '/smv unsubscribe <stage|*>',
    summary: 'this channel stops getting announcements it subscribed to',
    examples: ['/smv unsubscribe geo', '/smv unsubscribe *'],
  },
  help: {
    syntax: '/smv help',
    summary: 'this help; name a command for just its usage',
    examples: ['/smv help', '/smv help adopt'],
  },
};

/** Help text with examples for every command (Slack mrkdwn). */
export const USAGE: string = [
  '*smvbot* announces complete SMV stage versions and pins them in consumer repos.',
  ...SUBCOMMANDS.map((sub) => {
    const help = COMMAND_HELP[sub];
    return `• ${code(help.syntax)} — ${help.summary}. ${examplesText(help.examples)}`;
  }),
  '`&lt;stage&gt;` is a stage base name (`geo`) or its full name (`com.acme.geo`). ' +
    '`[consumer]` is needed only when the channel does not decide it. ' +
    'In `/smv history`, use `*` as the stage to see every stage of one consumer.',
].join('\n');

/** Usage of one command, for `/smv help <command>`. */
export function usageOf(sub: Subcommand): string {
  const help = COMMAND_HELP[sub];
  return `${code(help.syntax)} — ${help.summary}. ${examplesText(help.examples)}`;
}

const HELP_WORDS = new Set(['help', '-h', '--help', '?', 'usage']);
const STAGE_WILDCARDS = new Set(['*', 'all']);

export function parseSmvCommand(text: string): ParsedCommand {
  const words = tokenize(text);
  const [first, ...args] = words;
  if (first === undefined) return { kind: 'help' };
  const sub = first.toLowerCase();

  if (HELP_WORDS.has(sub)) {
    const topic = args[0]?.toLowerCase();
    return topic !== undefined && isSubcommand(topic) ? { kind: 'help', topic } : { kind: 'help' };
  }

  switch (sub) {
    case 'releases': {
      if (args.length > 1) return tooMany('releases', 'at most one stage', args);
      return args[0] === undefined ? { kind: 'releases' } : { kind: 'releases', stage: args[0] };
    }
    case 'pins': {
      if (args.length > 1) return tooMany('pins', 'at most one consumer', args);
      return args[0] === undefined ? { kind: 'pins' } : { kind: 'pins', consumer: args[0] };
    }
    case 'adopt': {
      const [stage, version, consumer] = args;
      if (stage === undefined) {
        return error('`/smv adopt` needs a stage and a version. Try `/smv adopt geo TCD.20160802.geo` or `/smv adopt geo latest`.');
      }
      if (version === undefined) {
        return error(`\`/smv adopt ${esc(stage)}\` is missing the version. Try \`/smv adopt ${esc(stage)} &lt;version&gt;\` or \`/smv adopt ${esc(stage)} latest\`; \`/smv releases ${esc(stage)}\` lists the versions.`);
      }
      if (args.length > 3) return tooMany('adopt', 'a stage, a version and optionally a consumer', args);
      const adopt = { kind: 'adopt', stage, version: normaliseVersion(version) } as const;
      return consumer === undefined ? adopt : { ...adopt, consumer };
    }
    case 'unpin': {
      const [stage, consumer] = args;
      if (stage === undefined) return error('`/smv unpin` needs a stage. Try `/smv unpin geo` or `/smv unpin geo client-model`.');
      if (args.length > 2) return tooMany('unpin', 'a stage and optionally a consumer', args);
      return consumer === undefined ? { kind: 'unpin', stage } : { kind: 'unpin', stage, consumer };
    }
    case 'diff': {
      const [stage, from, to] = args;
      if (to === undefined) {
        const typed = ['/smv diff', ...args].join(' ');
        return error(`${code(typed)} needs a stage and two versions. Try \`/smv diff geo TCD.20160801.geo TCD.20160802.geo\`.`);
      }
      if (args.length > 3 || stage === undefined || from === undefined) return tooMany('diff', 'a stage and two versions', args);
      return { kind: 'diff', stage, from: normaliseVersion(from), to: normaliseVersion(to) };
    }
    case 'history': {
      const [a, b] = args;
      if (args.length > 2) return tooMany('history', 'at most a stage and a consumer', args);
      if (a === undefined) return { kind: 'history', args: [] };
      return b === undefined ? { kind: 'history', args: [a] } : { kind: 'history', args: [a, b] };
    }
    case 'deprecate': {
      const [stage, version, ...reason] = args;
      if (version === undefined) {
        return error('`/smv deprecate` needs a stage and a version, and may give a reason. Try `/smv deprecate geo TCD.20160802.geo zip codes shifted by one`.');
      }
      return { kind: 'deprecate', stage: stage!, version, reason: reason.length ? reason.join(' ') : null };
    }
    case 'undeprecate': {
      const [stage, version] = args;
      if (version === undefined) return error('`/smv undeprecate` needs a stage and a version. Try `/smv undeprecate geo TCD.20160802.geo`.');
      if (args.length > 2) return tooMany('undeprecate', 'a stage and a version', args);
      return { kind: 'undeprecate', stage: stage!, version };
    }
    case 'subscribe': {
      if (args.length > 1) return tooMany('subscribe', 'at most one stage (or `*`)', args);
      return args[0] === undefined ? { kind: 'subscribe' } : { kind: 'subscribe', stage: args[0] };
    }
    case 'unsubscribe': {
      if (args[0] === undefined) return error('`/smv unsubscribe` needs a stage or `*`. Try `/smv unsubscribe geo`, or `/smv subscribe` to see what this channel subscribed to.');
      if (args.length > 1) return tooMany('unsubscribe', 'one stage (or `*`)', args);
      return { kind: 'unsubscribe', stage: args[0] };
    }
    default:
      return unknownSubcommand(first);
  }
}

/** What the caller knows about names, to place a lone `/smv history` argument. */
export interface HistoryNames {
  /** True when `name` is a stage (base name or FQN) — the caller's own matching rules apply. */
  isStage: (name: string) => boolean;
  /** Configured consumer names. */
  consumers: readonly string[];
}

/**
 * Turns `history` args into a stage and/or consumer. Two args are positional (stage, consumer);
 * `*` or `all` as the stage means every stage. A lone argument is a stage if it names one
 * (stages win a tie, matching the positional grammar), else a consumer if it names one, else an error.
 * Unknown names in the two-argument form are left for the caller to report.
 */
export function resolveHistoryArgs(
  args: readonly string[],
  names: HistoryNames,
): { kind: 'history'; stage?: string; consumer?: string } | ParseError {
  const [first, second] = args;
  if (first === undefined) return { kind: 'history' };
  const stage = STAGE_WILDCARDS.has(first.toLowerCase()) ? undefined : first;
  if (second !== undefined) return stage === undefined ? { kind: 'history', consumer: second } : { kind: 'history', stage, consumer: second };
  if (stage === undefined) return { kind: 'history' };
  if (names.isStage(stage)) return { kind: 'history', stage };
  const consumer = names.consumers.find((c) => c.toLowerCase() === stage.toLowerCase());
  if (consumer !== undefined) return { kind: 'history', consumer };
  const known = names.consumers.length > 0 ? ` Consumers: ${names.consumers.map((c) => `\`${c}\``).join(', ')}.` : '';
  return error(
    `${code(stage)} is neither a stage nor a consumer.${known} Try \`/smv history geo\`, \`/smv history * client-model\`, or \`/smv releases\` to see the stages.`,
  );
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

function normaliseVersion(version: string): string {
  return version.toLowerCase() === 'latest' ? 'latest' : version;
}

function isSubcommand(word: string): word is Subcommand {
  return (SUBCOMMANDS as readonly string[]).includes(word);
}

function error(message: string): ParseError {
  return { kind: 'error', message };
}

function tooMany(sub: Subcommand, takes: string, args: readonly string[]): ParseError {
  const help = COMMAND_HELP[sub];
  return error(
    `\`/smv ${sub}\` takes ${takes}, but got ${args.length} arguments (${code(args.join(' '))}). ` +
      `Usage: ${code(help.syntax)}. ${examplesText(help.examples)}`,
  );
}

function unknownSubcommand(word: string): ParseError {
  const meant = closest(word, SUBCOMMANDS, 2);
  const suggestion = meant ? ` Did you mean \`/smv ${meant}\`?` : '';
  const list = SUBCOMMANDS.map((sub) => `\`${sub}\``).join(', ');
  return error(`Unknown subcommand ${code(word)}.${suggestion} Subcommands: ${list}. Type \`/smv help\` for examples.`);
}

function examplesText(examples: readonly string[]): string {
  const quoted = examples.map((e) => `\`${e}\``);
  return `${quoted.length === 1 ? 'Example' : 'Examples'}: ${quoted.join(', ')}.`;
}
