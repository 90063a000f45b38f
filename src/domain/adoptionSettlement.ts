// How an adoption intent is settled (SPEC §6), as data: both state stores guard `settleAdoption` with it.
import type { AdoptionSettlement } from './records.ts';

/** An intent is recorded before its push and settled against the remote after it. */
export type AdoptionState = 'intended' | AdoptionSettlement;

/**
 * The states an intent may be settled from, per outcome. An abandoned one may still land (its
 * commit showed up on the remote late); nothing else changes a settled one.
 */
export const ADOPTION_SETTLEMENTS: { readonly [O in AdoptionSettlement]: readonly AdoptionState[] } = {
  landed: ['intended', 'abandoned'],
  abandoned: ['intended'],
};

/** Whether an intent in `current` becomes `outcome` when settled so. */
export function settles(current: AdoptionState, outcome: AdoptionSettlement): boolean {
  return ADOPTION_SETTLEMENTS[outcome].includes(current);
}
