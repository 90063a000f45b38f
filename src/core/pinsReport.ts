import { activeFreeze } from '../domain/freezes.ts';
import type { Deprecation, Freeze } from '../domain/records.ts';
import type { SyncRefusal } from '../domain/refusals.ts';
import { checkConsumerSync } from '../domain/validation.ts';
import type { EffectivePin, PublishedVersion } from '../domain/types.ts';
import { appConfPathFor, consumerLayersOf, pinFileOf, pinReaderFor, readPinFiles } from './consumerPins.ts';
import type { CatalogEntry, VersionCatalog } from './catalog.ts';
import type { ConsumerSpec, KnownStage, Topology } from './topology.ts';
import type { ConsumerWorkspaces } from './workspaces.ts';

/** The consumer's props files as they are on its branch right now. */
export interface ConsumerConfFiles {
  user: string | null;
  app: string | null;
  /** Connection consumers: the connections file (null when absent); stage-pin consumers: null. */
  connections: string | null;
  readAt: string;
  /** Files the consumer's SMV also merges that the bot cannot read (~/.smv first): "effective" holds unless they set the key. */
  unseen: string[];
  /** A stage's effective pin in the consumer's pin style, every file parsed once per read. */
  pinOf(stage: KnownStage): EffectivePin;
  /** The repo file a pin's key came from; null when unpinned. */
  fileOf(pin: EffectivePin): string | null;
}

export interface StagePin {
  stage: KnownStage;
  pin: EffectivePin;
  latest: CatalogEntry | undefined;
  /** Complete versions newer than the pin; null when unpinned or the pin is unknown. */
  behind: number | null;
  /** What needs attention besides being behind: each is a warning in the answers. */
  issues: PinIssue[];
}

/** Why a pinned version needs attention besides being behind. */
export type PinIssue =
  | {
      kind: 'not-published';
      version: string;
      /** Once published, since removed from the publisher's publish dir (else never a complete version). */
      removed: boolean;
      stage: KnownStage;
    }
  /** `sync` says what is wrong with the consumer's copy; null: the version is not published, and the consumer has no copy either. */
  | { kind: 'not-synced'; version: string; consumer: string; sync: SyncRefusal | null }
  /** Its publisher took it back (`/smv deprecate`). */
  | { kind: 'deprecated'; version: string; deprecation: Deprecation };

export interface PinsPorts {
  topology: Topology;
  catalog: VersionCatalog;
  workspaces: ConsumerWorkspaces;
  inspectVersion(publishDir: string, version: string, opts: { stages: string[]; settleSeconds: number }): Promise<PublishedVersion | undefined>;
  /** A stage's deprecated versions: a pin on one is flagged. */
  deprecationsOf?: (stageFqn: string) => Promise<readonly Deprecation[]>;
  /** The consumer's freeze as stored (`/smv freeze`): shown while in force. */
  freezeOf?: (consumer: string) => Promise<Freeze | null>;
  now?: () => Date;
  /** How long a read of a consumer's files is reused (releases marks pins from it). */
  cacheMs?: number;
}

/** Reads consumers' pins from their repos (never waiting behind changes) and reports on them. */
export class PinsService {
  private readonly cache = new Map<string, { at: number; files: Promise<ConsumerConfFiles>; value?: ConsumerConfFiles }>();
  private readonly now: () => Date;

  constructor(private readonly ports: PinsPorts) {
    this.now = ports.now ?? (() => new Date());
  }

  /** Fresh read unless one from the last `cacheMs` is at hand. Git errors propagate. */
  confFiles(consumer: ConsumerSpec, opts: { fresh?: boolean } = {}): Promise<ConsumerConfFiles> {
    const cached = this.cache.get(consumer.name);
    if (!opts.fresh && cached && this.isFresh(cached.at)) return cached.files;
    // Its own fetch, never queued behind an adopt; concurrent reads of one consumer share it.
    const files = readPinFiles(consumer, (paths) => this.ports.workspaces.readRemote(consumer, paths)).then((texts): ConsumerConfFiles => {
      const user = texts.get(consumer.confPath) ?? null;
      const app = texts.get(appConfPathFor(consumer.confPath)) ?? null;
      const connections = consumer.pinStyle === 'connection' ? (texts.get(pinFileOf(consumer)) ?? null) : null;
      const { unseen, layers } = consumerLayersOf(consumer, texts);
      const fileOf = (pin: EffectivePin) => (pin.key === null ? null : (pin.file ?? layers.find((l) => l.source === pin.source)?.path ?? null));
      return { user, app, connections, readAt: this.now().toISOString(), unseen, pinOf: pinReaderFor(consumer, texts), fileOf };
    });
    const entry: { at: number; files: Promise<ConsumerConfFiles>; value?: ConsumerConfFiles } = { at: this.now().getTime(), files };
    this.cache.set(consumer.name, entry);
    files.then(
      (value) => (entry.value = value),
      () => this.cache.delete(consumer.name),
    );
    return files;
  }

