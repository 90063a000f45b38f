// The release lifecycle (SPEC §4): a publisher's owners take a bad version back (`/smv deprecate`)
// and every consumer whose effective pin is that version is told, once; channels choose what
// they hear (`/smv subscribe`). Pure decisions over ports; posting is the Slack edge's job.
import type { Actor, Deprecation, Subscription } from '../domain/records.ts';
import type { LifecycleRefusal } from '../domain/refusals.ts';
import type { EffectivePin } from '../domain/types.ts';
import type { VersionCatalog } from './catalog.ts';
import type { StatePort } from './statePort.ts';
import type { ConsumerSpec, KnownStage, Topology } from './topology.ts';

export interface LifecyclePorts {
  topology: Topology;
  catalog: VersionCatalog;
  state: Pick<StatePort, 'deprecate' | 'undeprecate' | 'deprecationsOf' | 'claimDeprecationNotice' | 'subscribe' | 'unsubscribe' | 'subscriptionsOf'>;
  /** Deprecations as answers read them (cached; `onChange` drops the cache). */
  deprecationsOf(stageFqn: string): Promise<readonly Deprecation[]>;
  /** The consumer's effective pin of the stage, read from its repo now (git errors reject). */
  effectivePin(consumer: ConsumerSpec, stage: KnownStage): Promise<EffectivePin>;
  /** Told when a deprecation changed (cached answers are dropped, the version's announcements updated). */
  onChange?: (stage: KnownStage, version: string) => void;
  now?: () => Date;
}

/** One "your pin was deprecated" message to post. */
export interface DeprecationNotice {
  consumer: ConsumerSpec;
  channel: string;
}

export type DeprecateOutcome =
  | {
      ok: true;
      status: 'deprecated' | 'already-deprecated';
      stage: KnownStage;
      deprecation: Deprecation;
      /** The newest complete version of the stage that is not deprecated (null: none). */
      newestGood: string | null;
      /** Claimed notices to post (each told once). */
      notices: DeprecationNotice[];
      /** Consumers pinned to it that have no channel to tell. */
      untold: ConsumerSpec[];
      /** Consumers whose pins could not be read, with git's gist. */
      unread: { consumer: ConsumerSpec; why: string }[];
    }
  | LifecycleRefusal;

export type UndeprecateOutcome = { ok: true; status: 'undeprecated' | 'not-deprecated'; stage: KnownStage; version: string } | LifecycleRefusal;

export type SubscribeOutcome = { ok: true; status: 'subscribed' | 'already-subscribed' | 'unsubscribed' | 'not-subscribed'; stage: KnownStage | '*' };

export class ReleaseLifecycle {
  private readonly now: () => Date;

  constructor(private readonly ports: LifecyclePorts) {
    this.now = ports.now ?? (() => new Date());
  }

  /**
   * `resumedSince`: this is a durable command resumed after its worker died, received then. A
   * deprecation this same user recorded since then is that worker's doing, i.e. this command's: it
   * counts as done now (the announcements are updated again, the answer says "deprecated"), not as
   * someone else's earlier deprecation that left nothing to do.
   */
  async deprecate(req: { stage: KnownStage; version: string; reason: string | null; actor: Actor; resumedSince?: string }): Promise<DeprecateOutcome> {
    const { stage, version, actor } = req;
    const refused = this.refuseNonOwner(stage, actor, 'deprecate') ?? (await this.refuseUnknownVersion(stage, version));
    if (refused) return refused;
    const deprecation: Deprecation = { stage: stage.fqn, version, reason: req.reason, by: actor, at: this.now().toISOString() };
    const recorded = await this.ports.state.deprecate(deprecation);
    const stored = (await this.ports.state.deprecationsOf(stage.fqn)).find((d) => d.version === version) ?? deprecation;
    const added = recorded || (req.resumedSince !== undefined && stored.by.id === actor.id && Date.parse(stored.at) >= Date.parse(req.resumedSince));
    if (added) this.ports.onChange?.(stage, version);
    const newestGood = await this.newestGood(stage);

    // Everyone whose effective pin is the version: told in each of its channels, once.
    const notices: DeprecationNotice[] = [];
    const untold: ConsumerSpec[] = [];
    const unread: { consumer: ConsumerSpec; why: string }[] = [];
    for (const consumer of this.ports.topology.consumers) {
      let pin: EffectivePin;
      try {
        pin = await this.ports.effectivePin(consumer, stage);
      } catch (error) {
        unread.push({ consumer, why: (error as { failure?: { gist?: string } }).failure?.gist ?? (error as Error).message });
        continue;
      }
      if (pin.version !== version) continue;
      if (!consumer.channels.length) untold.push(consumer);
      for (const channel of consumer.channels) {
        const key = { stage: stage.fqn, version, consumer: consumer.name, channel };
        if (await this.ports.state.claimDeprecationNotice(key, this.now().toISOString())) notices.push({ consumer, channel });
      }
    }
    return { ok: true, status: added ? 'deprecated' : 'already-deprecated', stage, deprecation: stored, newestGood, notices, untold, unread };
  }

