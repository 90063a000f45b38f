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

const FILE_LABEL: Record<PropsSource, string> = { app: 'app conf', user: 'user conf' };

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

/** The pin SMV would use for `stage` given both files (lines Java rejects are ignored here). */
export function effectivePin(stage: Stage, files: PropsFiles): EffectivePin {
  return effectivePinIn(stage, pinSources(files));
}

/** Both files parsed once, for reading the pins of many stages (`/smv pins`, `/smv releases`). */
export interface PinSources {
  app: ReadonlyMap<string, string>;
  user: ReadonlyMap<string, string>;
}

export function pinSources(files: PropsFiles): PinSources {
  return { app: toMap(parseProps(files.app ?? '')), user: toMap(parseProps(files.user ?? '')) };
}

export function effectivePinIn(stage: Stage, sources: PinSources): EffectivePin {
  return effectiveFromMaps(stage, sources.app, sources.user);
}

/** Says how a pin reads to a person, e.g. `TCD.1 (smv.stages.geo.version in the app conf)`. */
export function describePin(pin: EffectivePin): string {
  if (pin.key === null) return 'not pinned';
  const where = FILE_LABEL[pin.source ?? 'user'];
  return `${pin.version === '' ? 'an empty value' : esc(pin.version ?? '')} (${code(pin.key)} in the ${where})`;
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
  const prefix = text.slice(entry.lineStart, entry.valueStart);
  const keepPrefix = entry.value !== '' && !/[\r\n]/.test(prefix);
  const indent = text.slice(entry.lineStart, entry.keyStart);
  const line = keepPrefix
    ? prefix + escapePropsValue(value)
    : (/[\r\n]/.test(indent) ? '' : indent) + `${escapePropsKey(entry.key)} = ${escapePropsValue(value)}`;
  return text.slice(0, entry.lineStart) + line + text.slice(entry.lineEnd);
}

/** Adds `key = value` as a new last line, in the file's own line-ending style. */
function appendEntry(doc: PropsDocument, key: string, value: string): string {
  const line = `${escapePropsKey(key)} = ${escapePropsValue(value)}`;
  const text = doc.text;
  if (text === '') return line + '\n';
  const eol = dominantLineTerminator(text);
  const last = doc.entries[doc.entries.length - 1];
  if (doc.endsInContinuation && last) {
    // The file ends in a dangling `\`: text after it would be glued onto that line (and a
    // lone `\` there is an entry only because the input ends), so go just before it.
    return text.slice(0, last.lineStart) + line + eol + text.slice(last.lineStart);
  }
  const gap = /[\r\n]$/.test(text) ? '' : eol;
  return text + gap + line + eol;
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
