// The port through which a planned pin change reaches the consumer's remote (implemented by
// core/pinTransaction.ts over the consumer repo port): reset to the tip, plan, commit as the user,
// record the intent, push, and on a moved remote start over. Every way that can end is a typed result; nothing is thrown for git.
import type { GitFailure } from '../domain/gitFailure.ts';
import type { AdoptionRecord } from '../domain/records.ts';
import type { Refusal, Result } from '../domain/types.ts';
import type { RepoTexts } from './consumerPins.ts';
import type { MultiPinEdit, PinChange, PinEdit } from './pinPlan.ts';
import type { ConsumerRepoPort } from './workspaces.ts';

export interface PublishRequest {
  change: PinChange;
  /** Pure: the edit on the files as they are at the remote tip (run again after the remote moved). */
  plan(texts: RepoTexts): Result<PinEdit>;
  /** Where the request came from (told there if a crash interrupts the push). */
  channel: string | null;
  /** A durable command resumed after its worker died, received then: a change this user made since is its own (found done, not "unchanged"). */
  resumedSince?: string;
}

export type PublishResult =
  /** The pin already is what was asked: nothing committed. */
  /** `landedBefore`: a resumed command's own change, which landed (and was told) before its worker died. */
  | { status: 'unchanged'; edit: PinEdit; landedBefore?: AdoptionRecord }
  | { status: 'landed'; edit: PinEdit; commit: string; record: AdoptionRecord }
  | PublishFailure;

/** Several stages of one consumer in one commit (all or nothing). */
export interface PublishAllRequest {
  /** One per stage, all for one consumer. */
  changes: readonly PinChange[];
  /** Pure: every stage's edit on the files as they are at the remote tip (run again after the remote moved). */
  plan(texts: RepoTexts): Result<MultiPinEdit>;
  channel: string | null;
  resumedSince?: string;
}

export type PublishAllResult =
  /** Every pin already is what was asked: nothing committed. `landedBefore`: a resumed command's own changes, told before its worker died. */
  | { status: 'unchanged'; edit: MultiPinEdit; landedBefore?: AdoptionRecord[] }
  /** One commit; a record per stage it changed (stages already pinned have none). */
  | { status: 'landed'; edit: MultiPinEdit; commit: string; records: AdoptionRecord[] }
  | PublishFailure;

/** How a publish ends without a landed or unchanged pin. */
export type PublishFailure =
  /** The plan refused the files (e.g. the key is defined in a way the bot will not edit). */
  | { status: 'refused'; refusal: Refusal }
  /** The pin file is git-ignored: a commit would reach nobody. */
  | { status: 'pin-file-ignored'; file: string }
  /** A file the bot will not read or write (symlink, not a regular file, too large). */
  | { status: 'repo-file-refused'; message: string }
  /** The remote moved under every attempt. */
  | { status: 'remote-busy'; attempts: number }
  /** git failed; `pushed` says whether the remote may hold the commit anyway. */
  | { status: 'git-failed'; failure: GitFailure; pushed: 'no' | 'unknown' };

export interface PinPublisher {
  /** Runs inside the consumer's workspace turn (one change per consumer at a time). */
  publish(repo: ConsumerRepoPort, request: PublishRequest): Promise<PublishResult>;
  /** Several stages in one commit, pushed once; the same turn and rules as `publish`. */
  publishAll(repo: ConsumerRepoPort, request: PublishAllRequest): Promise<PublishAllResult>;
}
