// Java is the oracle: a deterministic corpus of tricky .properties files is loaded by
// java.util.Properties (test/java/PropsDump.java) and by parseProps; they must agree on
// every file. Then every file is edited with setPin/removePin and Java must read the
// pin, and every other key unchanged, from the edited bytes.

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { prng, type Rng } from './support/prng.ts';
import { parseProps, toMap } from '../src/domain/props.ts';
import { effectivePinIn, pinKeys, pinSources, removePin, setPin } from '../src/domain/pins.ts';
import { parseStagesList, toStage } from '../src/domain/stages.ts';
import type { Stage } from '../src/domain/types.ts';
import { refusalText } from '../src/slack/render/refusals.ts';
import { javaMap, loadWithJava, sameMap, showMap as show, type JavaPropsResult } from './support/javaProps.ts';
import { CASE_STUDY_USER_CONF, SMV_SAMPLES } from './support/javaPropsSamples.ts';

const FILE_COUNT = 400;

/** mulberry32: small, seeded, deterministic. */

const PIN_KEYS = [
  'smv.stages.geo.version',
  'smv.stages.com.acme.geo.version',
  'smv.stages.org.other.geo.version',
  'smv.stages.cms.version',
  'smv.stages.com.acme.cms.version',
  'smv.stages.trial.version',
];
const PLAIN_KEYS = ['smv.appName', 'smv.dataDir', 'smv.stages', 'smv.publishDir', 'a', 'key', 'x.y.z', 'ünïcödé', '键', 'k😀'];
const KEY_ESCAPES = ['\\=', '\\:', '\\ ', '\\t', '\\\\', '\\u00e9', '\\u0041', '\\q', '\\#', '\\!', '\\n', '\\f', '\\uD83D\\uDE00', '\\uD800'];
const VALUE_FRAGMENTS = [
  'TCD.20160802.geo', 'value', 'two words', 'a=b', 'x:y', '#not-comment', '!bang', ' spaced ', '\\\\', '\\t', '\\n', '\\r', '\\f',
  '\\u0041', '\\u00E9', '\\uD83D\\uDE00', '\\q', '\\=', '\\:', '\\ ', 'é', '中文', '😀', 'file://x/data', '=', ':', '\t', '\f', 'trailing  ',
];
const SEPARATORS = ['=', ':', ' ', '\t', '\f', ' = ', ' : ', '\t=\t', ' =', ': ', '  ', ' \f', '= ', ' = =', ':=', '==', ' :: ', '=:', ' \t: '];
const INDENTS = ['', '', '', ' ', '  ', '\t', ' \t ', '\f'];

function rawKey(r: Rng): string {
  if (r.chance(0.45)) return r.pick(PIN_KEYS);
  if (r.chance(0.5)) return r.pick(PLAIN_KEYS);
  let key = r.pick(['k', 'smv.', 'ключ', 'p']);
  for (let i = r.int(3); i >= 0; i--) key += r.chance(0.5) ? r.pick(KEY_ESCAPES) : r.pick(['a', 'B', '.', '9', 'é']);
  return key;
}

function rawValue(r: Rng): string {
  let value = '';
  for (let i = r.int(4); i > 0; i--) value += r.pick(VALUE_FRAGMENTS);
  return value;
}

function makeEol(r: Rng): () => string {
  const style = r.pick(['lf', 'lf', 'crlf', 'cr', 'mixed'] as const);
  if (style === 'mixed') return () => r.pick(['\n', '\r\n', '\r']);
  const eol = style === 'lf' ? '\n' : style === 'crlf' ? '\r\n' : '\r';
  return () => eol;
}

