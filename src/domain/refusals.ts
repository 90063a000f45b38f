// Why something asked for cannot be done, as data: what was wrong and everything needed to say
// what to do instead. Domain and core return these; the words are made at the edge
// (src/slack/render/refusals.ts: one case per code). Names typed by users or read from disk are
// kept raw here: escaping them is the renderer's job.
import type { GitFailure } from './gitFailure.ts';
import type { Deprecation, Freeze } from './records.ts';
import type { EffectivePin, PropsSource } from './types.ts';

/** Why a version string is not a plain version directory name (first rule broken). */
export type VersionProblem =
  | { kind: 'empty' }
  | { kind: 'too-long'; length: number }
  | { kind: 'path-separator' }
  | { kind: 'whitespace' }
  | { kind: 'bad-start' }
  | { kind: 'bad-character'; character: string };

/** One way the consumer's copy of a version differs from what was published. */
export type SyncDifference =
  | { entry: string; kind: 'missing' }
  | { entry: string; kind: 'size'; bytes: number; published: number }
  | { entry: string; kind: 'incomplete' };

/** What would change besides the pin if an edited props file were written. */
export type EditProblem =
  | { kind: 'would-not-load'; error: string }
  | { kind: 'key-disappears'; key: string }
  | { kind: 'key-changes'; key: string; now: string; was: string; line: PropsLine | null }
  | { kind: 'key-appears'; key: string; line: PropsLine | null };

/** The line of an edited file SMV would read a key from (its first physical line, as written). */
export interface PropsLine {
  number: number;
  text: string;
}

/** A module of a version that failed its data-quality rules: its FQN and the rules' names. */
export interface DqmFailedModule {
  fqn: string;
  rules: string[];
}

type Refused<Code extends string, Fields> = { ok: false; code: Code } & Fields;

/** Refusals about which stage was meant (SPEC §4). `known`: how each configured stage is typed. */
export type StageRefusal =
  | Refused<'missing-stage', { known: string[] }>
  | Refused<'ambiguous-stage', { typed: string; fqns: string[] }>
  /** `known` empty: no stages are configured. */
  | Refused<'unknown-stage', { typed: string; known: string[] }>;

/** Refusals about a version that may not be pinned (SPEC §5.2). `newest`: the stage's newest complete versions. */
export type VersionRefusal =
  | Refused<'invalid-version', { version: string; problem: VersionProblem }>
  | Refused<'unknown-version', { for: 'adopt'; stage: string; version: string; newest: string[] }>
  | Refused<'version-incomplete', { stage: string; version: string; reasons: string[]; holdsStage: boolean; newest: string[] }>
  | Refused<'version-lacks-stage', { stage: string; version: string; holds: string[]; newest: string[] }>;

/** Refusals about the consumer's synced copy of a version. `consumerDir`, `publisherDir`: the two publish dirs. */
export type SyncRefusal =
  | Refused<'not-synced', { version: string; consumerDir: string; publisherDir: string }>
  | Refused<'sync-differs', { version: string; stage: string; consumerDir: string; publisherDir: string; differences: SyncDifference[] }>
  | Refused<'sync-incomplete', { version: string; consumerDir: string; reasons: string[] }>;

/**
 * Refusals of a pin edit (SPEC §2 "Edits preserve bytes"): nothing is written unless SMV would
 * read the pin and nothing else would change. `parser` names the consumer's props parser.
 */
export type PinEditRefusal =
  /** An edit was asked to pin the empty string (a caller that skipped validation). */
  | Refused<'invalid-version', { version: ''; problem: { kind: 'nothing-to-pin' } }>
  | Refused<'props-syntax-error', { file: string; parser: string; error: string }>
  | Refused<
      'ambiguous-base-pin',
      {
        /** The base-name key, and the file it is set in (or would be written to). */
        key: string;
        in: PropsSource;
        baseName: string;
        /** The stage first, then the others sharing its base name. */
        stages: { fqn: string; fqnKey: string }[];
        /** What the base key would do: unpin the others too, or keep the stage from being pinned on its own. */
        consequence: 'unpins-others' | 'cannot-pin-alone' | 'release-reads-no-fqn-key';
      }
    >
  | Refused<'edit-verification-failed', { file: string; parser: string; problem: EditProblem }>
  | Refused<'stage-not-listed', { stage: string; listed: string[]; setIn: string | null; file: string }>
  | Refused<'pin-side-effect', { stage: string; fqnKey: string; before: EffectivePin; after: EffectivePin }>
  /** `file`: connection pins name the file written. */
  | Refused<'pin-not-effective', { key: string; file?: string; now: EffectivePin }>
  | Refused<'connection-type', { key: string; type: string; file: string; connection: string }>
  | Refused<'pin-shadowed', { key: string; file: string; line: number; into: string }>;

