import { toStage, resolveStage, ambiguousBaseNames } from '../domain/stages.ts';
import type { ConsumerRefusal, StageRefusal } from '../domain/refusals.ts';
import type { Result, Stage } from '../domain/types.ts';
import { smvReleaseOf, DEFAULT_CONNECTION_SMV_VERSION, DEFAULT_SMV_VERSION, type SmvRelease } from '../domain/smvRelease.ts';
import path from 'node:path/posix';

/** What core needs to know of a publisher (a subset of the validated config). */
export interface PublisherSpec {
  name: string;
  /** Absolute path. */
  publishDir: string;
  /** Stage FQNs: `stages` ∪ the app conf's `smv.stages`, in that order, without duplicates. */
  stages: string[];
  channels: string[];
  settleSeconds: number;
  /** Slack user ids who may deprecate this publisher's versions (besides admins). */
  owners?: string[];
}

/** What core needs to know of a consumer (a subset of the validated config). */
export interface ConsumerSpec {
  name: string;
  /** A git URL kept as written, or an absolute local path. */
  repo: string;
  branch: string;
  /** Path of the user conf inside the repo (relative, forward slashes). */
  confPath: string;
  /** Absolute path of the consumer's synced copy of the published data. */
  publishDir?: string;
  channels: string[];
  /** Slack user ids allowed to adopt; `*` means anyone. */
  adopters: string[];
  mode: 'push' | 'branch';
  /** Soak: versions younger than this many hours are not adoptable (admins may). Absent or 0: none. */
  minAgeHours?: number;
  /** The SMV release the consumer runs (SPEC §2): decides the pin kind, the files merged and the parser. Default 2.1.1.3. */
  smvVersion?: string;
  /**
   * Without smvVersion: `connection` means SMV 2.4r1 (`smv.conn.<name>.path` pins); else the
   * release decides (`stageVersion` up to v2r1, `connection` from v2r6).
   */
  pinStyle?: 'stageVersion' | 'connection';
  /** Connection style: where `smv.conn.<name>.path` pins are written (relative, forward slashes; default conf/connections.props, or the user conf before v2r8). */
  connectionsPath?: string;
  /** Connection style: stage FQN → SMV connection name (the stages the consumer reads). */
  connections?: Readonly<Record<string, string>>;
  /** Connection style: the consumer's publish dir as SMV names it (`hdfs:///…`; default publishDir); pins are `<smvPublishDir>/<version>`. */
  smvPublishDir?: string;
}

/** The user conf's sibling: SMV merges `conf/smv-app-conf.props` under the user conf. */
export function appConfPathFor(confPath: string): string {
  return path.join(path.dirname(confPath), 'smv-app-conf.props');
}

/** `conf/connections.props` beside the user conf (read from v2r8). */
export function connectionsPropsPathFor(confPath: string): string {
  return path.join(path.dirname(confPath), 'connections.props');
}

// Consumers live as long as the bot: each one's release is worked out once.
const releases = new WeakMap<ConsumerSpec, SmvRelease>();

/** The SMV release a consumer runs (config has validated it; specs built in code default as the config does). */
export function releaseOf(consumer: ConsumerSpec): SmvRelease {
  let release = releases.get(consumer);
  if (release) return release;
  const tag = consumer.smvVersion ?? (consumer.pinStyle === 'connection' ? DEFAULT_CONNECTION_SMV_VERSION : DEFAULT_SMV_VERSION);
  const found = smvReleaseOf(tag);
  if (!found.ok) throw new Error(`consumer ${consumer.name}: ${found.problem}`);
  releases.set(consumer, (release = found.release));
  return release;
}

/** Where connection pins go unless configured: `conf/connections.props` where the release reads it (v2r8+), else the user conf. */
export function defaultConnectionsPath(confPath: string, release: SmvRelease): string {
  return release.layers.includes('connections') ? connectionsPropsPathFor(confPath) : confPath;
}

/** How a consumer pins a stage: a stage-version key, or the path of one SMV connection. */
export type PinTarget =
  | { style: 'stageVersion' }
  | { style: 'connection'; connection: string; smvPublishDir: string; connectionsPath: string }
  | { style: 'connection'; connection: null; connectionsPath: string };