/** One logical line of some kind, without its final terminator. */
function logicalLine(r: Rng, eol: () => string, allowMalformed: boolean): string {
  const indent = r.pick(INDENTS);
  switch (r.int(12)) {
    case 0: // comment, maybe looking like a key, maybe ending in a backslash (must not continue)
      return indent + r.pick(['#', '!']) + r.pick([' smv.stages.geo.version = X', 'comment', ' a=b \\', '\\', ' trailing \\\\\\', '']);
    case 1: // blank line, possibly with whitespace
      return r.pick(['', ' ', '\t', ' \f ', '   ']);
    case 2: // key without value
      return indent + rawKey(r) + r.pick(['', ' ', '\t']);
    case 3: // key with separator and empty value
      return indent + rawKey(r) + r.pick(SEPARATORS);
    case 4: {
      // value continued over several physical lines
      let line = indent + rawKey(r) + r.pick(SEPARATORS) + rawValue(r);
      for (let i = 1 + r.int(3); i > 0; i--) {
        line += r.pick(['\\', '\\\\\\']) + eol() + r.pick(INDENTS) + r.pick(['', '#x', '!y', 'more', 'a = b', rawValue(r)]);
      }
      return line;
    }
    case 5: // even number of trailing backslashes: no continuation
      return indent + rawKey(r) + r.pick(SEPARATORS) + rawValue(r) + '\\\\';
    case 6: // key itself continued, or a lone backslash line starting the logical line
      return r.chance(0.5)
        ? indent + 'smv.stages.\\' + eol() + r.pick(INDENTS) + 'geo.version = ' + rawValue(r)
        : indent + '\\' + eol() + r.pick(['#c', '', ' k = v', 'key']);
    case 7: // continuation into an empty line ends the logical line
      return indent + rawKey(r) + ' = ' + rawValue(r) + '\\' + eol();
    case 8:
      if (allowMalformed) return indent + rawKey(r) + ' = ' + r.pick(['\\u12', '\\uZZZZ', '\\u00', 'x\\u004']);
      return indent + rawKey(r) + '=' + rawValue(r);
    default:
      return indent + rawKey(r) + r.pick(SEPARATORS) + rawValue(r);
  }
}

function generateFile(seed: number): string {
  const r = prng(seed);
  const eol = makeEol(r);
  const allowMalformed = r.chance(0.04);
  let text = r.chance(0.02) ? '\uFEFF' : '';
  const lines = 1 + r.int(14);
  for (let i = 0; i < lines; i++) {
    text += logicalLine(r, eol, allowMalformed);
    if (i < lines - 1) text += eol();
  }
  const ending = r.int(10);
  if (ending < 6) text += eol();
  else if (ending === 6) text += '\\'; // continuation at end of input
  else if (ending === 7) text += '\\' + eol();
  return text;
}

const KNOWN_STAGES: Stage[] = ['com.acme.geo', 'org.other.geo', 'com.acme.cms', 'trial'].map(toStage);
/** Half the files run without a second `geo`, so base-name keys get edited, not refused. */
const UNAMBIGUOUS_STAGES: Stage[] = KNOWN_STAGES.filter((s) => s.fqn !== 'org.other.geo');
const APP_CONFS: (string | null)[] = [
  null,
  'smv.stages = com.acme.geo, \\\n    com.acme.cms\nsmv.stages.cms.version = APP.cms\n',
  'smv.stages.com.acme.geo.version = APP.geo\r\nsmv.stages.trial.version=APP.trial\r\n',
  '# app\nsmv.stages.com.acme.cms.version : APP.cms.fqn\nsmv.stages.org.other.geo.version APP.other\n',
];

/** SMV reads stage versions only for listed stages: most app confs list the stages the file knows. */
function appConfFor(r: ReturnType<typeof prng>, knownStages: Stage[]): string | null {
  const app = r.pick(APP_CONFS);
  if (r.chance(0.05)) return app;
  return `${app ?? ''}smv.stages = ${knownStages.map((s) => s.fqn).join(', ')}\n`;
}

/** Whether SMV (Java rules, user over app) lists the stage in smv.stages. */
function listed(file: { text: string; app: string | null }, stage: Stage): boolean {
  const stages = toMap(parseProps(file.text)).get('smv.stages') ?? toMap(parseProps(file.app ?? '')).get('smv.stages') ?? '';
  return parseStagesList(stages).includes(stage.fqn);
}