  /** A read from the last `cacheMs` that has already finished, without waiting for git; else undefined. */
  freshConfFiles(consumer: ConsumerSpec): ConsumerConfFiles | undefined {
    const cached = this.cache.get(consumer.name);
    if (!cached?.value || !this.isFresh(cached.at)) return undefined;
    return cached.value;
  }

  private isFresh(readAtMs: number): boolean {
    return this.now().getTime() - readAtMs < (this.ports.cacheMs ?? 30_000);
  }

  /** Forget what was read (after the bot itself changed the repo). */
  invalidate(consumer: string): void {
    this.cache.delete(consumer);
  }

  pinOf(files: ConsumerConfFiles, stage: KnownStage): EffectivePin {
    return files.pinOf(stage);
  }

  /**
   * Every known stage's effective pin for the consumer, with staleness and sync warnings, and the
   * consumer's freeze in force (read from the state now, never cached). Read fresh from git unless
   * `fresh: false`, which reuses a read from the last `cacheMs`.
   */
  async report(consumer: ConsumerSpec, opts: { fresh?: boolean } = {}): Promise<{ files: ConsumerConfFiles; stages: StagePin[]; freeze: Freeze | null }> {
    const files = await this.confFiles(consumer, { fresh: opts.fresh ?? true });
    const stages = await Promise.all(this.ports.topology.stages.map((stage) => this.stagePin(consumer, files, stage)));
    const freeze = activeFreeze(await this.ports.freezeOf?.(consumer.name), this.now());
    return { files, stages, freeze };
  }

  private async stagePin(consumer: ConsumerSpec, files: ConsumerConfFiles, stage: KnownStage): Promise<StagePin> {
    const pin = files.pinOf(stage);
    const head = await this.ports.catalog.head(stage.fqn);
    const latest = head.versions[0];
    const issues: PinIssue[] = [];
    let behind: number | null = null;
    let index = -1;
    if (pin.version !== null) {
      index = head.versions.findIndex((v) => v.version === pin.version);
      // Older than the head: only then is the whole list read.
      if (index < 0 && head.total > head.versions.length) {
        index = (await this.ports.catalog.versionsOf(stage.fqn)).findIndex((v) => v.version === pin.version);
      }
      if (index >= 0) behind = index;
      else {
        const everSeen = (await this.ports.catalog.versionsOf(stage.fqn, { includeRemoved: true })).some((v) => v.version === pin.version);
        issues.push({ kind: 'not-published', version: pin.version, removed: everSeen, stage });
      }
      const deprecation = (await this.ports.deprecationsOf?.(stage.fqn))?.find((d) => d.version === pin.version);
      if (deprecation) {
        issues.push({ kind: 'deprecated', version: pin.version, deprecation });
      }
      const unsynced = await this.syncIssue(consumer, stage, pin.version, index >= 0);
      if (unsynced) issues.push(unsynced);
    }
    return { stage, pin, latest, behind, issues };
  }

  private async syncIssue(consumer: ConsumerSpec, stage: KnownStage, version: string, published: boolean): Promise<PinIssue | null> {
    if (!consumer.publishDir) return null;
    const opts = { stages: stage.publisher.stages, settleSeconds: 0 };
    const copy = await this.ports.inspectVersion(consumer.publishDir, version, opts);
    if (!published) return copy ? null : { kind: 'not-synced', version, consumer: consumer.name, sync: null };
    const source = await this.ports.inspectVersion(stage.publisher.publishDir, version, opts);
    if (!source) return null;
    const problem = checkConsumerSync(source, copy, stage.fqn, consumer.publishDir, stage.publisher.publishDir);
    return problem ? { kind: 'not-synced', version, consumer: consumer.name, sync: problem } : null;
  }
}
