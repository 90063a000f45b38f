import { describe, expect, it } from 'vitest';
import * as pins from '../src/domain/pins.ts';
import { effectivePinIn, pinKeys } from '../src/domain/pins.ts';
import { parseProps, toMap } from '../src/domain/props.ts';
import { toStage } from '../src/domain/stages.ts';
import type { EffectivePin } from '../src/domain/types.ts';
import { describePin, refusalText } from '../src/slack/render/refusals.ts';
import { CASE_STUDY_USER_CONF as CASE_STUDY, SMV_SAMPLES } from './support/javaPropsSamples.ts';

const geo = toStage('com.acme.geo');
const cms = toStage('com.acme.cms');
const trial = toStage('com.acme.trial');
const otherGeo = toStage('org.other.geo');
const STAGES = [geo, cms, trial];
const CLASHING = [geo, cms, trial, otherGeo];

/** SMV reads stage versions only for the stages of the consumer's `smv.stages`: these cases list the stages they know. */
const listing = (stages: readonly { fqn: string }[]) => `smv.stages = ${stages.map((s) => s.fqn).join(', ')}\n`;
const pinSources = (files: pins.PropsFiles) => pins.pinSources({ ...files, app: listing(CLASHING) + (files.app ?? '') });
const setPin = (input: pins.SetPinInput) => pins.setPin({ ...input, appText: listing(input.knownStages) + (input.appText ?? '') });
const removePin = (input: pins.RemovePinInput) => pins.removePin({ ...input, appText: listing(input.knownStages) + (input.appText ?? '') });

const pin = (version: string | null, key: string | null, source: 'app' | 'user' | null): EffectivePin => ({ version, key, source });

/** The output must be the input with exactly `oldLine` (its last occurrence) replaced by `newLine`: one region, nothing else. */
function expectSingleSplice(before: string, after: string, oldLine: string, newLine: string) {
  const at = before.lastIndexOf(oldLine);
  expect(at, `${JSON.stringify(oldLine)} not in input`).toBeGreaterThanOrEqual(0);
  expect(after).toBe(before.slice(0, at) + newLine + before.slice(at + oldLine.length));
}

describe('pinKeys', () => {
  it('gives the base-name and FQN keys', () => {
    expect(pinKeys(geo)).toEqual({ base: 'smv.stages.geo.version', fqn: 'smv.stages.com.acme.geo.version' });
  });
});

describe('effectivePinIn follows SMV precedence', () => {
  const cases: [string, string | null, string | null, EffectivePin][] = [
    ['unpinned', null, null, pin(null, null, null)],
    ['case-study user conf', null, CASE_STUDY, pin('TCD.20160802.geo', 'smv.stages.geo.version', 'user')],
    ['same key: user overrides app', 'smv.stages.geo.version = A\n', 'smv.stages.geo.version = U\n', pin('U', 'smv.stages.geo.version', 'user')],
    ['app only', 'smv.stages.geo.version = A\n', null, pin('A', 'smv.stages.geo.version', 'app')],
    ['base beats FQN in one file', null, 'smv.stages.com.acme.geo.version = F\nsmv.stages.geo.version = B\n', pin('B', 'smv.stages.geo.version', 'user')],
    ['base in app beats FQN in user', 'smv.stages.geo.version = APP\n', 'smv.stages.com.acme.geo.version = USER\n', pin('APP', 'smv.stages.geo.version', 'app')],
    ['FQN in user over FQN in app', 'smv.stages.com.acme.geo.version = A\n', 'smv.stages.com.acme.geo.version = U\n', pin('U', 'smv.stages.com.acme.geo.version', 'user')],
    ['FQN in app only', 'smv.stages.com.acme.geo.version = A\n', 'smv.dataDir = /d\n', pin('A', 'smv.stages.com.acme.geo.version', 'app')],
    ['commented keys do not pin', null, '#smv.stages.geo.version = X\n! smv.stages.com.acme.geo.version = Y\n', pin(null, null, null)],
    ['continued key and value', null, 'smv.stages.\\\n  geo.version = TCD.\\\n  1\n', pin('TCD.1', 'smv.stages.geo.version', 'user')],
    ['last duplicate wins', null, 'smv.stages.geo.version = 1\nsmv.stages.geo.version = 2\n', pin('2', 'smv.stages.geo.version', 'user')],
    ['empty base value still shadows the FQN key (as in SMV)', 'smv.stages.com.acme.geo.version = A\n', 'smv.stages.geo.version =\n', pin('', 'smv.stages.geo.version', 'user')],
  ];
  it.each(cases)('%s', (_name, app, user, expected) => {
    expect(effectivePinIn(geo, pinSources({ app, user }))).toEqual(expected);
  });

  it('describes a pin for people', () => {
    expect(describePin(pin('A', 'smv.stages.geo.version', 'app'))).toBe('A (`smv.stages.geo.version` in the app conf)');
    expect(describePin(pin(null, null, null))).toBe('not pinned');
  });
});

