import { esc, formatTime } from '../domain/mrkdwn.ts';
import type { Deprecation } from '../domain/records.ts';
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
  warnings: string[];
  /** The warnings as kinds, for answers that act on them (the digest); same order as `warnings`. */
  issues: PinIssue[];
}

/** Why a pinned version needs attention besides being behind; `text` is the warning shown. */
export type PinIssue =
  | { kind: 'not-published'; version: string; /** Once published, since removed (else never a complete version). */ removed: boolean; text: string }
  | { kind: 'not-synced'; version: string; text: string }
  /** Its publisher took it back (`/smv deprecate`). */
  | { kind: 'deprecated'; version: string; deprecation: Deprecation; text: string };

export interface PinsPorts {
  topology: Topology;
  catalog: VersionCatalog;
  workspaces: ConsumerWorkspaces;
  inspectVersion(publishDir: string, version: string, opts: { stages: string[]; settleSeconds: number }): Promise<PublishedVersion | undefined>;
  /** A stage's deprecated versions: a pin on one is flagged. */
  deprecationsOf?: (stageFqn: string) => Promise<readonly Deprecation[]>;
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
   * Every known stage's effective pin for the consumer, with staleness and sync warnings. Read
   * fresh from git unless `fresh: false`, which reuses a read from the last `cacheMs`.
   */
  async report(consumer: ConsumerSpec, opts: { fresh?: boolean } = {}): Promise<{ files: ConsumerConfFiles; stages: StagePin[] }> {
    const files = await this.confFiles(consumer, { fresh: opts.fresh ?? true });
    const stages = await Promise.all(this.ports.topology.stages.map((stage) => this.stagePin(consumer, files, stage)));
    return { files, stages };
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
        issues.push({
          kind: 'not-published',
          version: pin.version,
          removed: everSeen,
          text: everSeen
            ? `${esc(pin.version)} is no longer in ${esc(stage.publisher.name)}'s publish dir: SMV runs against it will fail. Adopt a current version.`
            : `${esc(pin.version)} is not a complete published version of ${esc(stage.displayName)}.`,
        });
      }
      const deprecation = (await this.ports.deprecationsOf?.(stage.fqn))?.find((d) => d.version === pin.version);
      if (deprecation) {
        issues.push({
          kind: 'deprecated',
          version: pin.version,
          deprecation,
          text:
            `${esc(pin.version)} was deprecated by ${esc(deprecation.by.name)} on ${formatTime(deprecation.at)}` +
            `${deprecation.reason ? `: ${esc(deprecation.reason)}` : ''}. Adopt a good version.`,
        });
      }
      const unsynced = await this.syncWarning(consumer, stage, pin.version, index >= 0);
      if (unsynced) issues.push({ kind: 'not-synced', version: pin.version, text: unsynced });
    }
    return { stage, pin, latest, behind, warnings: issues.map((i) => i.text), issues };
  }

  private async syncWarning(consumer: ConsumerSpec, stage: KnownStage, version: string, published: boolean): Promise<string | null> {
    if (!consumer.publishDir) return null;
    const opts = { stages: stage.publisher.stages, settleSeconds: 0 };
    const copy = await this.ports.inspectVersion(consumer.publishDir, version, opts);
    if (!published) return copy ? null : `${esc(version)} is not in ${esc(consumer.name)}'s publish dir either.`;
    const source = await this.ports.inspectVersion(stage.publisher.publishDir, version, opts);
    if (!source) return null;
    const problem = checkConsumerSync(source, copy, stage.fqn, consumer.publishDir, stage.publisher.publishDir);
    return problem ? `not synced: ${problem.message}` : null;
  }
}
