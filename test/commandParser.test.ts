import { describe, expect, it } from 'vitest';
import { parseSmvCommand, tokenize, type ParsedCommand } from '../src/slack/commandParser.ts';
import { resolveHistoryArgs } from '../src/slack/commands/history.ts';
import { COMMANDS, SUBCOMMANDS, USAGE, usageOf } from '../src/slack/commands/index.ts';
import { esc } from '../src/slack/render/mrkdwn.ts';

const NBSP = '\u00A0';
const ZWSP = '\u200B';

describe('parseSmvCommand: well-formed commands', () => {
  const cases: Array<[string, ParsedCommand]> = [
    ['', { kind: 'help' }],
    ['   ', { kind: 'help' }],
    ['help', { kind: 'help' }],
    ['HELP', { kind: 'help' }],
    ['--help', { kind: 'help' }],
    ['help adopt', { kind: 'help', topic: 'adopt' }],
    ['help nonsense', { kind: 'help' }],
    ['releases', { kind: 'releases' }],
    ['releases geo', { kind: 'releases', stage: 'geo' }],
    ['Releases com.acme.geo', { kind: 'releases', stage: 'com.acme.geo' }],
    ['pins', { kind: 'pins' }],
    ['pins client-model', { kind: 'pins', consumer: 'client-model' }],
    ['adopt geo TCD.20160802.geo', { kind: 'adopt', stage: 'geo', version: 'TCD.20160802.geo' }],
    ['adopt geo latest', { kind: 'adopt', stage: 'geo', version: 'latest' }],
    ['adopt geo LATEST client-model', { kind: 'adopt', stage: 'geo', version: 'latest', consumer: 'client-model' }],
    ['ADOPT geo TCD.20160802.geo client-model', { kind: 'adopt', stage: 'geo', version: 'TCD.20160802.geo', consumer: 'client-model' }],
    // Several `<stage> <version>` pairs (one commit); an odd last word is the consumer.
    ['adopt geo V1 cms latest', { kind: 'adopt', stage: 'geo', version: 'V1', more: [{ stage: 'cms', version: 'latest' }] }],
    ['adopt geo V1 cms Latest client-model', { kind: 'adopt', stage: 'geo', version: 'V1', more: [{ stage: 'cms', version: 'latest' }], consumer: 'client-model' }],
    ['adopt geo V1 cms V2 trial V3', { kind: 'adopt', stage: 'geo', version: 'V1', more: [{ stage: 'cms', version: 'V2' }, { stage: 'trial', version: 'V3' }] }],
    ['unpin geo', { kind: 'unpin', stage: 'geo' }],
    ['unpin geo client-model', { kind: 'unpin', stage: 'geo', consumer: 'client-model' }],
    ['diff geo TCD.20160801.geo TCD.20160802.geo', { kind: 'diff', stage: 'geo', from: 'TCD.20160801.geo', to: 'TCD.20160802.geo' }],
    ['diff geo TCD.20160801.geo Latest', { kind: 'diff', stage: 'geo', from: 'TCD.20160801.geo', to: 'latest' }],
    ['history', { kind: 'history', args: [] }],
    ['history geo', { kind: 'history', args: ['geo'] }],
    ['history geo client-model', { kind: 'history', args: ['geo', 'client-model'] }],
    ['deprecate geo TCD.20160802.geo', { kind: 'deprecate', stage: 'geo', version: 'TCD.20160802.geo', reason: null }],
    ['deprecate geo TCD.20160802.geo zip codes  shifted', { kind: 'deprecate', stage: 'geo', version: 'TCD.20160802.geo', reason: 'zip codes shifted' }],
    ['undeprecate geo TCD.20160802.geo', { kind: 'undeprecate', stage: 'geo', version: 'TCD.20160802.geo' }],
    ['subscribe', { kind: 'subscribe' }],
    ['subscribe geo', { kind: 'subscribe', stage: 'geo' }],
    ['subscribe *', { kind: 'subscribe', stage: '*' }],
    ['unsubscribe *', { kind: 'unsubscribe', stage: '*' }],
    // A trailing `force` (admins: through a freeze).
    ['adopt geo TCD.20160802.geo force', { kind: 'adopt', stage: 'geo', version: 'TCD.20160802.geo', force: true }],
    ['adopt geo latest client-model FORCE', { kind: 'adopt', stage: 'geo', version: 'latest', consumer: 'client-model', force: true }],
    ['unpin geo force', { kind: 'unpin', stage: 'geo', force: true }],
    ['unpin geo client-model force', { kind: 'unpin', stage: 'geo', consumer: 'client-model', force: true }],
    // Without `for`/`until` the first word may be a consumer or start the reason (resolving decides).
    ['freeze', { kind: 'freeze', span: { kind: 'open' }, reason: null }],
    ['freeze client-model', { kind: 'freeze', leading: 'client-model', span: { kind: 'open' }, reason: null }],
    ['freeze quarter-end  runs', { kind: 'freeze', leading: 'quarter-end', span: { kind: 'open' }, reason: 'runs' }],
    ['freeze for 36h', { kind: 'freeze', span: { kind: 'for', hours: 36, typed: '36h' }, reason: null }],
    ['freeze FOR 2D quarter-end runs', { kind: 'freeze', span: { kind: 'for', hours: 48, typed: '2d' }, reason: 'quarter-end runs' }],
    ['freeze client-model until 2026-12-31 quarter-end', { kind: 'freeze', consumer: 'client-model', span: { kind: 'until', day: '2026-12-31' }, reason: 'quarter-end' }],
    ['freeze until 2028-02-29', { kind: 'freeze', span: { kind: 'until', day: '2028-02-29' }, reason: null }],
    ['unfreeze', { kind: 'unfreeze' }],
    ['unfreeze client-model', { kind: 'unfreeze', consumer: 'client-model' }],
  ];
  it.each(cases)('/smv %j', (text, expected) => {
    expect(parseSmvCommand(text)).toEqual(expected);
  });
});