describe('setPin edits only the winning logical line', () => {
  const V = 'TCD.20160901.geo';
  const cases: { name: string; user: string | null; app?: string; stages?: typeof STAGES; oldLine: string; newLine: string; key: string }[] = [
    { name: 'replaces the case-study pin', user: CASE_STUDY, oldLine: 'smv.stages.geo.version = TCD.20160802.geo', newLine: `smv.stages.geo.version = ${V}`, key: 'smv.stages.geo.version' },
    { name: 'edits the last of duplicate keys', user: 'smv.stages.geo.version = A\n# keep\nsmv.stages.geo.version = B\nx = 1\n', oldLine: 'smv.stages.geo.version = B', newLine: `smv.stages.geo.version = ${V}`, key: 'smv.stages.geo.version' },
    { name: 'collapses a continued value into one line', user: 'a = 1\nsmv.stages.geo.version = TCD.\\\n    old\nb = 2\n', oldLine: 'smv.stages.geo.version = TCD.\\\n    old', newLine: `smv.stages.geo.version = ${V}`, key: 'smv.stages.geo.version' },
    { name: 'writes a continued key as one line', user: 'smv.stages.\\\n   geo.version = old\nb = 2\n', oldLine: 'smv.stages.\\\n   geo.version = old', newLine: `smv.stages.geo.version = ${V}`, key: 'smv.stages.geo.version' },
    { name: 'keeps CRLF everywhere', user: 'a = 1\r\nsmv.stages.geo.version=OLD\r\nb = 2\r\n', oldLine: 'smv.stages.geo.version=OLD', newLine: `smv.stages.geo.version=${V}`, key: 'smv.stages.geo.version' },
    { name: 'keeps CR-only line ends', user: 'a = 1\rsmv.stages.geo.version = OLD\rb = 2\r', oldLine: 'smv.stages.geo.version = OLD', newLine: `smv.stages.geo.version = ${V}`, key: 'smv.stages.geo.version' },
    { name: 'keeps a missing final newline', user: 'a = 1\nsmv.stages.geo.version = OLD', oldLine: 'smv.stages.geo.version = OLD', newLine: `smv.stages.geo.version = ${V}`, key: 'smv.stages.geo.version' },
    { name: 'keeps a : separator', user: 'smv.stages.geo.version: OLD\n', oldLine: 'smv.stages.geo.version: OLD', newLine: `smv.stages.geo.version: ${V}`, key: 'smv.stages.geo.version' },
    { name: 'keeps a whitespace separator', user: 'smv.stages.geo.version   OLD\n', oldLine: 'smv.stages.geo.version   OLD', newLine: `smv.stages.geo.version   ${V}`, key: 'smv.stages.geo.version' },
    { name: 'keeps an escaped key spelling and indentation', user: '  smv.stages.geo\\u002eversion = OLD\n', oldLine: '  smv.stages.geo\\u002eversion = OLD', newLine: `  smv.stages.geo\\u002eversion = ${V}`, key: 'smv.stages.geo.version' },
    { name: 'fills an empty value', user: 'smv.stages.geo.version=\nz = 1\n', oldLine: 'smv.stages.geo.version=', newLine: `smv.stages.geo.version = ${V}`, key: 'smv.stages.geo.version' },
    { name: 'edits an FQN key already in the user conf', user: 'smv.stages.com.acme.geo.version = OLD\n', oldLine: 'smv.stages.com.acme.geo.version = OLD', newLine: `smv.stages.com.acme.geo.version = ${V}`, key: 'smv.stages.com.acme.geo.version' },
    { name: 'rewrites the base key when both keys are in the user conf', user: 'smv.stages.com.acme.geo.version = F\nsmv.stages.geo.version = B\n', oldLine: 'smv.stages.geo.version = B', newLine: `smv.stages.geo.version = ${V}`, key: 'smv.stages.geo.version' },
  ];
  it.each(cases)('$name', ({ user, app, stages, oldLine, newLine, key }) => {
    const result = setPin({ userText: user, appText: app ?? null, stage: geo, version: V, knownStages: stages ?? STAGES });
    expect(result).toMatchObject({ ok: true, changed: true, key });
    if (!result.ok) return;
    expectSingleSplice(user ?? '', result.text, oldLine, newLine);
    expect(effectivePinIn(geo, pinSources({ app: app ?? null, user: result.text })).version).toBe(V);
  });

  const appends: { name: string; user: string | null; app?: string; stages?: typeof STAGES; expected: string; key: string }[] = [
    { name: 'creates the file', user: null, expected: `smv.stages.geo.version = ${V}\n`, key: 'smv.stages.geo.version' },
    { name: 'appends to an empty file', user: '', expected: `smv.stages.geo.version = ${V}\n`, key: 'smv.stages.geo.version' },
    { name: 'appends to the enterprise user conf', user: SMV_SAMPLES['enterprise/smv-user-conf.props'], expected: `# data dir\nsmv.dataDir = file://_PROJ_DIR_FULL_PATH_/data\nsmv.stages.geo.version = ${V}\n`, key: 'smv.stages.geo.version' },
    { name: 'adds a line end first when the file lacks one', user: 'a = 1', expected: `a = 1\nsmv.stages.geo.version = ${V}\n`, key: 'smv.stages.geo.version' },
    { name: 'appends with CRLF in a CRLF file', user: 'a = 1\r\nb = 2', expected: `a = 1\r\nb = 2\r\nsmv.stages.geo.version = ${V}\r\n`, key: 'smv.stages.geo.version' },
    { name: 'ignores a commented-out key', user: '#smv.stages.geo.version = X\n', expected: `#smv.stages.geo.version = X\nsmv.stages.geo.version = ${V}\n`, key: 'smv.stages.geo.version' },
    { name: 'uses the FQN key when the base name is shared', user: 'a = 1\n', stages: CLASHING, expected: `a = 1\nsmv.stages.com.acme.geo.version = ${V}\n`, key: 'smv.stages.com.acme.geo.version' },
    { name: 'writes the base key when the app conf has it (it beats any FQN key)', user: 'smv.stages.com.acme.geo.version = OLD\n', app: 'smv.stages.geo.version = APP\n', expected: `smv.stages.com.acme.geo.version = OLD\nsmv.stages.geo.version = ${V}\n`, key: 'smv.stages.geo.version' },
    { name: 'goes before a dangling continuation at the end of the file', user: 'a = 1\nb = 2\\', expected: `a = 1\nsmv.stages.geo.version = ${V}\nb = 2\\`, key: 'smv.stages.geo.version' },
  ];
  it.each(appends)('$name', ({ user, app, stages, expected, key }) => {
    const result = setPin({ userText: user, appText: app ?? null, stage: geo, version: V, knownStages: stages ?? STAGES });
    expect(result).toMatchObject({ ok: true, changed: true, key, text: expected });
    expect(effectivePinIn(geo, pinSources({ app: app ?? null, user: expected })).version).toBe(V);
  });

  it('keeps every other key exactly (parsed) in a busy file', () => {
    const user = '! header \\\n# smv.stages.geo.version = commented\r\nsmv.appName = My \\\r\n   App\r\n\r\nsmv.stages.geo.version = OLD\r\nsmv.stages = com.acme.geo:\\\r\n b\r\n';
    const result = setPin({ userText: user, appText: null, stage: geo, version: V, knownStages: STAGES });
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expectSingleSplice(user, result.text, 'smv.stages.geo.version = OLD', `smv.stages.geo.version = ${V}`);
    const before = toMap(parseProps(user));
    const after = toMap(parseProps(result.text));
    expect(Object.fromEntries(after)).toEqual({ ...Object.fromEntries(before), 'smv.stages.geo.version': V });
  });

  it('reports the previous effective pin', () => {
    const result = setPin({ userText: CASE_STUDY, appText: null, stage: geo, version: V, knownStages: STAGES });
    expect(result).toMatchObject({ ok: true, previous: pin('TCD.20160802.geo', 'smv.stages.geo.version', 'user') });
  });

  it('changes nothing when the pin is already effective, even from the app conf', () => {
    const user = 'a = 1\r\nsmv.stages.geo.version = TCD.1\r\n';
    expect(setPin({ userText: user, appText: null, stage: geo, version: 'TCD.1', knownStages: STAGES })).toEqual({
      ok: true, text: user, changed: false, key: 'smv.stages.geo.version', previous: pin('TCD.1', 'smv.stages.geo.version', 'user'),
    });
    expect(setPin({ userText: null, appText: 'smv.stages.com.acme.geo.version = TCD.1\n', stage: geo, version: 'TCD.1', knownStages: STAGES })).toMatchObject({
      ok: true, text: '', changed: false, key: 'smv.stages.com.acme.geo.version',
    });
  });

  it('refuses when a shared base-name key is set (pinning one stage would move the other)', () => {
    const result = setPin({ userText: null, appText: 'smv.stages.geo.version = APP\n', stage: geo, version: V, knownStages: CLASHING });
    expect(result).toMatchObject({ ok: false, code: 'ambiguous-base-pin' });
    expect(!result.ok && refusalText(result)).toBe(
      '`smv.stages.geo.version` (in the app conf) applies to every stage named `geo` (`com.acme.geo`, `org.other.geo`), ' +
        'and SMV reads it before any FQN key, so `com.acme.geo` cannot be pinned on its own. ' +
        'Replace that line by hand with one FQN key per stage (`smv.stages.com.acme.geo.version`, `smv.stages.org.other.geo.version`), then try again.',
    );
  });

  it('refuses to pin a top-level stage whose key is also another stage base key', () => {
    const topGeo = toStage('geo');
    const result = setPin({ userText: null, appText: null, stage: topGeo, version: V, knownStages: [topGeo, geo] });
    expect(result).toMatchObject({ ok: false, code: 'pin-side-effect' });
    expect(!result.ok && refusalText(result)).toContain('would also change the pin of `com.acme.geo` (not pinned → TCD.20160901.geo');
  });

  it('refuses a file Java cannot load, naming the line', () => {
    const result = setPin({ userText: 'a = 1\nb = \\u12G4\n', appText: null, stage: geo, version: V, knownStages: STAGES });
    expect(result).toMatchObject({ ok: false, code: 'props-syntax-error' });
    expect(!result.ok && refusalText(result)).toContain('`conf/smv-user-conf.props` cannot be loaded by Java/SMV: line 2: malformed');
    const fromApp = setPin({ userText: null, appText: 'x = \\u\n', stage: geo, version: V, knownStages: STAGES });
    expect(!fromApp.ok && refusalText(fromApp)).toContain('`conf/smv-app-conf.props` cannot be loaded');
  });

  it('refuses an empty version', () => {
    expect(setPin({ userText: null, appText: null, stage: geo, version: '', knownStages: STAGES })).toMatchObject({ ok: false, code: 'invalid-version' });
  });

  it('pins the case-study stages one after another', () => {
    let text: string | null = null;
    for (const [stage, version] of [[geo, 'TCD.20160802.geo'], [cms, 'TCD.20160802.cms'], [trial, 'TCD.20160802.trial']] as const) {
      const result = setPin({ userText: text, appText: null, stage, version, knownStages: STAGES });
      if (!result.ok) throw new Error(refusalText(result));
      text = result.text;
    }
    expect(text).toBe(CASE_STUDY);
  });
});

