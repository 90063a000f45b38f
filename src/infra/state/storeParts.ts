// The halves each store is split into (one per concern), as parts of the state port: both
// stores implement the same parts, so a method moves between files in one place.
import type { StatePort } from '../../core/statePort.ts';

/** Versions and their announcements. */
export type VersionsPort = Pick<
  StatePort,
  | 'publisherKnown'
  | 'eachKnownVersion'
  | 'recordVersions'
  | 'markRemoved'
  | 'getVersion'
  | 'versionsOfStage'
  | 'countPublishedOfStage'
  | 'countVersions'
  | 'pendingAnnouncements'
  | 'claimAnnouncements'
  | 'markPosted'
  | 'markRetry'
  | 'markFailed'
  | 'markUnknown'
  | 'settleUnknownAsPosted'
  | 'settleUnknownAsNotPosted'
  | 'reopenFailedPosts'
  | 'settleInterruptedPosts'
  | 'postedMessagesOf'
  | 'messageContents'
  | 'announcementsIn'
>;

/** Adoptions, deprecations, subscriptions, freezes, durable commands and start-up marks. */
export type RecordsPort = Pick<
  StatePort,
  | 'initializedAt'
  | 'markInitialized'
  | 'probeWrite'
  | 'recordAdoptionIntent'
  | 'settleAdoption'
  | 'unsettledAdoptions'
  | 'abandonedAdoptionsSince'
  | 'adoptions'
  | 'deprecate'
  | 'undeprecate'
  | 'deprecationsOf'
  | 'claimDeprecationNotice'
  | 'subscribe'
  | 'unsubscribe'
  | 'subscriptionsOf'
  | 'freezeOf'
  | 'setFreeze'
  | 'removeFreeze'
  | 'enqueueCommand'
  | 'claimCommands'
  | 'renewCommandLeases'
  | 'finishCommand'
  | 'forgetFinishedCommands'
  | 'commandBacklog'
>;
