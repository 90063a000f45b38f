// SMV pins (SPEC §2 "Pins", "Which SMV reads what", "Edits preserve bytes").
//
// SMV merges its props files (lowest priority first; the release decides which: see
// smvRelease.ts), then, for each stage of the merged `smv.stages`, reads the base-name key
// `smv.stages.<base>.version` before the FQN key `smv.stages.<fqn>.version`, whichever file each
// came from (SmvConfig.stageVersions); SMV up to 1.3.0-2 reads the base-name key only. A stage the
// consumer does not list in `smv.stages` gets no version, whatever keys are set.
//
// Empty values: SMV's getProp returns Some("") for `smv.stages.geo.version =`, so an empty
// key still shadows the FQN key. We keep that: the effective pin is `{version: '', key, source}`
// (falsy version; callers should show it as "empty pin", SMV would look in `<publishDir>//`).
//
// Every file is read with the consumer's own parser (Java or jprops). Edits splice one logical
// line of the target file and re-parse every file before returning: a text is only returned
// when the pin is effective and every other key, and every other listed stage's pin, reads back
// unchanged.

import type { EditProblem, PinEditRefusal, PropsLine } from './refusals.ts';
import type { EffectivePin, PropsSource, Result, Stage } from './types.ts';
import {
  dominantLineTerminator,
  escapePropsKey,
  escapePropsValue,
  lastEntry,
  parseProps,
  toMap,
} from './props.ts';
import type { PropsDocument, PropsEntry } from './props.ts';
import { parseJprops } from './jprops.ts';
import { parseStagesList, toStage } from './stages.ts';
import { VERSION_PATTERN } from './validation.ts';

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