export function pinTargetOf(consumer: ConsumerSpec, stageFqn: string): PinTarget {
  const release = releaseOf(consumer);
  if (release.pins !== 'connection') return { style: 'stageVersion' };
  const connectionsPath = consumer.connectionsPath ?? defaultConnectionsPath(consumer.confPath, release);
  const connection = consumer.connections?.[stageFqn];
  const smvPublishDir = consumer.smvPublishDir ?? consumer.publishDir;
  // A consumer maps only the stages it reads: adopting another is refused.
  if (connection === undefined || smvPublishDir === undefined) return { style: 'connection', connection: null, connectionsPath };
  return { style: 'connection', connection, smvPublishDir, connectionsPath };
}

export interface KnownStage extends Stage {
  publisher: PublisherSpec;
  /** Base name when unique among all stages, else the FQN: what we show and write. */
  displayName: string;
}

/** Publishers, consumers and stages as one lookup structure, built once from config. */
export class Topology {
  readonly stages: KnownStage[];
  private readonly byFqn = new Map<string, KnownStage>();

  constructor(
    readonly publishers: PublisherSpec[],
    readonly consumers: ConsumerSpec[],
    readonly admins: string[],
  ) {
    const plain = publishers.flatMap((p) => p.stages.map((fqn) => ({ fqn, publisher: p })));
    const ambiguous = ambiguousBaseNames(plain.map((s) => toStage(s.fqn)));
    this.stages = plain
      .map(({ fqn, publisher }) => {
        const stage = toStage(fqn);
        return { ...stage, publisher, displayName: ambiguous.has(stage.baseName) ? stage.fqn : stage.baseName };
      })
      .sort((a, b) => a.displayName.localeCompare(b.displayName));
    for (const s of this.stages) this.byFqn.set(s.fqn, s);
  }

  stage(fqn: string): KnownStage | undefined {
    return this.byFqn.get(fqn);
  }

  /** What a user typed (`geo` or `com.acme.geo`) to one stage, or a refusal listing candidates. */
  resolveStage(input: string): Result<{ stage: KnownStage }, StageRefusal> {
    const resolved = resolveStage(input, this.stages);
    if (!resolved.ok) return resolved;
    return { ok: true, stage: this.byFqn.get(resolved.stage.fqn)! };
  }

  consumer(name: string): ConsumerSpec | undefined {
    return this.consumers.find((c) => c.name === name);
  }

  /**
   * SPEC §4: explicit argument, else the one consumer bound to the channel,
   * else the only consumer configured, else a refusal listing the choices.
   */
  resolveConsumer(explicit: string | undefined, channelId: string | undefined): Result<{ consumer: ConsumerSpec }, ConsumerRefusal> {
    const names = this.consumers.map((c) => c.name);
    if (explicit !== undefined) {
      const found = this.consumer(explicit);
      if (found) return { ok: true, consumer: found };
      return { ok: false, code: 'unknown-consumer', typed: explicit, known: names };
    }
    const bound = channelId ? this.consumers.filter((c) => c.channels.includes(channelId)) : [];
    if (bound.length === 1) return { ok: true, consumer: bound[0]! };
    const candidates = bound.length > 1 ? bound.map((c) => c.name) : names;
    if (bound.length === 0 && this.consumers.length === 1) return { ok: true, consumer: this.consumers[0]! };
    if (candidates.length === 0) return { ok: false, code: 'no-consumers' };
    return { ok: false, code: 'which-consumer', bound: bound.length > 1 ? 'several' : 'none', candidates };
  }

  /** Consumers bound to a channel (for the Adopt button). */
  consumersForChannel(channelId: string): ConsumerSpec[] {
    return this.consumers.filter((c) => c.channels.includes(channelId));
  }

  mayAdopt(consumer: ConsumerSpec, userId: string): boolean {
    return this.admins.includes(userId) || consumer.adopters.includes('*') || consumer.adopters.includes(userId);
  }
}
