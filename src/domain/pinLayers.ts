// The props layers a consumer's SMV merges and the byte-preserving edits of one layer, shared by
// stage pins (pins.ts) and connection pins (connectionPins.ts): each parser (Java or jprops), the
// layers read once, the splice helpers and the check that an edit changed nothing else.

import type { EditProblem, PinEditRefusal, PropsLine } from './refusals.ts';
import type { EffectivePin, PropsSource, Result, Stage } from './types.ts';
import { dominantLineTerminator, escapePropsKey, escapePropsValue, lastEntry, parseProps, toMap } from './props.ts';
import type { PropsDocument, PropsEntry } from './props.ts';
import { parseJprops } from './jprops.ts';
import { parseStagesList } from './stages.ts';

/** A props parser SMV uses: `java.util.Properties` (Scala SMV) or Python SMV's jprops. */
export interface PropsDialect {
  id: 'java' | 'jprops';
  /** How refusals name it. */
  label: string;
  parse(text: string): PropsDocument;
}

export const JAVA_PROPS: PropsDialect = { id: 'java', label: 'Java/SMV', parse: parseProps };
export const JPROPS: PropsDialect = { id: 'jprops', label: 'Python SMV (jprops)', parse: parseJprops };

export function propsDialect(id: 'java' | 'jprops'): PropsDialect {
  return id === 'java' ? JAVA_PROPS : JPROPS;
}

/** How a consumer's SMV reads stage pins: its parser and the keys it looks at. */
export interface StagePinRules {
  dialect: PropsDialect;
  /** `base`: SMV up to 1.3.0-2 (the FQN key is ignored). */
  stageKeys: 'base' | 'base-then-fqn';
}

/** Scala SMV 1.3.0-3 … v2r1, and the default release 2.1.1.3. */
export const SCALA_STAGE_RULES: StagePinRules = { dialect: JAVA_PROPS, stageKeys: 'base-then-fqn' };

/** The two keys SMV reads for a stage (identical for a top-level stage). */
export interface PinKeys {
  base: string;
  fqn: string;
}

/** Texts of the consumer's props files; null when the file does not exist. */
export interface PropsFiles {
  app: string | null;
  user: string | null;
}

export const UNPINNED: EffectivePin = { version: null, key: null, source: null };

export const STAGES_KEY = 'smv.stages';

export function pinKeys(stage: Stage): PinKeys {
  return { base: `smv.stages.${stage.baseName}.version`, fqn: `smv.stages.${stage.fqn}.version` };
}

export function keysRead(stage: Stage, rules: StagePinRules): string[] {
  const { base, fqn } = pinKeys(stage);
  return rules.stageKeys === 'base' ? [base] : [base, fqn];
}

/** One props file SMV merges, lowest priority first. */
export interface ConfigLayer {
  source: PropsSource;
  /** Path in the repo, for messages. */
  path: string;
  /** null when the file does not exist. */
  text: string | null;
}

/** Kept for callers that speak of connection layers. */
export type ConnectionLayer = ConfigLayer;

/** The layers parsed once, for reading many pins (`/smv pins`, `/smv releases`). */
export interface LayerSources {
  layers: { source: PropsSource; path: string; map: ReadonlyMap<string, string> }[];
}

export type SourceLayer = LayerSources['layers'][number];

/** Parses every layer with the consumer's parser (lines Java rejects are left out here). */
export function layerSources(layers: readonly ConfigLayer[], dialect: PropsDialect): LayerSources {
  return { layers: layers.map((l) => ({ source: l.source, path: l.path, map: toMap(dialect.parse(l.text ?? '')) })) };
}

/** The highest-priority layer setting `key`, with its value. */
export function lastLayerWith(layers: readonly SourceLayer[], key: string): { layer: SourceLayer; value: string } | undefined {
  for (let i = layers.length - 1; i >= 0; i--) {
    const layer = layers[i] as SourceLayer;
    const value = layer.map.get(key);
    if (value !== undefined) return { layer, value };
  }
  return undefined;
}

/** The stage FQNs of the merged `smv.stages` (SMV's default is none), with the file that set it. */
export function listedStagesIn(sources: LayerSources): { fqns: string[]; file: string | null } {
  const found = lastLayerWith(sources.layers, STAGES_KEY);
  return { fqns: found ? parseStagesList(found.value) : [], file: found?.layer.path ?? null };
}

export function samePin(a: EffectivePin, b: EffectivePin): boolean {
  return a.version === b.version && a.key === b.key && a.source === b.source && a.path === b.path && !a.unlisted === !b.unlisted;
}

export interface ParsedLayer extends SourceLayer {
  doc: PropsDocument;
  map: Map<string, string>;
}

/** Parses every layer, refusing when the consumer's SMV could not load one of them (Java's malformed `\u`). */
export function parseLayers(layers: readonly ConfigLayer[], dialect: PropsDialect): Result<{ parsed: ParsedLayer[] }, PinEditRefusal> {
  const parsed: ParsedLayer[] = [];
  for (const layer of layers) {
    const doc = dialect.parse(layer.text ?? '');
    const first = doc.errors[0];
    if (first) return { ok: false, code: 'props-syntax-error', file: layer.path, parser: dialect.label, error: first.message };
    parsed.push({ source: layer.source, path: layer.path, doc, map: toMap(doc) });
  }
  return { ok: true, parsed };
}

