// Shared vocabulary of the SMV domain. Pure data: no I/O, no Slack, no git.
import type { Refusal } from './refusals.ts';

/** Output extensions SMV writes per module (SPEC §2). */
export const OUTPUT_EXTS = ['csv', 'schema', 'meta', 'hist', 'edd'] as const;
export type OutputExt = (typeof OUTPUT_EXTS)[number];

export interface Column {
  name: string;
  type: string;
}

/** One `<fqn>.<ext>` entry of a published version. */
export interface OutputEntry {
  /** Entry name under the version dir, e.g. `com.acme.geo.Zip.csv`. */
  name: string;
  ext: OutputExt;
  /** Spark writes a directory of part files; local exports write a plain file. */
  kind: 'dir' | 'file';
  /** Plain file, or directory holding `_SUCCESS` and no `_temporary`. */
  complete: boolean;
  /** Bytes on disk (sum of files below a directory). */
  bytes: number;
}

/** A module's failed data-quality check: the rules that failed, with how many records each. */
export interface DqmFailure {
  rules: { name: string; count: number | null }[];
  /**
   * Set when the `.meta` that holds the verdict could not be read (over the read cap, changed while
   * read): the check is not known to have passed, so it counts as failed, with this reason.
   */
  unread?: string;
}

/** One module (FQN) of a published version, with all its output entries. */
export interface PublishedModule {
  fqn: string;
  /** FQN of the stage the module belongs to (longest prefix), or null if none matches. */
  stage: string | null;
  entries: OutputEntry[];
  /** Columns from `.meta` (preferred) or `.schema`; null when neither is readable. */
  columns: Column[] | null;
  /** Set when a Python-SMV `.meta` says the module failed its data-quality rules (`_dqmValidation.passed: false`). */
  dqmFailed?: DqmFailure;
  bytes: number;
}

/** Everything discovery knows about one `<publishDir>/<version>/`. */
export interface PublishedVersion {
  version: string;
  /** Stage FQNs that have at least one module in this version, sorted. */
  stages: string[];
  modules: PublishedModule[];
  /** SPEC §2 "complete version": markers present, no `_temporary`, settled. */
  complete: boolean;
  /** Fully written, only waiting out settleSeconds: complete at lastChangeMs + settleSeconds. */
  settling: boolean;
  /** Why it is not complete (empty when complete), readable by a person. */
  incompleteReasons: string[];
  /** Newest mtime of anything inside the version (epoch ms). */
  lastChangeMs: number;
  /** When the version became complete: lastChangeMs when complete, else null. */
  completedAtMs: number | null;
  bytes: number;
  /** Unreadable or malformed entries, modules matching no stage: reported, never fatal. */
  problems: string[];
  /** What the scanner refused to follow or read (the version is then not complete). */
  unsafe?: string[];
}

/** A stage as configured: its FQN and the base name users usually type. */
export interface Stage {
  fqn: string;
  baseName: string;
}

/**
 * Which repo file a value came from, in SMV's merge order: the app conf, the runtime config file
 * (v2r12+), `conf/connections.props` (v2r8+), the user conf (see smvRelease.ts).
 */
export type PropsSource = 'app' | 'runtime' | 'connections' | 'user';

/** The pin SMV would actually use for a stage (SPEC §2 precedence). */
export interface EffectivePin {
  /** null when the stage is not pinned (SMV runs live code). */
  version: string | null;
  /** The key that won, e.g. `smv.stages.geo.version`; null when unpinned. */
  key: string | null;
  /** File the winning key came from; null when unpinned. */
  source: PropsSource | null;
  /** Connection pins only: the connection whose `smv.conn.<name>.path` is the pin (set even when unpinned). */
  connection?: string;
  /** Connection pins only: the path SMV reads, as written (set whenever the key is). */
  path?: string;
  /** Connection pins only: the repo path of the file the key came from. */
  file?: string;
  /**
   * Connection pins only: the path does not point at `<smvPublishDir>/<version>`, so it is not a
   * version smvbot manages (`version` is null then, `path` says what it is).
   */
  unmanaged?: boolean;
  /** Connection pins only: the merged `smv.conn.<name>.type` when it is not hdfs (null: unset), so SMV reads no path. */
  connectionType?: string | null;
  /** Stage pins only: the consumer does not list the stage in `smv.stages`, so SMV reads no version for it. */
  unlisted?: boolean;
}

export type { Refusal };

/** What was asked for, or why not; `R` narrows the refusals a function can return. */
export type Result<T, R extends { ok: false } = Refusal> = ({ ok: true } & T) | R;

