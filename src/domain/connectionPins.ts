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

import type { PinEditRefusal } from './refusals.ts';
import type { EffectivePin, Result } from './types.ts';
import { dominantLineTerminator, escapePropsKey, escapePropsValue, lastEntry } from './props.ts';
import type { PropsEntry } from './props.ts';
import { VERSION_PATTERN } from './validation.ts';
import { JPROPS, UNPINNED, layerSources, lastLayerWith, parseLayers, withLayerMap, verifyEditedLayer, entryLineWithValue, appendLines, cutRanges, wholeLine, type PropsDialect, type ConfigLayer, type ConnectionLayer, type LayerSources } from './pinLayers.ts';

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

