// The pin change as a pure plan (SPEC §5): from the consumer's files as they are on the remote
// tip to the new text of the one file to commit, what was pinned before, and the commit's words.
// No I/O: the publisher re-plans on a fresh tip whenever the remote moved.
import { createHash } from 'node:crypto';
import { removeConnectionPin, removeStagePin, setConnectionPin, setStagePin } from '../domain/pins.ts';
import type { Actor, AdoptionAction, Freeze } from '../domain/records.ts';
import type { AdoptRefusal, PinEditRefusal } from '../domain/refusals.ts';
import type { EffectivePin, Result, Stage } from '../domain/types.ts';
import { consumerLayersOf, dialectOf, pinFileOf, pinLabel, stageRulesOf, type RepoTexts } from './consumerPins.ts';
import { pinTargetOf, releaseOf, type ConsumerSpec, type KnownStage } from './topology.ts';
import type { Identity } from './workspaces.ts';

/** What a user asked to change, with every name already resolved. */
export interface PinChange {
  action: AdoptionAction;
  consumer: ConsumerSpec;
  stage: KnownStage;
  /** The version to pin; null removes the pin. */
  to: string | null;
  actor: Actor;
  /** An admin's `force` overrides this freeze of the consumer: the commit says so. */
  freezeOverridden?: Freeze;
}

/** The planned edit of the pin file: `changed` false when the pin already is what was asked. */
export interface PinEdit {
  /** The repo file to commit. */
  file: string;
  text: string;
  changed: boolean;
  previous: EffectivePin;
  /** After an unpin: what pins the stage now (a lower layer), else unpinned. */
  stillPinnedBy: EffectivePin | null;
}

export function pinFileOfChange(change: PinChange): string {
  return pinFileOf(change.consumer);
}

/** The edit for the consumer's SMV release on the given file texts (read with readPinFiles). */
export function planPinEdit(change: PinChange, texts: RepoTexts, knownStages: readonly Stage[]): Result<PinEdit, PinEditRefusal | AdoptRefusal> {
  const { consumer, stage } = change;
  const file = pinFileOf(consumer);
  const { layers, target: index } = consumerLayersOf(consumer, texts);
  if (index < 0) {
    return { ok: false, code: 'pin-file-not-read', consumer: consumer.name, release: releaseOf(consumer).tag, file, layers: layers.map((l) => l.path) };
  }
  const target = pinTargetOf(consumer, stage.fqn);
  if (target.style === 'connection' && target.connection === null) {
    return { ok: false, code: 'no-connection', consumer: consumer.name, stage: stage.displayName, by: 'plan' };
  }
  if (target.style === 'connection') {
    const pin = { layers, target: index, connection: target.connection, smvPublishDir: target.smvPublishDir, dialect: dialectOf(consumer) };
    if (change.to === null) {
      const result = removeConnectionPin(pin);
      return result.ok ? { ok: true, file, text: result.text, changed: result.changed, previous: result.previous, stillPinnedBy: result.stillPinnedBy } : result;
    }
    const result = setConnectionPin({ ...pin, version: change.to });
    return result.ok ? { ok: true, file, text: result.text, changed: result.changed, previous: result.previous, stillPinnedBy: null } : result;
  }
  const pin = { layers, target: index, stage, knownStages, rules: stageRulesOf(consumer) };
  if (change.to === null) {
    const result = removeStagePin(pin);
    return result.ok ? { ok: true, file, text: result.text, changed: result.changed, previous: result.previous, stillPinnedBy: result.stillPinnedBy } : result;
  }
  const result = setStagePin({ ...pin, version: change.to });
  return result.ok ? { ok: true, file, text: result.text, changed: result.changed, previous: result.previous, stillPinnedBy: null } : result;
}

/** One stage's part of an edit of several: what pinned it before, and whether the edit moves it. */
export interface PinEditPart {
  change: PinChange;
  previous: EffectivePin;
  changed: boolean;
}

/** Several stages' pins edited in one pass over the same file (one commit): `changed` when any part is. */
export interface MultiPinEdit {
  file: string;
  text: string;
  changed: boolean;
  /** One per change asked, in order. */
  parts: PinEditPart[];
}

/**
 * Several pin changes of one consumer as one edit: each is planned on the texts the ones before it
 * left (so each keeps every other listed stage's pin where it was), then every stage's effective
 * pin is read again from the final texts under the consumer's rules and must be its target. A
 * stage already pinned to its target is a part that does not change; the first refusal is the answer.
 */
