// What an adopt or unpin is asked with (every name resolved) and what it comes to: typed
// outcomes the Slack layer words (SPEC §5).
import type { EffectivePin, Refusal } from '../domain/types.ts';
import type { AdoptionRecord, Actor, Freeze } from '../domain/records.ts';
import type { ConsumerSpec, KnownStage } from './topology.ts';

/** An adopt with every name resolved (at the Slack edge, once). */
export interface AdoptRequest {
  consumer: ConsumerSpec;
  stage: KnownStage;
  /** A version name or `latest`. */
  version: string;
  actor: Actor;
  /** Channel the request came from (told there if a crash interrupts the push). */
  channel?: string;
  /** A durable command resumed after its worker died, received then: a change this user made since is its own (found done, not "unchanged"). */
  resumedSince?: string;
  /** `force` typed: an admin adopts despite the consumer's freeze (anyone else is refused). */
  force?: boolean;
}

/** Several stages adopted for one consumer in one commit, all or nothing (`/smv adopt geo V1 cms V2`). */
export interface AdoptAllRequest {
  consumer: ConsumerSpec;
  /** Each stage once, with a version name or `latest`, in the order asked. */
  pairs: readonly { stage: KnownStage; version: string }[];
  actor: Actor;
  channel?: string;
  resumedSince?: string;
  /** `force` typed: an admin adopts despite the consumer's freeze (anyone else is refused). */
  force?: boolean;
}

export interface UnpinRequest {
  consumer: ConsumerSpec;
  stage: KnownStage;
  actor: Actor;
  channel?: string;
  /** A durable command resumed after its worker died, received then: a change this user made since is its own (found done, not "unchanged"). */
  resumedSince?: string;
  /** `force` typed: an admin unpins despite the consumer's freeze (anyone else is refused). */
  force?: boolean;
}

export interface Landed {
  consumer: ConsumerSpec;
  stage: KnownStage;
  previous: string | null;
  commit: string;
  mode: 'push' | 'branch';
  /** Set in branch mode: the review branch pushed. */
  branch?: string;
  record: AdoptionRecord;
  /** An admin's `force` went through the consumer's freeze: this one. */
  freezeOverridden?: Freeze;
}

/** An admin adopted a version still inside the consumer's soak time: when it would have become adoptable. */
export interface SoakSkipped {
  minAgeHours: number;
  adoptableAt: string;
}

export type AdoptOutcome =
  | ({ ok: true; status: 'adopted'; version: string; soakSkipped?: SoakSkipped; qualityOverridden?: string[] } & Landed)
  | {
      ok: true;
      status: 'already-pinned';
      consumer: ConsumerSpec;
      stage: KnownStage;
      version: string;
      pin: EffectivePin;
      /** A resumed command's own adoption, which landed (and was told in the channel) before its worker died. */
      landedBefore?: AdoptionRecord;
    }
  | Refusal;

/** One stage of an adopt of several: moved by the commit, or already pinned to its version (left out of it). */
export type StageAdoption =
  | { status: 'adopted'; stage: KnownStage; version: string; previous: string | null; record: AdoptionRecord; soakSkipped?: SoakSkipped; qualityOverridden?: string[] }
  | { status: 'already-pinned'; stage: KnownStage; version: string; pin: EffectivePin };

export type AdoptAllOutcome =
  | { ok: true; status: 'adopted'; consumer: ConsumerSpec; commit: string; mode: 'push' | 'branch'; branch?: string; stages: StageAdoption[] }
  | {
      ok: true;
      status: 'already-pinned';
      consumer: ConsumerSpec;
      stages: StageAdoption[];
      /** A resumed command's own adoptions, which landed (and were told in the channel) before its worker died. */
      landedBefore?: AdoptionRecord[];
    }
  | Refusal;

export type UnpinOutcome =
  | ({ ok: true; status: 'unpinned'; stillPinnedBy: EffectivePin } & Landed)
  | { ok: true; status: 'not-pinned'; consumer: ConsumerSpec; stage: KnownStage; stillPinnedBy: EffectivePin }
  | Refusal;
