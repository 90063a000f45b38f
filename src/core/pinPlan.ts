// The pin change as a pure plan (SPEC §5): from the consumer's files as they are on the remote
// tip to the new text of the one file to commit, what was pinned before, and the commit's words.
// No I/O: the publisher re-plans on a fresh tip whenever the remote moved.
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

/** Authoring identity for a Slack user: git needs an email; a non-routable one avoids a scope. */
export function slackAuthor(actor: Actor): Identity {
  // git drops `<`, `>` and newlines and refuses names with nothing left: fall back to the id.
  const clean = actor.name.replace(/[<>\r\n]/g, '').trim();
  return { name: /[\p{L}\p{N}]/u.test(clean) ? clean : actor.id, email: `${actor.id}@users.slack.invalid` };
}