interface CorpusFile {
  name: string;
  text: string;
  app: string | null;
  knownStages: Stage[];
  pinStage: Stage;
  version: string;
  unpinStage: Stage;
}


describe('props parsing and pin edits agree with java.util.Properties', () => {
  let root: string;
  const originals = () => path.join(root, 'original');
  const pinned = () => path.join(root, 'pinned');
  const unpinned = () => path.join(root, 'unpinned');
  const corpus: CorpusFile[] = [];
  let java: Map<string, JavaPropsResult>;
  const pinOutcomes = new Map<string, ReturnType<typeof setPin>>();
  const unpinOutcomes = new Map<string, ReturnType<typeof removePin>>();

  beforeAll(() => {
    root = mkdtempSync(path.join(os.tmpdir(), 'smvbot-props-'));
    for (const dir of [originals(), pinned(), unpinned()]) mkdirSync(dir);
    const samples = [...Object.values(SMV_SAMPLES), CASE_STUDY_USER_CONF];
    samples.forEach((sample, i) => {
      const r = prng(10_000 + i);
      const knownStages = r.chance(0.5) ? KNOWN_STAGES : UNAMBIGUOUS_STAGES;
      corpus.push({ name: `sample-${i}`, text: sample, app: appConfFor(r, knownStages), knownStages, pinStage: r.pick(knownStages), version: `TCD.2016080${i}.x`, unpinStage: r.pick(knownStages) });
    });
    for (let i = 0; i < FILE_COUNT; i++) {
      const r = prng(1_000_000 + i);
      const knownStages = r.chance(0.5) ? KNOWN_STAGES : UNAMBIGUOUS_STAGES;
      corpus.push({
        name: `gen-${String(i).padStart(4, '0')}`,
        text: generateFile(i + 1),
        app: appConfFor(r, knownStages),
        knownStages,
        pinStage: r.pick(knownStages),
        version: `V${i}.${r.pick(['geo', 'cms', 'trial'])}_${r.int(100)}`,
        unpinStage: r.pick(knownStages),
      });
    }
    for (const file of corpus) {
      writeFileSync(path.join(originals(), file.name), file.text, 'utf8');
      const pin = setPin({ userText: file.text, appText: file.app, stage: file.pinStage, version: file.version, knownStages: file.knownStages });
      pinOutcomes.set(file.name, pin);
      if (pin.ok) writeFileSync(path.join(pinned(), file.name), pin.text, 'utf8');
      const unpin = removePin({ userText: file.text, appText: file.app, stage: file.unpinStage, knownStages: file.knownStages });
      unpinOutcomes.set(file.name, unpin);
      if (unpin.ok) writeFileSync(path.join(unpinned(), file.name), unpin.text, 'utf8');
    }
    java = loadWithJava([originals(), pinned(), unpinned()]);
  });

  afterAll(() => {
    if (root) rmSync(root, { recursive: true, force: true });
  });

  it(`parses all ${FILE_COUNT}+ corpus files exactly like Java (zero mismatches)`, () => {
    const mismatches: string[] = [];
    let javaErrors = 0;
    for (const file of corpus) {
      const doc = parseProps(file.text);
      const expected = javaMap(java.get(path.join(originals(), file.name)));
      if (expected === null) javaErrors++;
      const ours = doc.errors.length > 0 ? null : toMap(doc);
      const agree = expected === null ? ours === null : ours !== null && sameMap(ours, expected);
      if (!agree) {
        mismatches.push(`${file.name}\ncontent: ${JSON.stringify(file.text)}\njava:    ${show(expected)}\nours:    ${show(ours)} errors=${JSON.stringify(doc.errors)}`);
      }
    }
    expect(corpus.length).toBeGreaterThanOrEqual(300);
    expect(javaErrors, 'the corpus should include files Java rejects').toBeGreaterThan(0);
    expect(mismatches.length, `${mismatches.length} mismatches; first:\n${mismatches[0]}`).toBe(0);
  });

  it('setPin output is read by Java with the new pin and every other key unchanged', () => {
    const problems: string[] = [];
    const counts = { ok: 0, unchanged: 0, refused: 0 };
    for (const file of corpus) {
      const outcome = pinOutcomes.get(file.name);
      const before = javaMap(java.get(path.join(originals(), file.name)));
      const where = `${file.name} (pin ${file.pinStage.fqn}=${file.version})\ncontent: ${JSON.stringify(file.text)}`;
      if (!outcome) throw new Error(`no outcome for ${file.name}`);
      if (!outcome.ok) {
        counts.refused++;
        const userMap = toMap(parseProps(file.text));
        const appMap = toMap(parseProps(file.app ?? ''));
        const base = pinKeys(file.pinStage).base;
        const legit =
          (outcome.code === 'props-syntax-error' && before === null) ||
          (outcome.code === 'stage-not-listed' && !listed(file, file.pinStage)) ||
          (outcome.code === 'ambiguous-base-pin' && file.knownStages === KNOWN_STAGES && file.pinStage.baseName === 'geo' && (userMap.has(base) || appMap.has(base)));
        if (!legit) problems.push(`${where}\nunexpected refusal ${outcome.code}: ${refusalText(outcome)}`);
        continue;
      }
      if (before === null) {
        problems.push(`${where}\nJava rejects the original but setPin did not refuse`);
        continue;
      }
      if (!outcome.changed) {
        counts.unchanged++;
        if (outcome.text !== file.text) problems.push(`${where}\nchanged:false but text differs`);
        continue;
      }
      counts.ok++;
      const after = javaMap(java.get(path.join(pinned(), file.name)));
      const expected = new Map(before).set(outcome.key, file.version);
      if (after === null || !sameMap(after, expected)) {
        problems.push(`${where}\nedited:  ${JSON.stringify(outcome.text)}\njava:    ${show(after)}\nexpected ${show(expected)}`);
        continue;
      }
      const pin = effectivePinIn(file.pinStage, pinSources({ app: file.app, user: outcome.text }));
      if (pin.version !== file.version) problems.push(`${where}\npin not effective: ${JSON.stringify(pin)}`);
    }
    expect(problems.length, `${problems.length} problems; first:\n${problems[0]}`).toBe(0);
    // The corpus must mostly exercise real edits, not refusals.
    expect(counts.ok).toBeGreaterThan(corpus.length * 0.7);
  });

  it('removePin output is read by Java without the stage keys and every other key unchanged', () => {
    const problems: string[] = [];
    let removed = 0;
    for (const file of corpus) {
      const outcome = unpinOutcomes.get(file.name);
      const before = javaMap(java.get(path.join(originals(), file.name)));
      const where = `${file.name} (unpin ${file.unpinStage.fqn})\ncontent: ${JSON.stringify(file.text)}`;
      if (!outcome) throw new Error(`no outcome for ${file.name}`);
      if (!outcome.ok) {
        const legit =
          (outcome.code === 'props-syntax-error' && before === null) ||
          (outcome.code === 'stage-not-listed' && !listed(file, file.unpinStage)) ||
          (outcome.code === 'ambiguous-base-pin' && file.knownStages === KNOWN_STAGES && file.unpinStage.baseName === 'geo' && (before?.has('smv.stages.geo.version') ?? false));
        if (!legit) problems.push(`${where}\nunexpected refusal ${outcome.code}: ${refusalText(outcome)}`);
        continue;
      }
      if (before === null) {
        problems.push(`${where}\nJava rejects the original but removePin did not refuse`);
        continue;
      }
      if (!outcome.changed) continue;
      removed++;
      const after = javaMap(java.get(path.join(unpinned(), file.name)));
      const expected = new Map(before);
      const { base, fqn } = pinKeys(file.unpinStage);
      expected.delete(base);
      expected.delete(fqn);
      if (after === null || !sameMap(after, expected)) {
        problems.push(`${where}\nedited:  ${JSON.stringify(outcome.text)}\njava:    ${show(after)}\nexpected ${show(expected)}`);
      }
    }
    expect(problems.length, `${problems.length} problems; first:\n${problems[0]}`).toBe(0);
    expect(removed).toBeGreaterThan(20);
  });
});