export function planPinEdits(changes: readonly PinChange[], texts: RepoTexts, knownStages: readonly Stage[]): Result<MultiPinEdit, PinEditRefusal | AdoptRefusal> {
  const [first] = changes;
  if (!first) throw new Error('planPinEdits needs at least one change');
  const file = pinFileOf(first.consumer);
  let current = texts;
  const parts: PinEditPart[] = [];
  for (const change of changes) {
    const edit = planPinEdit(change, current, knownStages);
    if (!edit.ok) return edit;
    parts.push({ change, previous: edit.previous, changed: edit.changed });
    if (edit.changed) current = new Map(current).set(edit.file, edit.text);
  }
  // The final texts, read again: a later edit must not have moved an earlier stage's pin.
  for (const change of changes) {
    const again = planPinEdit(change, current, knownStages);
    if (!again.ok) return again;
    if (again.changed) return { ok: false, code: 'pin-not-effective', key: again.previous.key ?? '', file, now: again.previous };
  }
  const changed = parts.some((p) => p.changed);
  return { ok: true, file, text: changed ? (current.get(file) ?? '') : (texts.get(file) ?? ''), changed, parts };
}

/** The commit message: what changed, from what, and who asked. */
export function commitMessageOf(change: PinChange, previous: EffectivePin): string {
  const { consumer, stage, actor } = change;
  const who = `${actor.name} (${actor.id})`;
  const from = pinLabel(previous) ?? 'none';
  const overridden = change.freezeOverridden ? `Freeze-overridden-by: ${who}\n` : '';
  return change.to === null
    ? `Unpin ${stage.displayName} for ${consumer.name}\n\nPrevious: ${from}\nUnpinned-by: ${who}\n${overridden}`
    : `Adopt ${stage.displayName} ${change.to} for ${consumer.name}\n\nPrevious: ${from}\nAdopted-by: ${who}\n${overridden}`;
}

/**
 * The commit message of several stages adopted at once: each stage and version in the subject, a
 * `Previous:` line per stage (`Previous: geo TCD.20160701.geo`), who asked. Only the parts that change.
 */
export function commitMessageOfAll(parts: readonly PinEditPart[]): string {
  const moved = parts.filter((p) => p.changed);
  const [first] = moved;
  if (!first) throw new Error('commitMessageOfAll needs a part that changes');
  const { consumer, actor } = first.change;
  const adopted = moved.map((p) => `${p.change.stage.displayName} ${p.change.to}`).join(', ');
  const previous = moved.map((p) => `Previous: ${p.change.stage.displayName} ${pinLabel(p.previous) ?? 'none'}\n`).join('');
  const who = `${actor.name} (${actor.id})`;
  const overridden = first.change.freezeOverridden ? `Freeze-overridden-by: ${who}\n` : '';
  return `Adopt ${adopted} for ${consumer.name}\n\n${previous}Adopted-by: ${who}\n${overridden}`;
}

function adoptBranchName(stage: KnownStage, version: string): string {
  return `smvbot/adopt/${stage.displayName}/${version}`;
}

/** Where the commit goes: the consumer's branch (push mode) or the bot's own review branch (branch mode). */
export function pushTargetOf(change: PinChange): { branch: string; review: boolean } {
  const { consumer, stage } = change;
  if (consumer.mode !== 'branch') return { branch: consumer.branch, review: false };
  const branch = change.to === null ? `smvbot/unpin/${stage.displayName}` : adoptBranchName(stage, change.to);
  return { branch, review: true };
}

/**
 * Where a commit of several stages goes: as pushTargetOf for one change; in branch mode several get
 * `smvbot/adopt/<stage>+<stage>/<version>+<version>` (a part longer than a file name may be is
 * replaced by a digest of it).
 */
export function pushTargetOfAll(changes: readonly PinChange[]): { branch: string; review: boolean } {
  const [first] = changes;
  if (!first) throw new Error('pushTargetOfAll needs at least one change');
  if (changes.length === 1 || first.consumer.mode !== 'branch') return pushTargetOf(first);
  const part = (words: string[]) => {
    const joined = words.join('+');
    return joined.length <= MAX_REF_PART ? joined : `${words.length}-${createHash('sha256').update(joined).digest('hex').slice(0, 16)}`;
  };
  return { branch: `smvbot/adopt/${part(changes.map((c) => c.stage.displayName))}/${part(changes.map((c) => c.to ?? ''))}`, review: true };
}

/** Longest part of a review branch name (file systems hold names of 255 bytes; git adds `.lock`). */
const MAX_REF_PART = 200;

/** Authoring identity for a Slack user: git needs an email; a non-routable one avoids a scope. */
export function slackAuthor(actor: Actor): Identity {
  // git drops `<`, `>` and newlines and refuses names with nothing left: fall back to the id.
  const clean = actor.name.replace(/[<>\r\n]/g, '').trim();
  return { name: /[\p{L}\p{N}]/u.test(clean) ? clean : actor.id, email: `${actor.id}@users.slack.invalid` };
}