/** Refusals about which consumer was meant (SPEC §4). */
export type ConsumerRefusal =
  | Refused<'unknown-consumer', { typed: string; known: string[] }>
  | Refused<'no-consumers', object>
  | Refused<'which-consumer', { bound: 'several' | 'none'; candidates: string[] }>;

/**
 * Refusals of an adopt or unpin (SPEC §5). `consumer` and `stage` are the consumer's name and the
 * stage's display name. `ask`: Slack user ids who may do it instead.
 */
export type AdoptRefusal =
  | Refused<'pin-file-not-read', { consumer: string; release: string; file: string; layers: string[] }>
  /** `by`: found before anything was read (adopt), or when planning the edit. */
  | Refused<'no-connection', { consumer: string; stage: string; by: 'adopt' | 'plan' }>
  | Refused<'not-authorised', { action: 'adopt' | 'unpin' | 'freeze' | 'unfreeze'; consumer: string; user: string; ask: string[] }>
  /** `reason`: the repo file the bot will not read or write, and why (the repo port's words). */
  | Refused<'unsafe-repo-file', { reason: string }>
  | Refused<'remote-busy', { consumer: string; branch: string; attempts: number }>
  /** `repo` has credentials masked; `pushed: 'unknown'`: the remote may hold the commit. */
  | Refused<'git-failed', { consumer: string; repo: string; branch: string; git: GitFailure; pushed: 'no' | 'unknown' }>
  | Refused<'busy', { consumer: string; waiting: number }>
  | Refused<'conf-ignored', { consumer: string; file: string; key: 'confPath' | 'connectionsPath' }>
  | Refused<'no-versions', { stage: string; allDeprecated: boolean }>
  /** `latest` asked, and no version is old enough for the consumer's soak time yet. */
  | Refused<'too-new', { requested: 'latest'; stage: string; consumer: string; minAgeHours: number; newest: string; adoptableAt: string }>
  /** A named version younger than the consumer's soak time. */
  | Refused<
      'too-new',
      { requested: 'version'; stage: string; consumer: string; minAgeHours: number; version: string; completedAt: string; adoptableAt: string; admins: string[] }
    >
  | Refused<'deprecated', { stage: string; version: string; deprecation: Deprecation }>
  /** `unread`: why a module's verdict could not be read (such a check counts as failed). */
  | Refused<'dqm-failed', { version: string; failed: DqmFailedModule[]; unread: string[]; admins: string[] }>
  /** The consumer is frozen (`/smv freeze`); `retry`: what was asked, to show it with `force`. */
  | Refused<'frozen', { consumer: string; freeze: Freeze; retry: { action: 'adopt'; stage: string; version: string } | { action: 'unpin'; stage: string } }>
  /** `force` from someone who is not an admin; `freeze`: the consumer's freeze in force, if any. */
  | Refused<'force-not-admin', { consumer: string; admins: string[]; freeze: Freeze | null }>
  /** An adopt of several stages that names one stage more than once (`stage`: its display name; the versions as typed). */
  | Refused<'stage-twice', { stage: string; versions: string[] }>
  /** An adopt of several stages (all or nothing) with stages that cannot be adopted: each one's refusal, in the order asked. */
  | Refused<'stages-refused', { consumer: string; stages: { stage: string; version: string; refusal: Refusal }[] }>;

/** Refusals of `/smv freeze` (SPEC §4): `day` as typed, `until` when it would have ended, `today` (UTC). */
export type FreezeRefusal = Refused<'freeze-in-past', { consumer: string; day: string; until: string; today: string }>;

/** Refusals of the release lifecycle (SPEC §4 deprecate). `publisher`, `stage`: names. */
export type LifecycleRefusal =
  | Refused<'not-authorised', { action: 'deprecate' | 'undeprecate'; publisher: string; user: string; ask: string[] }>
  | Refused<'unknown-version', { for: 'deprecate'; stage: string; version: string; newest: string[] }>;

/** `/smv diff` of versions its publisher's publish dir does not hold. */
export type DiffRefusal = Refused<'unknown-version', { for: 'diff'; stage: string; publisher: string; versions: string[] }>;

/** Every refusal a person can act on; `code` is stable (logs, tests), the other fields say the rest. */
export type Refusal = StageRefusal | VersionRefusal | SyncRefusal | PinEditRefusal | ConsumerRefusal | AdoptRefusal | LifecycleRefusal | DiffRefusal | FreezeRefusal;

export type RefusalCode = Refusal['code'];

