// SMV stage pins (SPEC §2 "Pins", "Edits preserve bytes").
//
// SMV merges the app conf, then the user conf (same key: user wins), then reads the
// base-name key `smv.stages.<base>.version` before the FQN key `smv.stages.<fqn>.version`,
// whichever file each came from (SmvConfig.stageVersions: getProp(base).orElse(getProp(fqn))).
//
// Empty values: SMV's getProp returns Some("") for `smv.stages.geo.version =`, so an empty
// key still shadows the FQN key. We keep that: the effective pin is `{version: '', key, source}`
// (falsy version; callers should show it as "empty pin", SMV would look in `<publishDir>//`).
//
// Edits splice one logical line of the user conf and re-parse both files before returning:
// a text is only returned when the pin is effective and every other key reads back unchanged.

import { code, esc } from './mrkdwn.ts';
import type { EffectivePin, PropsSource, Result, Stage } from './types.ts';
import { refuse } from './types.ts';
import {
  dominantLineTerminator,
  escapePropsKey,
  escapePropsValue,
  lastEntry,
  parseProps,
  toMap,
} from './props.ts';
import type { PropsDocument, PropsEntry } from './props.ts';
import { VERSION_PATTERN } from './validation.ts';

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

export function pinKeys(stage: Stage): PinKeys {
  return { base: `smv.stages.${stage.baseName}.version`, fqn: `smv.stages.${stage.fqn}.version` };
}

const FILE_LABEL: Record<PropsSource, string> = { app: 'app conf', connections: 'connections file', user: 'user conf' };

function effectiveFromMaps(stage: Stage, app: ReadonlyMap<string, string>, user: ReadonlyMap<string, string>): EffectivePin {
  const { base, fqn } = pinKeys(stage);
  for (const key of [base, fqn]) {
    const fromUser = user.get(key);
    if (fromUser !== undefined) return { version: fromUser, key, source: 'user' };
    const fromApp = app.get(key);
    if (fromApp !== undefined) return { version: fromApp, key, source: 'app' };
  }
  return UNPINNED;
}

/** Both files parsed once, for reading the pins of many stages (`/smv pins`, `/smv releases`). */
export interface PinSources {
  app: ReadonlyMap<string, string>;
  user: ReadonlyMap<string, string>;
}

export function pinSources(files: PropsFiles): PinSources {
  return { app: toMap(parseProps(files.app ?? '')), user: toMap(parseProps(files.user ?? '')) };
}

/** The pin SMV would use for `stage` given both files (lines Java rejects are ignored here). */
export function effectivePinIn(stage: Stage, sources: PinSources): EffectivePin {
  return effectiveFromMaps(stage, sources.app, sources.user);
}

/** Says how a pin reads to a person, e.g. `TCD.1 (smv.stages.geo.version in the app conf)`. */
export function describePin(pin: EffectivePin): string {
  if (pin.key === null) return 'not pinned';
  const where = pin.file !== undefined ? code(pin.file) : `the ${FILE_LABEL[pin.source ?? 'user']}`;
  if (pin.unmanaged) return `${pin.path === '' ? 'an empty path' : code(pin.path ?? '')}, not managed by smvbot (${code(pin.key ?? '')} in ${where})`;
  return `${pin.version === '' ? 'an empty value' : esc(pin.version ?? '')} (${code(pin.key ?? '')} in ${where})`;
}

function samePin(a: EffectivePin, b: EffectivePin): boolean {
  return a.version === b.version && a.key === b.key && a.source === b.source;
}

interface ParsedFiles {
  app: PropsDocument;
  user: PropsDocument;
  appMap: Map<string, string>;
  userMap: Map<string, string>;
}

/** Parses both files, refusing when Java (and so SMV) could not load one of them. */
function parseBoth(files: PropsFiles): Result<{ parsed: ParsedFiles }> {
  const app = parseProps(files.app ?? '');
  const user = parseProps(files.user ?? '');
  for (const [source, doc] of [['user', user], ['app', app]] as const) {
    const first = doc.errors[0];
    if (first) {
      return refuse(
        'props-syntax-error',
        `The ${FILE_LABEL[source]} cannot be loaded by Java/SMV: ${esc(first.message)}. Fix that line in the repository, then try again.`,
      );
    }
  }
  return { ok: true, parsed: { app, user, appMap: toMap(app), userMap: toMap(user) } };
}