describe('parseSmvCommand: whitespace, quotes and Slack escaping', () => {
  const adoptGeo: ParsedCommand = { kind: 'adopt', stage: 'geo', version: 'TCD.20160802.geo' };
  const cases: Array<[string, string, ParsedCommand]> = [
    ['several spaces', '  adopt   geo    TCD.20160802.geo  ', adoptGeo],
    ['tabs and newline', '\tadopt\tgeo\nTCD.20160802.geo\t', adoptGeo],
    ['non-breaking spaces', `adopt${NBSP}geo${NBSP}TCD.20160802.geo`, adoptGeo],
    ['zero-width space', `adopt geo${ZWSP} TCD.20160802.geo`, adoptGeo],
    ['straight quotes', 'adopt "geo" \'TCD.20160802.geo\'', adoptGeo],
    ['smart quotes', 'adopt \u201Cgeo\u201D \u2018TCD.20160802.geo\u2019', adoptGeo],
    ['backticks from copied code', 'adopt `geo` `TCD.20160802.geo`', adoptGeo],
    ['auto-linked version', 'adopt geo <http://TCD.20160802.geo|TCD.20160802.geo>', adoptGeo],
    ['linked version without label', 'adopt geo <http://TCD.20160802.geo>', adoptGeo],
    ['lone quote is no argument', 'releases "', { kind: 'releases' }],
  ];
  it.each(cases)('%s', (_name, text, expected) => {
    expect(parseSmvCommand(text)).toEqual(expected);
  });

  it('keeps an escaped placeholder typed literally, so validation can reject it by name', () => {
    expect(parseSmvCommand('adopt geo &lt;version&gt;')).toEqual({ kind: 'adopt', stage: 'geo', version: '<version>' });
  });

  it('keeps angle brackets that are not Slack markup: a deprecation reason `<b>` stays `<b>`', () => {
    expect(parseSmvCommand('deprecate geo TCD.20160802.geo <b>bold</b> & more')).toEqual({
      kind: 'deprecate',
      stage: 'geo',
      version: 'TCD.20160802.geo',
      reason: '<b>bold</b> & more',
    });
    // As Slack sends it (escaped): the same reason.
    expect(parseSmvCommand('deprecate geo TCD.20160802.geo &lt;b&gt;bold&lt;/b&gt; &amp; more')).toMatchObject({ reason: '<b>bold</b> & more' });
    // Slack's own markup is still unwrapped.
    expect(tokenize('<@U0ADMIN|ada> <#C0TEAMB|team-b> <mailto:a@b.c|a@b.c>')).toEqual(['ada', 'team-b', 'a@b.c']);
  });

  it('tokenize drops empty words', () => {
    expect(tokenize(` a ${NBSP} b\t\n`)).toEqual(['a', 'b']);
  });
});