describe('removePin', () => {
  it('removes the whole logical line and nothing else', () => {
    const result = removePin({ userText: CASE_STUDY, appText: null, stage: cms, knownStages: STAGES });
    expect(result).toEqual({
      ok: true,
      text: 'smv.stages.geo.version = TCD.20160802.geo\nsmv.stages.trial.version = TCD.20160802.trial\n',
      changed: true,
      removedKeys: ['smv.stages.cms.version'],
      stillPinnedBy: pin(null, null, null),
    });
  });

  it('removes base and FQN keys, duplicates and continuation lines, keeping CRLF and the rest', () => {
    const user = 'a = 1\r\nsmv.stages.geo.version = X\r\n# c\r\nsmv.stages.com.acme.geo.version = Y\\\r\n   Z\r\nb = 2\r\nsmv.stages.geo.version = W';
    const result = removePin({ userText: user, appText: null, stage: geo, knownStages: STAGES });
    expect(result).toMatchObject({ ok: true, changed: true, text: 'a = 1\r\n# c\r\nb = 2\r\n' });
    expect(result.ok && [...result.removedKeys].sort()).toEqual(['smv.stages.com.acme.geo.version', 'smv.stages.geo.version']);
  });

  it('says when the app conf still pins the stage', () => {
    const result = removePin({ userText: CASE_STUDY, appText: 'smv.stages.com.acme.geo.version = APP\n', stage: geo, knownStages: STAGES });
    expect(result).toMatchObject({ ok: true, changed: true, stillPinnedBy: pin('APP', 'smv.stages.com.acme.geo.version', 'app') });
  });

  it('changes nothing when the user conf has no pin for the stage', () => {
    const user = 'a = 1\n#smv.stages.geo.version = X\n';
    expect(removePin({ userText: user, appText: 'smv.stages.geo.version = APP\n', stage: geo, knownStages: STAGES })).toEqual({
      ok: true, text: user, changed: false, removedKeys: [], stillPinnedBy: pin('APP', 'smv.stages.geo.version', 'app'),
    });
    expect(removePin({ userText: null, appText: null, stage: geo, knownStages: STAGES })).toMatchObject({ ok: true, text: '', changed: false });
  });

  it('refuses to remove a base-name key shared with another stage', () => {
    const result = removePin({ userText: CASE_STUDY, appText: null, stage: geo, knownStages: CLASHING });
    expect(result).toMatchObject({ ok: false, code: 'ambiguous-base-pin' });
    expect(!result.ok && refusalText(result)).toContain('so removing it would unpin the others too');
  });

  it('removes an FQN key even when the base name is shared', () => {
    const user = 'smv.stages.com.acme.geo.version = A\nsmv.stages.org.other.geo.version = B\n';
    const result = removePin({ userText: user, appText: null, stage: geo, knownStages: CLASHING });
    expect(result).toMatchObject({ ok: true, changed: true, text: 'smv.stages.org.other.geo.version = B\n' });
  });

  it('refuses a file Java cannot load', () => {
    expect(removePin({ userText: 'smv.stages.geo.version = \\uXYZW\n', appText: null, stage: geo, knownStages: STAGES })).toMatchObject({ ok: false, code: 'props-syntax-error' });
  });
});