/** Other known stages that share the stage's base name (they all read the same base key). */
function stagesSharingBaseName(stage: Stage, knownStages: readonly Stage[]): Stage[] {
  return knownStages.filter((s) => s.baseName === stage.baseName && s.fqn !== stage.fqn);
}

function sharedBaseKeyRefusal(stage: Stage, sharing: Stage[], baseKey: string, where: string, consequence: string) {
  const fqns = [stage, ...sharing].map((s) => `\`${s.fqn}\``).join(', ');
  const fqnKeys = [stage, ...sharing].map((s) => `\`${pinKeys(s).fqn}\``).join(', ');
  return refuse(
    'ambiguous-base-pin',
    `\`${baseKey}\` (in the ${where}) applies to every stage named \`${stage.baseName}\` (${fqns}), ` +
      `and SMV reads it before any FQN key, so ${consequence}. Replace that line by hand with one FQN key per stage (${fqnKeys}), then try again.`,
  );
}

/** Compares two key→value maps; returns a description of the first difference, or null. */
function firstDifference(expected: ReadonlyMap<string, string>, actual: ReadonlyMap<string, string>): string | null {
  for (const [key, value] of expected) {
    if (!actual.has(key)) return `key ${code(key)} disappeared`;
    if (actual.get(key) !== value) return `key ${code(key)} would read ${esc(JSON.stringify(actual.get(key)))} instead of ${esc(JSON.stringify(value))}`;
  }
  for (const key of actual.keys()) if (!expected.has(key)) return `a new key ${code(key)} appeared`;
  return null;
}

/**
 * Re-parses an edited user conf and checks it against what the edit meant: exactly the
 * expected key→values, and no other known stage's effective pin moved.
 */