function keysRead(stage: Stage, rules: StagePinRules): string[] {
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

type SourceLayer = LayerSources['layers'][number];

/** Parses every layer with the consumer's parser (lines Java rejects are left out here). */
export function layerSources(layers: readonly ConfigLayer[], dialect: PropsDialect): LayerSources {
  return { layers: layers.map((l) => ({ source: l.source, path: l.path, map: toMap(dialect.parse(l.text ?? '')) })) };
}

/** The highest-priority layer setting `key`, with its value. */
function lastLayerWith(layers: readonly SourceLayer[], key: string): { layer: SourceLayer; value: string } | undefined {
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

/** The pin SMV would use for `stage`: none unless the consumer lists it in `smv.stages`. */
export function effectiveStagePinIn(stage: Stage, sources: LayerSources, rules: StagePinRules = SCALA_STAGE_RULES): EffectivePin {
  if (!listedStagesIn(sources).fqns.includes(stage.fqn)) return { ...UNPINNED, unlisted: true };
  return stagePinIgnoringList(stage, sources, rules);
}

function stagePinIgnoringList(stage: Stage, sources: LayerSources, rules: StagePinRules): EffectivePin {
  for (const key of keysRead(stage, rules)) {
    const found = lastLayerWith(sources.layers, key);
    if (found) return { version: found.value, key, source: found.layer.source };
  }
  return UNPINNED;
}

/** The app conf and user conf of a stage-pin consumer, as layers (app lowest). */
function stageLayers(files: PropsFiles): ConfigLayer[] {
  return [
    { source: 'app', path: 'conf/smv-app-conf.props', text: files.app },
    { source: 'user', path: 'conf/smv-user-conf.props', text: files.user },
  ];
}

/** Both files parsed once (Scala SMV rules), for reading the pins of many stages. */
export type PinSources = LayerSources;

export function pinSources(files: PropsFiles, rules: StagePinRules = SCALA_STAGE_RULES): PinSources {
  return layerSources(stageLayers(files), rules.dialect);
}

/** The pin SMV would use for `stage` given both files (lines Java rejects are ignored here). */
export function effectivePinIn(stage: Stage, sources: PinSources, rules: StagePinRules = SCALA_STAGE_RULES): EffectivePin {
  return effectiveStagePinIn(stage, sources, rules);
}

function samePin(a: EffectivePin, b: EffectivePin): boolean {
  return a.version === b.version && a.key === b.key && a.source === b.source && a.path === b.path && !a.unlisted === !b.unlisted;
}

interface ParsedLayer extends SourceLayer {
  doc: PropsDocument;
  map: Map<string, string>;
}

/** Parses every layer, refusing when the consumer's SMV could not load one of them (Java's malformed `\u`). */
function parseLayers(layers: readonly ConfigLayer[], dialect: PropsDialect): Result<{ parsed: ParsedLayer[] }, PinEditRefusal> {
  const parsed: ParsedLayer[] = [];
  for (const layer of layers) {
    const doc = dialect.parse(layer.text ?? '');
    const first = doc.errors[0];
    if (first) return { ok: false, code: 'props-syntax-error', file: layer.path, parser: dialect.label, error: first.message };
    parsed.push({ source: layer.source, path: layer.path, doc, map: toMap(doc) });
  }
  return { ok: true, parsed };
}

function withLayerMap(parsed: readonly ParsedLayer[], index: number, map: Map<string, string>): LayerSources {
  return { layers: parsed.map((l, i) => (i === index ? { ...l, map } : l)) };
}

/** Other stages the consumer lists that share the stage's base name (they all read the same base key). */
function stagesSharingBaseName(stage: Stage, listed: readonly Stage[]): Stage[] {
  return listed.filter((s) => s.baseName === stage.baseName && s.fqn !== stage.fqn);
}

function sharedBaseKeyRefusal(
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
function lineOf(doc: PropsDocument, key: string): PropsLine | null {
  const entry = lastEntry(doc, key);
  if (!entry) return null;
  const end = doc.text.slice(entry.lineStart).search(/[\r\n]/);
  return { number: entry.lineNumber, text: doc.text.slice(entry.lineStart, end < 0 ? undefined : entry.lineStart + end) };
}

/** Compares two key→value maps; returns the first difference, or null. */
function firstDifference(expected: ReadonlyMap<string, string>, actual: ReadonlyMap<string, string>, edited: PropsDocument): EditProblem | null {
  for (const [key, value] of expected) {
    const now = actual.get(key);
    if (now === undefined) return { kind: 'key-disappears', key };
    if (now !== value) return { kind: 'key-changes', key, now, was: value, line: lineOf(edited, key) };
  }
  for (const key of actual.keys()) if (!expected.has(key)) return { kind: 'key-appears', key, line: lineOf(edited, key) };
  return null;
}

/** Re-parses an edited layer with the consumer's parser; it must read exactly the expected key→values. */
function verifyEditedLayer(text: string, expected: ReadonlyMap<string, string>, path: string, dialect: PropsDialect): Result<{ after: Map<string, string> }, PinEditRefusal> {
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
function replaceEntryValue(text: string, entry: PropsEntry, value: string): string {
  return text.slice(0, entry.lineStart) + entryLineWithValue(text, entry, value) + text.slice(entry.lineEnd);
}

/** The entry's logical line rewritten with a new value (see replaceEntryValue), without its terminator. */
function entryLineWithValue(text: string, entry: PropsEntry, value: string): string {
  const prefix = text.slice(entry.lineStart, entry.valueStart);
  const keepPrefix = entry.value !== '' && !/[\r\n]/.test(prefix);
  const indent = text.slice(entry.lineStart, entry.keyStart);
  return keepPrefix
    ? prefix + escapePropsValue(value)
    : (/[\r\n]/.test(indent) ? '' : indent) + `${escapePropsKey(entry.key)} = ${escapePropsValue(value)}`;
}

/** Adds whole lines at the end of the file, in the file's own line-ending style. */
function appendLines(doc: PropsDocument, lines: readonly string[]): string {
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
function cutRanges(source: string, ranges: [number, number][]): string {
  ranges.sort((a, b) => a[0] - b[0]);
  let text = '';
  let copiedUpTo = 0;
  for (const [start, end] of ranges) {
    text += source.slice(copiedUpTo, Math.max(start, copiedUpTo));
    copiedUpTo = Math.max(copiedUpTo, end);
  }
  return text + source.slice(copiedUpTo);
}

const wholeLine = (e: PropsEntry): [number, number] => [e.lineStart, e.lineEnd + e.lineTerminator.length];

function notListedRefusal(stage: Stage, listed: { fqns: string[]; file: string | null }, appPath: string): PinEditRefusal {
  return { ok: false, code: 'stage-not-listed', stage: stage.fqn, listed: listed.fqns, setIn: listed.file, file: listed.file ?? appPath };
}

/** Stage pins over the consumer's layers: the pin is written into `layers[target]` (the user conf). */
export interface StagePinInput {
  layers: readonly ConfigLayer[];
  target: number;
  stage: Stage;
  /** Stages the bot knows (publishers'); the consumer's own `smv.stages` are added to them. */
  knownStages: readonly Stage[];
  rules: StagePinRules;
}

interface StageContext {
  parsed: ParsedLayer[];
  into: ParsedLayer;
  /** Every stage whose pin must not move: the consumer's listed stages. */
  listed: Stage[];
  previous: EffectivePin;
}

function stageContext(input: StagePinInput): Result<{ context: StageContext }, PinEditRefusal> {
  const parsedResult = parseLayers(input.layers, input.rules.dialect);
  if (!parsedResult.ok) return parsedResult;
  const parsed = parsedResult.parsed;
  const into = parsed[input.target];
  if (!into) throw new Error(`no layer ${input.target} to write the pin into`);
  const sources = { layers: parsed };
  const listedFqns = listedStagesIn(sources);
  if (!listedFqns.fqns.includes(input.stage.fqn)) {
    return notListedRefusal(input.stage, listedFqns, parsed.find((l) => l.source === 'app')?.path ?? into.path);
  }
  const listed = listedFqns.fqns.map(toStage);
  return { ok: true, context: { parsed, into, listed, previous: effectiveStagePinIn(input.stage, sources, input.rules) } };
}

/** Checks an edit of the target layer: the file reads as expected and no other listed stage's pin moved. */
function verifyStageEdit(
  input: StagePinInput,
  context: StageContext,
  text: string,
  expected: ReadonlyMap<string, string>,
): Result<{ after: LayerSources }, PinEditRefusal> {
  const verified = verifyEditedLayer(text, expected, context.into.path, input.rules.dialect);
  if (!verified.ok) return verified;
  const before = { layers: context.parsed };
  const after = withLayerMap(context.parsed, input.target, verified.after);
  for (const other of context.listed) {
    if (other.fqn === input.stage.fqn) continue;
    const beforePin = effectiveStagePinIn(other, before, input.rules);
    const afterPin = effectiveStagePinIn(other, after, input.rules);
    if (!samePin(beforePin, afterPin)) {
      return { ok: false, code: 'pin-side-effect', stage: other.fqn, fqnKey: pinKeys(other).fqn, before: beforePin, after: afterPin };
    }
  }
  return { ok: true, after };
}

/**
 * Pins `stage` to `version` in the target layer so that SMV will use it.
 * Key choice: a base-name key present in any file wins in SMV, so it is (re)written; else an FQN
 * key already in the target is edited; else the base key is appended, or the FQN key when another
 * listed stage shares the base name (SMV ≤ 1.3.0-2 reads the base key only: refused then).
 * When the pin is already effective: `changed: false` and `text` is the target unchanged
 * (`''` when absent) — write nothing.
 */
export function setStagePin(input: StagePinInput & { version: string }): Result<{ text: string; changed: boolean; key: string; previous: EffectivePin }, PinEditRefusal> {
  const { stage, version, rules } = input;
  if (version === '') return { ok: false, code: 'invalid-version', version, problem: { kind: 'nothing-to-pin' } };
  const contextResult = stageContext(input);
  if (!contextResult.ok) return contextResult;
  const context = contextResult.context;
  const { parsed, into, previous } = context;
  const intoText = input.layers[input.target]?.text ?? null;
  if (previous.version === version && previous.key !== null) {
    return { ok: true, text: intoText ?? '', changed: false, key: previous.key, previous };
  }

  const { base, fqn } = pinKeys(stage);
  const sharing = stagesSharingBaseName(stage, context.listed);
  const baseSource = lastLayerWith(parsed, base)?.layer;
  if (sharing.length > 0 && (baseSource !== undefined || rules.stageKeys === 'base')) {
    return sharedBaseKeyRefusal(stage, sharing, base, (baseSource ?? into).source, rules.stageKeys === 'base' ? 'release-reads-no-fqn-key' : 'cannot-pin-alone');
  }
  const key = baseSource !== undefined || rules.stageKeys === 'base' ? base : into.map.has(fqn) ? fqn : sharing.length > 0 ? fqn : base;

  const existing = lastEntry(into.doc, key);
  const text = existing ? replaceEntryValue(into.doc.text, existing, version) : appendLines(into.doc, [`${escapePropsKey(key)} = ${escapePropsValue(version)}`]);

  const verified = verifyStageEdit(input, context, text, new Map(into.map).set(key, version));
  if (!verified.ok) return verified;
  const now = effectiveStagePinIn(stage, verified.after, rules);
  if (now.version !== version) return { ok: false, code: 'pin-not-effective', key, now };
  return { ok: true, text, changed: true, key, previous };
}

/**
 * Removes every logical line of the target layer that sets a key SMV reads for the stage.
 * `stillPinnedBy` is the effective pin afterwards (from another file, or unpinned), so the
 * caller can say when the app conf still pins the stage. Nothing to remove: `changed:
 * false`, `text` unchanged (`''` when absent).
 */
export function removeStagePin(
  input: StagePinInput,
): Result<{ text: string; changed: boolean; removedKeys: string[]; previous: EffectivePin; stillPinnedBy: EffectivePin }, PinEditRefusal> {
  const { stage, rules } = input;
  const contextResult = stageContext(input);
  if (!contextResult.ok) return contextResult;
  const context = contextResult.context;
  const { into, previous } = context;
  const keys = new Set(keysRead(stage, rules));
  const lines = into.doc.entries.filter((e) => keys.has(e.key));
  if (lines.length === 0) {
    return { ok: true, text: input.layers[input.target]?.text ?? '', changed: false, removedKeys: [], previous, stillPinnedBy: previous };
  }
  const { base } = pinKeys(stage);
  const sharing = stagesSharingBaseName(stage, context.listed);
  if (sharing.length > 0 && into.map.has(base)) {
    return sharedBaseKeyRefusal(stage, sharing, base, into.source, 'unpins-others');
  }
  const text = cutRanges(into.doc.text, lines.map(wholeLine));
  const removedKeys = [...keys].filter((k) => into.map.has(k));
  const expected = new Map(into.map);
  for (const key of removedKeys) expected.delete(key);
  const verified = verifyStageEdit(input, context, text, expected);
  if (!verified.ok) return verified;
  return { ok: true, text, changed: true, removedKeys, previous, stillPinnedBy: effectiveStagePinIn(stage, verified.after, rules) };
}

export interface SetPinInput {
  userText: string | null;
  appText: string | null;
  stage: Stage;
  version: string;
  knownStages: readonly Stage[];
  rules?: StagePinRules;
}

/** setStagePin on an app conf and a user conf (the pin goes into the user conf). */
export function setPin(input: SetPinInput): Result<{ text: string; changed: boolean; key: string; previous: EffectivePin }, PinEditRefusal> {
  const layers = stageLayers({ app: input.appText, user: input.userText });
  return setStagePin({ ...input, layers, target: 1, rules: input.rules ?? SCALA_STAGE_RULES });
}

export interface RemovePinInput {
  userText: string | null;
  appText: string | null;
  stage: Stage;
  knownStages: readonly Stage[];
  rules?: StagePinRules;
}

/** removeStagePin on an app conf and a user conf. */
export function removePin(
  input: RemovePinInput,
): Result<{ text: string; changed: boolean; removedKeys: string[]; stillPinnedBy: EffectivePin }, PinEditRefusal> {
  const layers = stageLayers({ app: input.appText, user: input.userText });
  const result = removeStagePin({ ...input, layers, target: 1, rules: input.rules ?? SCALA_STAGE_RULES });
  if (!result.ok) return result;
  const { previous: _previous, ...rest } = result;
  return rest;
}

// ---------------------------------------------------------------------------
// Connection pins (SPEC §2: Python SMV v2r6 and later).
//
// There an input module names a connection, and the props give `smv.conn.<name>.type = hdfs` and
// `smv.conn.<name>.path = <dir>`, merged over the files of the release (smvconfig.py `_read_props`:
// app conf, the runtime config file, `conf/connections.props`, `~/.smv`, user conf), all read with
// jprops. The caller passes the repo's files as layers in that order. smvbot manages paths
// `<smvPublishDir>/<version>`; any other path is shown as it is, never as a version.
//
// Edits splice the path key's logical line of the target layer (`connectionsPath`), re-parse it,
// and return a text only when every other key reads back unchanged and the pin is effective.

/** The layers parsed once, for reading many connections' pins. */
export type ConnectionSources = LayerSources;

/** Connection layers parsed with Python SMV's rules (or the given parser). */
export function connectionSources(layers: readonly ConfigLayer[], dialect: PropsDialect = JPROPS): ConnectionSources {
  return layerSources(layers, dialect);
}

/** Which connection a stage is read through, and where SMV sees the consumer's publish dir. */
export interface ConnectionRef {
  connection: string;
  smvPublishDir: string;
}

/** The connection type SMV reads a directory path from. */
export const HDFS_CONNECTION_TYPE = 'hdfs';

export function connectionKeys(connection: string): { path: string; type: string } {
  return { path: `smv.conn.${connection}.path`, type: `smv.conn.${connection}.type` };
}

function publishDirPrefix(smvPublishDir: string): string {
  return smvPublishDir.endsWith('/') ? smvPublishDir : `${smvPublishDir}/`;
}

/** `<smvPublishDir>/<version>`: the path a pin on `version` writes. */
export function connectionPathFor(smvPublishDir: string, version: string): string {
  return publishDirPrefix(smvPublishDir) + version;
}

/** The version a path points at, or null when it is not `<smvPublishDir>/<version>` (a final `/` allowed). */
export function versionOfConnectionPath(value: string, smvPublishDir: string): string | null {
  const prefix = publishDirPrefix(smvPublishDir);
  if (!value.startsWith(prefix)) return null;
  const rest = value.slice(prefix.length).replace(/\/$/, '');
  return VERSION_PATTERN.test(rest) ? rest : null;
}

/** The comment line written above a type key the bot adds, so unpin knows it may take it away again. */
export function addedTypeMarker(connection: string): string {
  return `# ${connectionKeys(connection).type} added by smvbot with the pin below; /smv unpin removes it`;
}

/**
 * The pin SMV would use for a connection: the path of the last file setting it. A path whose
 * connection is not of type hdfs in the merged files is not read as a directory: no version then.
 */
export function effectiveConnectionPinIn(ref: ConnectionRef, sources: ConnectionSources): EffectivePin {
  const { path: key, type: typeKey } = connectionKeys(ref.connection);
  const found = lastLayerWith(sources.layers, key);
  if (!found) return { ...UNPINNED, connection: ref.connection };
  const type = lastLayerWith(sources.layers, typeKey)?.value ?? null;
  const version = type === HDFS_CONNECTION_TYPE ? versionOfConnectionPath(found.value, ref.smvPublishDir) : null;
  return {
    version,
    ...(type !== HDFS_CONNECTION_TYPE ? { connectionType: type } : {}),
    key,
    source: found.layer.source,
    connection: ref.connection,
    path: found.value,
    file: found.layer.path,
    ...(version === null ? { unmanaged: true } : {}),
  };
}

export interface SetConnectionPinInput extends ConnectionRef {
  /** The repo's props files in SMV's merge order, lowest priority first. */
  layers: readonly ConnectionLayer[];
  /** The consumer's parser (jprops for every SMV with connections). */
  dialect: PropsDialect;
  /** Index in `layers` of the file the pin is written to (`connectionsPath`). */
  target: number;
  version: string;
}

/**
 * Pins a connection to `<smvPublishDir>/<version>` in the target layer so that SMV reads it:
 * the last path key there is rewritten (or one appended), and `smv.conn.<name>.type = hdfs` is
 * added (under a marker comment) when no file gives the connection a type. Refused when a
 * later file sets the path (it would win) or a type other than hdfs is set. When the pin is
 * already effective: `changed: false`, `text` the target unchanged (`''` when absent).
 */
export function setConnectionPin(
  input: SetConnectionPinInput,
): Result<{ text: string; changed: boolean; key: string; previous: EffectivePin; addedType: boolean }, PinEditRefusal> {
  const { layers, target, connection, smvPublishDir, version, dialect } = input;
  if (version === '') return { ok: false, code: 'invalid-version', version, problem: { kind: 'nothing-to-pin' } };
  const parsedResult = parseLayers(layers, dialect);
  if (!parsedResult.ok) return parsedResult;
  const parsed = parsedResult.parsed;
  const into = parsed[target];
  if (!into) throw new Error(`no layer ${target} to write the pin into`);
  const { path: pathKey, type: typeKey } = connectionKeys(connection);
  const previous = effectiveConnectionPinIn(input, { layers: parsed });
  const type = lastLayerWith(parsed, typeKey);
  if (type && type.value !== HDFS_CONNECTION_TYPE) {
    return { ok: false, code: 'connection-type', key: typeKey, type: type.value, file: type.layer.path, connection };
  }
  if (previous.version === version && type) {
    return { ok: true, text: layers[target]?.text ?? '', changed: false, key: pathKey, previous, addedType: false };
  }
  for (const later of parsed.slice(target + 1)) {
    const entry = lastEntry(later.doc, pathKey);
    if (entry) {
      return { ok: false, code: 'pin-shadowed', key: pathKey, file: later.path, line: entry.lineNumber, into: into.path };
    }
  }

  const doc = into.doc;
  const value = connectionPathFor(smvPublishDir, version);
  const addType = type === undefined;
  const typeLines = addType ? [addedTypeMarker(connection), `${escapePropsKey(typeKey)} = ${HDFS_CONNECTION_TYPE}`] : [];
  const existing = lastEntry(doc, pathKey);
  let text: string;
  if (existing) {
    const eol = existing.lineTerminator || dominantLineTerminator(doc.text);
    text =
      doc.text.slice(0, existing.lineStart) +
      typeLines.map((l) => l + eol).join('') +
      entryLineWithValue(doc.text, existing, value) +
      doc.text.slice(existing.lineEnd);
  } else {
    text = appendLines(doc, [...typeLines, `${escapePropsKey(pathKey)} = ${escapePropsValue(value)}`]);
  }

  const expected = new Map(into.map).set(pathKey, value);
  if (addType) expected.set(typeKey, HDFS_CONNECTION_TYPE);
  const verified = verifyEditedLayer(text, expected, into.path, dialect);
  if (!verified.ok) return verified;
  const now = effectiveConnectionPinIn(input, withLayerMap(parsed, target, verified.after));
  if (now.version !== version) return { ok: false, code: 'pin-not-effective', key: pathKey, file: into.path, now };
  return { ok: true, text, changed: true, key: pathKey, previous, addedType: addType };
}

export interface RemoveConnectionPinInput extends ConnectionRef {
  layers: readonly ConnectionLayer[];
  dialect: PropsDialect;
  target: number;
}

/** Whether the physical line just before `entry` is the marker the bot writes above a type it added. */
function markedAsAdded(text: string, entry: PropsEntry, connection: string): boolean {
  if (entry.lineStart === 0) return false;
  let end = entry.lineStart;
  if (text[end - 1] === '\n') end--;
  if (text[end - 1] === '\r') end--;
  let start = end;
  while (start > 0 && text[start - 1] !== '\n' && text[start - 1] !== '\r') start--;
  return text.slice(start, end) === addedTypeMarker(connection);
}

/**
 * Removes every logical line of the target layer that sets the connection's path and, when no
 * other file still gives the connection a path, the type lines the bot added (those under its
 * marker). `previous` is the effective pin before, `stillPinnedBy` after (from another file, or
 * unpinned). Nothing to remove: `changed: false`, `text` unchanged (`''` when absent).
 */
export function removeConnectionPin(
  input: RemoveConnectionPinInput,
): Result<{ text: string; changed: boolean; removedKeys: string[]; previous: EffectivePin; stillPinnedBy: EffectivePin }, PinEditRefusal> {
  const { layers, target, connection, dialect } = input;
  const parsedResult = parseLayers(layers, dialect);
  if (!parsedResult.ok) return parsedResult;
  const parsed = parsedResult.parsed;
  const into = parsed[target];
  if (!into) throw new Error(`no layer ${target} to remove the pin from`);
  const { path: pathKey, type: typeKey } = connectionKeys(connection);
  const previous = effectiveConnectionPinIn(input, { layers: parsed });
  const source = into.doc.text;
  const pathLines = into.doc.entries.filter((e) => e.key === pathKey);
  if (pathLines.length === 0) {
    return { ok: true, text: layers[target]?.text ?? '', changed: false, removedKeys: [], previous, stillPinnedBy: previous };
  }

  const withoutPath = new Map(into.map);
  withoutPath.delete(pathKey);
  const pathElsewhere = effectiveConnectionPinIn(input, withLayerMap(parsed, target, withoutPath)).key !== null;
  // A type the bot added goes with the pin, unless another file's path still needs it.
  const typeLines = into.doc.entries.filter((e) => e.key === typeKey);
  const dropType = !pathElsewhere && typeLines.length > 0 && typeLines.every((e) => markedAsAdded(source, e, connection));

  const ranges = pathLines.map(wholeLine);
  if (dropType) {
    for (const e of typeLines) {
      const markerStart = source.lastIndexOf(addedTypeMarker(connection), e.lineStart - 1);
      ranges.push([markerStart, wholeLine(e)[1]]);
    }
  }
  const text = cutRanges(source, ranges);

  const expected = new Map(withoutPath);
  if (dropType) expected.delete(typeKey);
  const verified = verifyEditedLayer(text, expected, into.path, dialect);
  if (!verified.ok) return verified;
  const stillPinnedBy = effectiveConnectionPinIn(input, withLayerMap(parsed, target, verified.after));
  return { ok: true, text, changed: true, removedKeys: dropType ? [pathKey, typeKey] : [pathKey], previous, stillPinnedBy };
}
