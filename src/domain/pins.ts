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

import type { PinEditRefusal } from './refusals.ts';
import type { EffectivePin, Result, Stage } from './types.ts';
import { escapePropsKey, escapePropsValue, lastEntry } from './props.ts';
import { toStage } from './stages.ts';
import { SCALA_STAGE_RULES, UNPINNED, pinKeys, keysRead, layerSources, lastLayerWith, listedStagesIn, samePin, parseLayers, withLayerMap, stagesSharingBaseName, sharedBaseKeyRefusal, verifyEditedLayer, replaceEntryValue, appendLines, cutRanges, wholeLine, type StagePinRules, type PropsFiles, type ConfigLayer, type LayerSources, type ParsedLayer } from './pinLayers.ts';

export { JAVA_PROPS, JPROPS, propsDialect, SCALA_STAGE_RULES, UNPINNED, STAGES_KEY, pinKeys, layerSources, listedStagesIn, type PropsDialect, type StagePinRules, type PinKeys, type PropsFiles, type ConfigLayer, type ConnectionLayer, type LayerSources } from './pinLayers.ts';
export { connectionSources, HDFS_CONNECTION_TYPE, connectionKeys, connectionPathFor, versionOfConnectionPath, addedTypeMarker, effectiveConnectionPinIn, setConnectionPin, removeConnectionPin, type ConnectionSources, type ConnectionRef, type SetConnectionPinInput, type RemoveConnectionPinInput } from './connectionPins.ts';

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