function verifyEditedUserConf(
  editedText: string,
  expectedUserMap: ReadonlyMap<string, string>,
  parsed: ParsedFiles,
  stage: Stage,
  knownStages: readonly Stage[],
): Result<{ after: Map<string, string> }> {
  const edited = parseProps(editedText);
  const failed = (problem: string) =>
    refuse(
      'edit-verification-failed',
      `The edit of the user conf did not check out (${problem}), so nothing was changed. Edit the pin by hand and report this to the smvbot maintainers.`,
    );
  if (edited.errors.length > 0) return failed(`it would not load in Java: ${esc(edited.errors[0]?.message ?? '')}`);
  const after = toMap(edited);
  const difference = firstDifference(expectedUserMap, after);
  if (difference) return failed(difference);
  for (const other of knownStages) {
    if (other.fqn === stage.fqn) continue;
    const beforePin = effectiveFromMaps(other, parsed.appMap, parsed.userMap);
    const afterPin = effectiveFromMaps(other, parsed.appMap, after);
    if (!samePin(beforePin, afterPin)) {
      return refuse(
        'pin-side-effect',
        `That edit would also change the pin of \`${other.fqn}\` (${describePin(beforePin)} → ${describePin(afterPin)}), so nothing was changed. ` +
          `Give each stage its own FQN key (\`${pinKeys(other).fqn}\`) in the props files by hand, then try again.`,
      );
    }
  }
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

/** Adds `key = value` as a new last line, in the file's own line-ending style. */
function appendEntry(doc: PropsDocument, key: string, value: string): string {
  return appendLines(doc, [`${escapePropsKey(key)} = ${escapePropsValue(value)}`]);
}

/** Adds whole lines at the end of the file, in the file's own line-ending style. */
function appendLines(doc: PropsDocument, lines: readonly string[]): string {
  const text = doc.text;
  if (text === '') return lines.map((l) => l + '\n').join('');
  const eol = dominantLineTerminator(text);
  const block = lines.map((l) => l + eol).join('');
  const last = doc.entries[doc.entries.length - 1];
  if (doc.endsInContinuation && last) {
    // The file ends in a dangling `\`: text after it would be glued onto that line (and a
    // lone `\` there is an entry only because the input ends), so go just before it.
    return text.slice(0, last.lineStart) + block + text.slice(last.lineStart);
  }
  const gap = /[\r\n]$/.test(text) ? '' : eol;
  return text + gap + block;
}

export interface SetPinInput {
  userText: string | null;
  appText: string | null;
  stage: Stage;
  version: string;
  knownStages: readonly Stage[];
}

/**
 * Pins `stage` to `version` in the user conf so that SMV will use it.
 * Key choice: a base-name key present in either file wins in SMV, so it is (re)written;
 * else an FQN key already in the user conf is edited; else the base key is appended, or
 * the FQN key when the base name is shared by another known stage.
 * When the pin is already effective: `changed: false` and `text` is the input unchanged
 * (`''` when there is no user conf) — write nothing.
 */
export function setPin(
  input: SetPinInput,
): Result<{ text: string; changed: boolean; key: string; previous: EffectivePin }> {
  const { stage, version, knownStages } = input;
  if (version === '') return refuse('invalid-version', 'The version to pin is empty. Type a published version, e.g. `TCD.20160802.geo`, or `latest`.');
  const parsedResult = parseBoth({ app: input.appText, user: input.userText });
  if (!parsedResult.ok) return parsedResult;
  const parsed = parsedResult.parsed;
  const previous = effectiveFromMaps(stage, parsed.appMap, parsed.userMap);
  if (previous.version === version && previous.key !== null) {
    return { ok: true, text: input.userText ?? '', changed: false, key: previous.key, previous };
  }

  const { base, fqn } = pinKeys(stage);
  const sharing = stagesSharingBaseName(stage, knownStages);
  const baseSource: PropsSource | null = parsed.userMap.has(base) ? 'user' : parsed.appMap.has(base) ? 'app' : null;
  if (sharing.length > 0 && baseSource !== null) {
    return sharedBaseKeyRefusal(stage, sharing, base, FILE_LABEL[baseSource], `\`${stage.fqn}\` cannot be pinned on its own`);
  }
  const key = baseSource !== null ? base : parsed.userMap.has(fqn) ? fqn : sharing.length > 0 ? fqn : base;

  const existing = lastEntry(parsed.user, key);
  const text = existing ? replaceEntryValue(parsed.user.text, existing, version) : appendEntry(parsed.user, key, version);

  const expected = new Map(parsed.userMap).set(key, version);
  const verified = verifyEditedUserConf(text, expected, parsed, stage, knownStages);
  if (!verified.ok) return verified;
  const now = effectiveFromMaps(stage, parsed.appMap, verified.after);
  if (now.version !== version) {
    return refuse(
      'pin-not-effective',
      `Writing \`${key}\` would not take effect: SMV would still use ${describePin(now)}. Nothing was changed; remove that key by hand, then try again.`,
    );
  }
  return { ok: true, text, changed: true, key, previous };
}

export interface RemovePinInput {
  userText: string | null;
  appText: string | null;
  stage: Stage;
  knownStages: readonly Stage[];
}

/**
 * Removes every logical line of the user conf that sets the stage's base or FQN key.
 * `stillPinnedBy` is the effective pin afterwards (from the app conf, or unpinned), so the
 * caller can say when the app conf still pins the stage. Nothing to remove: `changed:
 * false`, `text` unchanged (`''` when there is no user conf).
 */
export function removePin(
  input: RemovePinInput,
): Result<{ text: string; changed: boolean; removedKeys: string[]; stillPinnedBy: EffectivePin }> {
  const { stage, knownStages } = input;
  const parsedResult = parseBoth({ app: input.appText, user: input.userText });
  if (!parsedResult.ok) return parsedResult;
  const parsed = parsedResult.parsed;
  const { base, fqn } = pinKeys(stage);
  const keys = new Set([base, fqn]);
  const lines = parsed.user.entries.filter((e) => keys.has(e.key));
  if (lines.length === 0) {
    const stillPinnedBy = effectiveFromMaps(stage, parsed.appMap, parsed.userMap);
    return { ok: true, text: input.userText ?? '', changed: false, removedKeys: [], stillPinnedBy };
  }
  const sharing = stagesSharingBaseName(stage, knownStages);
  if (sharing.length > 0 && parsed.userMap.has(base)) {
    return sharedBaseKeyRefusal(stage, sharing, base, FILE_LABEL.user, 'removing it would unpin the others too');
  }

  const source = parsed.user.text;
  let text = '';
  let copiedUpTo = 0;
  for (const entry of lines) {
    text += source.slice(copiedUpTo, entry.lineStart);
    copiedUpTo = entry.lineEnd + entry.lineTerminator.length;
  }
  text += source.slice(copiedUpTo);

  const removedKeys = [...keys].filter((k) => parsed.userMap.has(k));
  const expected = new Map(parsed.userMap);
  for (const key of removedKeys) expected.delete(key);
  const verified = verifyEditedUserConf(text, expected, parsed, stage, knownStages);
  if (!verified.ok) return verified;
  const stillPinnedBy = effectiveFromMaps(stage, parsed.appMap, verified.after);
  return { ok: true, text, changed: true, removedKeys, stillPinnedBy };
}

// ---------------------------------------------------------------------------
// Connection pins (SPEC §2 "Connection pins": SMV ≥ 2.2 and the SMV2 fork).
//
// There an input module names a connection, and the props give `smv.conn.<name>.type = hdfs` and
// `smv.conn.<name>.path = <dir>`. SMV 2.4 (SmvConfig._read_props) merges, lowest to highest:
// the app conf, `conf/connections.props`, `~/.smv/smv-user-conf.props`, the user conf, the command
// line. The repo holds three of those; the caller passes them as layers in that order. smvbot
// manages paths `<smvPublishDir>/<version>`; any other path is shown as it is, never as a version.
//
// Edits splice the path key's logical line of the target layer (`connectionsPath`), re-parse it,
// and return a text only when every other key reads back unchanged and the pin is effective.

/** One props file SMV merges, lowest priority first. */
export interface ConnectionLayer {
  source: PropsSource;
  /** Path in the repo, for messages. */
  path: string;
  /** null when the file does not exist. */
  text: string | null;
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

/** The layers parsed once, for reading many connections' pins (`/smv pins`, `/smv releases`). */
export interface ConnectionSources {
  layers: { source: PropsSource; path: string; map: ReadonlyMap<string, string> }[];
}

export function connectionSources(layers: readonly ConnectionLayer[]): ConnectionSources {
  return { layers: layers.map((l) => ({ source: l.source, path: l.path, map: toMap(parseProps(l.text ?? '')) })) };
}

type SourceLayer = ConnectionSources['layers'][number];

/** The highest-priority layer setting `key`, with its value. */
function lastLayerWith(layers: readonly SourceLayer[], key: string): { layer: SourceLayer; value: string } | undefined {
  for (let i = layers.length - 1; i >= 0; i--) {
    const layer = layers[i] as SourceLayer;
    const value = layer.map.get(key);
    if (value !== undefined) return { layer, value };
  }
  return undefined;
}

/** The pin SMV would use for a connection: the path of the last file setting it (lines Java rejects are ignored). */
export function effectiveConnectionPinIn(ref: ConnectionRef, sources: ConnectionSources): EffectivePin {
  const key = connectionKeys(ref.connection).path;
  const found = lastLayerWith(sources.layers, key);
  if (!found) return { ...UNPINNED, connection: ref.connection };
  const version = versionOfConnectionPath(found.value, ref.smvPublishDir);
  return {
    version,
    key,
    source: found.layer.source,
    connection: ref.connection,
    path: found.value,
    file: found.layer.path,
    ...(version === null ? { unmanaged: true } : {}),
  };
}

interface ParsedLayer extends SourceLayer {
  doc: PropsDocument;
  map: Map<string, string>;
}

/** Parses every layer, refusing when Java (and so SMV) could not load one of them. */
function parseLayers(layers: readonly ConnectionLayer[]): Result<{ parsed: ParsedLayer[] }> {
  const parsed: ParsedLayer[] = [];
  for (const layer of layers) {
    const doc = parseProps(layer.text ?? '');
    const first = doc.errors[0];
    if (first) {
      return refuse(
        'props-syntax-error',
        `\`${layer.path}\` cannot be loaded by Java/SMV: ${first.message}. Fix that line in the repository, then try again.`,
      );
    }
    parsed.push({ source: layer.source, path: layer.path, doc, map: toMap(doc) });
  }
  return { ok: true, parsed };
}

function withLayerMap(parsed: readonly ParsedLayer[], index: number, map: Map<string, string>): ConnectionSources {
  return { layers: parsed.map((l, i) => (i === index ? { ...l, map } : l)) };
}

/** Re-parses an edited layer; it must read exactly the expected key→values. */
function verifyEditedLayer(text: string, expected: ReadonlyMap<string, string>, path: string): Result<{ after: Map<string, string> }> {
  const edited = parseProps(text);
  const failed = (problem: string) =>
    refuse(
      'edit-verification-failed',
      `The edit of \`${path}\` did not check out (${problem}), so nothing was changed. Edit the pin by hand and report this to the smvbot maintainers.`,
    );
  if (edited.errors.length > 0) return failed(`it would not load in Java: ${edited.errors[0]?.message}`);
  const after = toMap(edited);
  const difference = firstDifference(expected, after);
  if (difference) return failed(difference);
  return { ok: true, after };
}

export interface SetConnectionPinInput extends ConnectionRef {
  /** The repo's props files in SMV's merge order, lowest priority first. */
  layers: readonly ConnectionLayer[];
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
): Result<{ text: string; changed: boolean; key: string; previous: EffectivePin; addedType: boolean }> {
  const { layers, target, connection, smvPublishDir, version } = input;
  if (version === '') return refuse('invalid-version', 'The version to pin is empty. Type a published version, e.g. `TCD.20160802.geo`, or `latest`.');
  const parsedResult = parseLayers(layers);
  if (!parsedResult.ok) return parsedResult;
  const parsed = parsedResult.parsed;
  const into = parsed[target];
  if (!into) throw new Error(`no layer ${target} to write the pin into`);
  const { path: pathKey, type: typeKey } = connectionKeys(connection);
  const previous = effectiveConnectionPinIn(input, { layers: parsed });
  const type = lastLayerWith(parsed, typeKey);
  if (type && type.value !== HDFS_CONNECTION_TYPE) {
    return refuse(
      'connection-type',
      `\`${typeKey}\` is ${JSON.stringify(type.value)} in \`${type.layer.path}\`, so SMV does not read connection \`${connection}\` as a directory. ` +
        `Set it to \`${HDFS_CONNECTION_TYPE}\` there, or map the stage to another connection in smvbot.yml, then try again. Nothing was changed.`,
    );
  }
  if (previous.version === version && type) {
    return { ok: true, text: layers[target]?.text ?? '', changed: false, key: pathKey, previous, addedType: false };
  }
  for (const later of parsed.slice(target + 1)) {
    const entry = lastEntry(later.doc, pathKey);
    if (entry) {
      return refuse(
        'pin-shadowed',
        `\`${pathKey}\` is also set in \`${later.path}\` (line ${entry.lineNumber}), which SMV reads after \`${into.path}\`, ` +
          `so a pin written to \`${into.path}\` would not take effect. Remove that line from \`${later.path}\` (or move it to \`${into.path}\`), then try again. Nothing was changed.`,
      );
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
  const verified = verifyEditedLayer(text, expected, into.path);
  if (!verified.ok) return verified;
  const now = effectiveConnectionPinIn(input, withLayerMap(parsed, target, verified.after));
  if (now.version !== version) {
    return refuse(
      'pin-not-effective',
      `Writing \`${pathKey}\` into \`${into.path}\` would not take effect: SMV would still use ${describePin(now)}. Nothing was changed; remove that key by hand, then try again.`,
    );
  }
  return { ok: true, text, changed: true, key: pathKey, previous, addedType: addType };
}

export interface RemoveConnectionPinInput extends ConnectionRef {
  layers: readonly ConnectionLayer[];
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
): Result<{ text: string; changed: boolean; removedKeys: string[]; previous: EffectivePin; stillPinnedBy: EffectivePin }> {
  const { layers, target, connection } = input;
  const parsedResult = parseLayers(layers);
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

  const ranges: [number, number][] = pathLines.map((e) => [e.lineStart, e.lineEnd + e.lineTerminator.length]);
  if (dropType) {
    for (const e of typeLines) {
      const markerStart = source.lastIndexOf(addedTypeMarker(connection), e.lineStart - 1);
      ranges.push([markerStart, e.lineEnd + e.lineTerminator.length]);
    }
  }
  ranges.sort((a, b) => a[0] - b[0]);
  let text = '';
  let copiedUpTo = 0;
  for (const [start, end] of ranges) {
    text += source.slice(copiedUpTo, Math.max(start, copiedUpTo));
    copiedUpTo = Math.max(copiedUpTo, end);
  }
  text += source.slice(copiedUpTo);

  const expected = new Map(withoutPath);
  if (dropType) expected.delete(typeKey);
  const verified = verifyEditedLayer(text, expected, into.path);
  if (!verified.ok) return verified;
  const stillPinnedBy = effectiveConnectionPinIn(input, withLayerMap(parsed, target, verified.after));
  return { ok: true, text, changed: true, removedKeys: dropType ? [pathKey, typeKey] : [pathKey], previous, stillPinnedBy };
}
