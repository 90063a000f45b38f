// The announcement status machine and the fan-out rule (SPEC §4 Announcements), as data. Both
// state stores build their guarded UPDATEs (compare-and-set on `status`) from this one table.
import type { AnnouncementStatus, Subscription } from './records.ts';

export const ANNOUNCEMENT_STATUSES: readonly AnnouncementStatus[] = ['silent', 'pending', 'in_flight', 'posted', 'failed', 'unknown'];

/** What moves an announcement, named by what happened (the state port's method in brackets). */
export type AnnouncementEvent =
  /** the leader takes a pending post to send it (claimAnnouncements) */
  | 'claim'
  /** Slack stored it: its ts (markPosted) */
  | 'posted'
  /** a transient Slack error: posted again by a later pass (markRetry) */
  | 'retry'
  /** Slack refused it for good: channel_not_found, not_in_channel, is_archived (markFailed) */
  | 'failed'
  /** Slack's answer was lost; an unknown one only gets its new reason (markUnknown) */
  | 'unknown'
  /** in flight when its poster stopped: a restart, a new leader, an earlier release's state (settleInterruptedPosts) */
  | 'interrupted'
  /** an unknown post found in the channel's history (settleUnknownAsPosted) */
  | 'found-in-history'
  /** an unknown post the channel's history shows Slack does not have (settleUnknownAsNotPosted) */
  | 'absent-from-history'
  /** a refused post tried again: at start-up, or once an hour old, e.g. after the bot was invited (reopenFailedPosts) */
  | 'reopen';

export interface AnnouncementTransition {
  /** The statuses the event applies in; in any other the row is left as it is. */
  readonly from: readonly AnnouncementStatus[];
  readonly to: AnnouncementStatus;
}

export const ANNOUNCEMENT_TRANSITIONS: { readonly [E in AnnouncementEvent]: AnnouncementTransition } = {
  claim: { from: ['pending'], to: 'in_flight' },
  // The sender's own outcome is written whatever the row says by then (unguarded since the first
  // release): a leader that lost its lease mid-post still records what Slack answered it.
  posted: { from: ANNOUNCEMENT_STATUSES, to: 'posted' },
  retry: { from: ANNOUNCEMENT_STATUSES, to: 'pending' },
  failed: { from: ANNOUNCEMENT_STATUSES, to: 'failed' },
  // Only a post in flight or already unknown: one settled meanwhile keeps its settlement.
  unknown: { from: ['in_flight', 'unknown'], to: 'unknown' },
  interrupted: { from: ['in_flight'], to: 'unknown' },
  'found-in-history': { from: ['unknown'], to: 'posted' },
  'absent-from-history': { from: ['unknown'], to: 'pending' },
  reopen: { from: ['failed'], to: 'pending' },
};

/** Why an event does not apply to an announcement in its current status. */
export interface StatusRefusal {
  event: AnnouncementEvent;
  status: AnnouncementStatus;
  /** The statuses it would have applied in. */
  allowedFrom: readonly AnnouncementStatus[];
}

export type StatusStep = { ok: true; status: AnnouncementStatus } | { ok: false; refusal: StatusRefusal };

/** The status `event` leads to from `current`, or why it does not apply. */
export function nextStatus(current: AnnouncementStatus, event: AnnouncementEvent): StatusStep {
  const { from, to } = ANNOUNCEMENT_TRANSITIONS[event];
  return from.includes(current) ? { ok: true, status: to } : { ok: false, refusal: { event, status: current, allowedFrom: from } };
}

/** The status a new announcement starts in: on a publisher's first sight its history is recorded silently, never posted. */
export function firstStatus(silent: boolean): AnnouncementStatus {
  return silent ? 'silent' : 'pending';
}

/** A subscription to this stage gets every stage's announcements. */
export const EVERY_STAGE = '*';

/**
 * The channels a version is announced in: the publisher's configured channels, in their order,
 * then the channels subscribed to one of its stages or to every stage, sorted; each once.
 */
export function announcementChannels(
  configured: readonly string[],
  subscriptions: readonly Pick<Subscription, 'channel' | 'stage'>[],
  stages: readonly string[],
): string[] {
  const subscribed = subscriptions.filter((s) => s.stage === EVERY_STAGE || stages.includes(s.stage)).map((s) => s.channel);
  return [...new Set([...configured, ...subscribed.sort()])];
}