export function withLayerMap(parsed: readonly ParsedLayer[], index: number, map: Map<string, string>): LayerSources {
  return { layers: parsed.map((l, i) => (i === index ? { ...l, map } : l)) };
}

/** Other stages the consumer lists that share the stage's base name (they all read the same base key). */
export function stagesSharingBaseName(stage: Stage, listed: readonly Stage[]): Stage[] {
  return listed.filter((s) => s.baseName === stage.baseName && s.fqn !== stage.fqn);
}

export function sharedBaseKeyRefusal(
  stage: Stage,
  sharing: Stage[],
  key: string,
  file: PropsSource,
  consequence: 'unpins-others' | 'cannot-pin-alone' | 'release-reads-no-fqn-key',
): PinEditRefusal {
  const stages = [stage, ...sharing].map((s) => ({ fqn: s.fqn, fqnKey: pinKeys(s).fqn }));
  return { ok: false, code: 'ambiguous-base-pin', key, in: file, baseName: stage.baseName, stages, consequence };
}

/** The first physical line of the logical line that holds `key` in the edited text (for naming the culprit). */
export function lineOf(doc: PropsDocument, key: string): PropsLine | null {
  const entry = lastEntry(doc, key);
  if (!entry) return null;
  const end = doc.text.slice(entry.lineStart).search(/[\r\n]/);
  return { number: entry.lineNumber, text: doc.text.slice(entry.lineStart, end < 0 ? undefined : entry.lineStart + end) };
}

/** Compares two key→value maps; returns the first difference, or null. */
export function firstDifference(expected: ReadonlyMap<string, string>, actual: ReadonlyMap<string, string>, edited: PropsDocument): EditProblem | null {
  for (const [key, value] of expected) {
    const now = actual.get(key);
    if (now === undefined) return { kind: 'key-disappears', key };
    if (now !== value) return { kind: 'key-changes', key, now, was: value, line: lineOf(edited, key) };
  }
  for (const key of actual.keys()) if (!expected.has(key)) return { kind: 'key-appears', key, line: lineOf(edited, key) };
  return null;
}

/** Re-parses an edited layer with the consumer's parser; it must read exactly the expected key→values. */
export function verifyEditedLayer(text: string, expected: ReadonlyMap<string, string>, path: string, dialect: PropsDialect): Result<{ after: Map<string, string> }, PinEditRefusal> {
  const edited = dialect.parse(text);
  const failed = (problem: EditProblem): PinEditRefusal => ({ ok: false, code: 'edit-verification-failed', file: path, parser: dialect.label, problem });
  if (edited.errors.length > 0) return failed({ kind: 'would-not-load', error: edited.errors[0]?.message ?? '' });
  const after = toMap(edited);
  const difference = firstDifference(expected, after, edited);
  if (difference) return failed(difference);
  return { ok: true, after };
}

/**
 * Replaces an entry's whole logical line (continuations collapse into it) with the new
 * value. The original indentation, key spelling and separator are kept when they sit on
 * the first physical line in front of a non-empty value; otherwise the line is written as
 * `key = value`.
 */
export function replaceEntryValue(text: string, entry: PropsEntry, value: string): string {
  return text.slice(0, entry.lineStart) + entryLineWithValue(text, entry, value) + text.slice(entry.lineEnd);
}

/** The entry's logical line rewritten with a new value (see replaceEntryValue), without its terminator. */
export function entryLineWithValue(text: string, entry: PropsEntry, value: string): string {
  const prefix = text.slice(entry.lineStart, entry.valueStart);
  const keepPrefix = entry.value !== '' && !/[\r\n]/.test(prefix);
  const indent = text.slice(entry.lineStart, entry.keyStart);
  return keepPrefix
    ? prefix + escapePropsValue(value)
    : (/[\r\n]/.test(indent) ? '' : indent) + `${escapePropsKey(entry.key)} = ${escapePropsValue(value)}`;
}

/** Adds whole lines at the end of the file, in the file's own line-ending style. */
export function appendLines(doc: PropsDocument, lines: readonly string[]): string {
  const text = doc.text;
  if (text === '') return lines.map((l) => l + '\n').join('');
  const eol = dominantLineTerminator(text);
  const block = lines.map((l) => l + eol).join('');
  if (doc.danglingStart !== null) {
    // The text ends inside a `\` continuation (a value, or for jprops a comment too): lines after
    // it would be glued onto it, so they go in just before it, where the line before has ended.
    return text.slice(0, doc.danglingStart) + block + text.slice(doc.danglingStart);
  }
  const gap = /[\r\n]$/.test(text) ? '' : eol;
  return text + gap + block;
}

/** Removes the given [start, end) ranges of a text (overlaps allowed). */
export function cutRanges(source: string, ranges: [number, number][]): string {
  ranges.sort((a, b) => a[0] - b[0]);
  let text = '';
  let copiedUpTo = 0;
  for (const [start, end] of ranges) {
    text += source.slice(copiedUpTo, Math.max(start, copiedUpTo));
    copiedUpTo = Math.max(copiedUpTo, end);
  }
  return text + source.slice(copiedUpTo);
}

export const wholeLine = (e: PropsEntry): [number, number] => [e.lineStart, e.lineEnd + e.lineTerminator.length];