describe('help and usage texts are mrkdwn-safe', () => {
  // `<version|latest>` sent raw is Slack link syntax (a link to "version" labelled "latest").
  const notSlacks = /<(?![@#!]|https?:\/\/|mailto:)/;

  it('escape every placeholder in the full usage and in each command\'s usage', () => {
    expect(USAGE).toContain('`/smv adopt &lt;stage&gt; &lt;version|latest&gt; [&lt;stage&gt; &lt;version|latest&gt;…] [consumer]`');
    expect(USAGE).not.toMatch(notSlacks);
    for (const sub of SUBCOMMANDS) expect(usageOf(sub)).not.toMatch(notSlacks);
  });

  it('escape every placeholder in the mistakes\' messages', () => {
    for (const text of ['adopt', 'adopt cms', 'diff geo v1 v2 v3', 'undeprecate geo', 'deprecate geo', 'frobnicate', 'unsubscribe', 'pins a b', 'freeze for 2 days', 'freeze until 2026-13-01', 'unfreeze a b']) {
      const parsed = parseSmvCommand(text);
      if (parsed.kind !== 'error') throw new Error(`expected an error for ${text}`);
      expect(parsed.message, text).not.toMatch(notSlacks);
    }
  });
});

describe('parseSmvCommand: mistakes get a message saying what was wrong and what to type', () => {
  const cases: Array<[string, string[]]> = [
    ['adopt', ['`/smv adopt` needs a stage and a version', '`/smv adopt geo TCD.20160802.geo`', '`/smv adopt geo latest`']],
    ['adopt cms', ['`/smv adopt cms` is missing the version', '`/smv adopt cms latest`', '`/smv releases cms`']],
    ['unpin', ['`/smv unpin` needs a stage', '`/smv unpin geo`']],
    ['unpin geo client-model extra', ['`/smv unpin` takes a stage and optionally a consumer', 'got 3 arguments']],
    ['diff geo v1', ['`/smv diff geo v1` needs a stage and two versions', '`/smv diff geo TCD.20160801.geo TCD.20160802.geo`']],
    ['diff', ['`/smv diff` needs a stage and two versions']],
    ['diff geo v1 v2 v3', ['`/smv diff` takes a stage and two versions', 'got 4 arguments']],
    ['releases geo cms', ['`/smv releases` takes at most one stage', 'got 2 arguments (`geo cms`)', '`/smv releases geo`']],
    ['pins a b', ['`/smv pins` takes at most one consumer', '`/smv pins client-model`']],
    ['history a b c', ['`/smv history` takes at most a stage and a consumer', '`/smv history geo client-model`']],
    ['adpot geo latest', ['Unknown subcommand `adpot`', 'Did you mean `/smv adopt`?', '`releases`, `pins`, `adopt`, `unpin`, `diff`, `history`, `deprecate`, `undeprecate`, `subscribe`, `unsubscribe`, `freeze`, `unfreeze`, `retention`, `help`']],
    ['release', ['Unknown subcommand `release`', 'Did you mean `/smv releases`?']],
    ['deprecate geo', ['`/smv deprecate` needs a stage and a version', '`/smv deprecate geo TCD.20160802.geo zip codes shifted by one`']],
    ['undeprecate geo', ['`/smv undeprecate` needs a stage and a version', '`/smv undeprecate geo TCD.20160802.geo`']],
    ['unsubscribe', ['`/smv unsubscribe` needs a stage or `*`', '`/smv subscribe` to see']],
    ['subscribe geo cms', ['`/smv subscribe` takes at most one stage (or `*`)', 'got 2 arguments']],
    ['frobnicate', ['Unknown subcommand `frobnicate`', 'Subcommands: `releases`', 'Type `/smv help`']],
    ['adopt geo force', ['`/smv adopt geo` is missing the version']],
    ['freeze for', ['`for` needs a length in hours or days', '`/smv freeze for 36h`', 'lasts until `/smv unfreeze`']],
    ['freeze for 0h', ['A freeze `for 0h` would end at once', 'at least 1 hour']],
    ['freeze client-model for 0d', ['A freeze `for 0d` would end at once']],
    ['freeze for 36 hours', ['`for 36` is not a length', '(`36h`, `2d`)', '`/smv freeze client-model for 2d quarter-end runs`']],
    ['freeze for 1.5d', ['`for 1.5d` is not a length']],
    ['freeze for 3651d', ['`for 3651d` is longer than ten years', 'leave out `for`']],
    ['freeze until', ['`until` needs the freeze\'s last day as YYYY-MM-DD', 'through that day, UTC']],
    ['freeze until 2026-02-30', ['`until 2026-02-30` is not a date', 'YYYY-MM-DD']],
    ['freeze until 31.12.2026', ['`until 31.12.2026` is not a date']],
    ['freeze client-model until tomorrow', ['`until tomorrow` is not a date']],
    ['unfreeze a b', ['`/smv unfreeze` takes at most one consumer', 'got 2 arguments']],
  ];
  it.each(cases)('/smv %s', (text, fragments) => {
    const parsed = parseSmvCommand(text);
    expect(parsed.kind).toBe('error');
    const message = parsed.kind === 'error' ? parsed.message : '';
    for (const fragment of fragments) expect(message).toContain(fragment);
  });

  it('does not suggest a subcommand for something unrelated', () => {
    const parsed = parseSmvCommand('frobnicate');
    expect(parsed.kind === 'error' && parsed.message).not.toContain('Did you mean');
  });
});

describe('resolveHistoryArgs', () => {
  const names = { isStage: (n: string) => ['geo', 'com.acme.geo', 'cms'].includes(n), consumers: ['client-model', 'geo'] };
  const cases: Array<[string[], ReturnType<typeof resolveHistoryArgs>]> = [
    [[], { kind: 'history' }],
    [['cms'], { kind: 'history', stage: 'cms' }],
    [['Client-Model'], { kind: 'history', consumer: 'client-model' }],
    // A name that is both a stage and a consumer counts as the stage, like its position says.
    [['geo'], { kind: 'history', stage: 'geo' }],
    [['geo', 'client-model'], { kind: 'history', stage: 'geo', consumer: 'client-model' }],
    [['*', 'client-model'], { kind: 'history', consumer: 'client-model' }],
    [['all'], { kind: 'history' }],
  ];
  it.each(cases)('%j', (args, expected) => {
    expect(resolveHistoryArgs(args, names)).toEqual(expected);
  });

  it('explains a lone argument that names nothing, listing the consumers', () => {
    const resolved = resolveHistoryArgs(['nope'], names);
    expect(resolved).toEqual({ kind: 'error', message: expect.stringContaining('`nope` is neither a stage nor a consumer') });
    expect(resolved.kind === 'error' && resolved.message).toContain('`client-model`');
  });

  it('works end to end from the parsed command', () => {
    const parsed = parseSmvCommand('history client-model');
    expect(parsed.kind === 'history' && resolveHistoryArgs(parsed.args, names)).toEqual({ kind: 'history', consumer: 'client-model' });
  });
});

describe('USAGE', () => {
  it('shows every subcommand with an example that itself parses to that subcommand', () => {
    for (const command of COMMANDS) {
      expect(USAGE).toContain(esc(command.usage));
      for (const example of command.examples) {
        expect(USAGE).toContain(example);
        expect(parseSmvCommand(example.replace(/^\/smv\s*/, '')).kind).toBe(command.name);
      }
    }
  });
});