  async undeprecate(req: { stage: KnownStage; version: string; actor: Actor }): Promise<UndeprecateOutcome> {
    const refused = this.refuseNonOwner(req.stage, req.actor, 'undeprecate');
    if (refused) return refused;
    const removed = await this.ports.state.undeprecate(req.stage.fqn, req.version);
    if (removed) this.ports.onChange?.(req.stage, req.version);
    return { ok: true, status: removed ? 'undeprecated' : 'not-deprecated', stage: req.stage, version: req.version };
  }

  /** A stage's deprecated versions, newest deprecation first. */
  deprecationsOf(stageFqn: string): Promise<readonly Deprecation[]> {
    return this.ports.deprecationsOf(stageFqn);
  }

  /** Newest complete, still published version of the stage that is not deprecated. */
  async newestGood(stage: KnownStage): Promise<string | null> {
    const deprecated = new Set((await this.deprecationsOf(stage.fqn)).map((d) => d.version));
    const versions = await this.ports.catalog.versionsOf(stage.fqn);
    return versions.find((v) => !deprecated.has(v.version))?.version ?? null;
  }

  async subscribe(req: { channel: string; stage: KnownStage | '*'; actor: Actor }): Promise<SubscribeOutcome> {
    const stage = req.stage === '*' ? '*' : req.stage.fqn;
    const added = await this.ports.state.subscribe({ channel: req.channel, stage, by: req.actor, at: this.now().toISOString() });
    return { ok: true, status: added ? 'subscribed' : 'already-subscribed', stage: req.stage };
  }

  async unsubscribe(req: { channel: string; stage: KnownStage | '*' }): Promise<SubscribeOutcome> {
    const removed = await this.ports.state.unsubscribe(req.channel, req.stage === '*' ? '*' : req.stage.fqn);
    return { ok: true, status: removed ? 'unsubscribed' : 'not-subscribed', stage: req.stage };
  }

  subscriptionsOf(channel: string): Promise<Subscription[]> {
    return this.ports.state.subscriptionsOf(channel);
  }

  /** Owners of the stage's publisher, or admins. */
  private refuseNonOwner(stage: KnownStage, actor: Actor, action: 'deprecate' | 'undeprecate'): LifecycleRefusal | null {
    const { topology } = this.ports;
    const owners = stage.publisher.owners ?? [];
    if (owners.includes(actor.id) || topology.admins.includes(actor.id)) return null;
    const ask = [...new Set([...owners, ...topology.admins])];
    return { ok: false, code: 'not-authorised', action, publisher: stage.publisher.name, user: actor.id, ask };
  }

  /** Its newest three recorded versions are named (removed ones too: they can be deprecated). */
  private async refuseUnknownVersion(stage: KnownStage, version: string): Promise<LifecycleRefusal | null> {
    const versions = await this.ports.catalog.versionsOf(stage.fqn, { includeRemoved: true });
    if (versions.some((v) => v.version === version)) return null;
    return { ok: false, code: 'unknown-version', for: 'deprecate', stage: stage.displayName, version, newest: versions.slice(0, 3).map((v) => v.version) };
  }
}
