import { UNPINNED } from '../domain/pins.ts';
import { redactUrlCredentials } from '../domain/redact.ts';
import { checkConsumerSync, checkVersionForStage, validateVersionString } from '../domain/validation.ts';
import { activeFreeze } from '../domain/freezes.ts';
import type { AdoptRefusal } from '../domain/refusals.ts';
import type { PublishedVersion, Refusal, Result } from '../domain/types.ts';
import type { Actor, AdoptionRecord, Deprecation, Freeze } from '../domain/records.ts';
import type { VersionCatalog } from './catalog.ts';
import { QueueFullError } from './keyedQueue.ts';
import { planPinEdit, planPinEdits, type PinChange } from './pinPlan.ts';
import type { PinPublisher, PublishAllResult, PublishFailure, PublishResult } from './pinPublishing.ts';
import { pinTargetOf, type ConsumerSpec, type KnownStage, type Topology } from './topology.ts';
import type { ConsumerRepoPort, ConsumerWorkspaces } from './workspaces.ts';

export interface AdoptPorts {
  topology: Topology;
  catalog: VersionCatalog;
  /** Reads one version dir from disk (null when absent): the truth at adopt time. */
  inspectVersion(publishDir: string, version: string, opts: { stages: string[]; settleSeconds: number }): Promise<PublishedVersion | undefined>;
  workspaces: ConsumerWorkspaces;
  /** Commits and pushes a planned change (core/pinTransaction.ts). */
  publisher: PinPublisher;
  /** Told after a commit landed, so cached reads of the consumer's files are dropped. */
  afterChange?: (consumer: string) => void;
  /** Told after an adopt landed (its announcement gains an "Adopted by" line). */
  onAdopted?: (record: AdoptionRecord) => void;
  /** Where failed changes are logged (warn for git failures, info for refusals). */
  log?: { info(obj: object, msg: string): void; warn(obj: object, msg: string): void };
  /** The clock soak times are measured against. */
  now?: () => Date;
  /** A stage's deprecated versions (`/smv deprecate`): not adoptable, skipped by `latest`. */
  deprecationsOf?: (stageFqn: string) => Promise<readonly Deprecation[]>;
  /** The consumer's freeze as stored (`/smv freeze`), read at every check: whether it is in force is decided against `now`. */
  freezeOf?: (consumer: string) => Promise<Freeze | null>;
}

import type { AdoptAllOutcome, AdoptAllRequest, AdoptOutcome, AdoptRequest, Landed, SoakSkipped, StageAdoption, UnpinOutcome, UnpinRequest } from './adoptOutcomes.ts';

export type { AdoptAllOutcome, AdoptAllRequest, AdoptOutcome, AdoptRequest, Landed, SoakSkipped, StageAdoption, UnpinOutcome, UnpinRequest } from './adoptOutcomes.ts';

/**
 * SPEC §5: authorise, check the version, then hand a pure plan of the edit to the publisher, one
 * change per consumer at a time; turn what happened into an outcome the user can act on.
 */
export class AdoptService {
  private readonly now: () => Date;

  constructor(private readonly ports: AdoptPorts) {
    this.now = ports.now ?? (() => new Date());
  }

  async adopt(req: AdoptRequest): Promise<AdoptOutcome> {
    return this.logged('adopt', req, await this.adoptOnce(req));
  }

  /**
   * Several stages in one commit, all or nothing: authorised once; every stage checked as `adopt`
   * checks one before any git work, and every problem told at once; stages already pinned to their
   * version are left out of the commit.
   */
  async adoptAll(req: AdoptAllRequest): Promise<AdoptAllOutcome> {
    const outcome = await this.adoptAllOnce(req);
    if (!outcome.ok && this.ports.log) {
      const what = { action: 'adopt', consumer: req.consumer.name, stages: req.pairs.map((p) => `${p.stage.fqn} ${p.version}`), user: req.actor.id, code: outcome.code };
      if (outcome.code === 'git-failed' || outcome.code === 'remote-busy') {
        this.ports.log.warn({ ...what, ...(outcome.code === 'git-failed' ? { git: outcome.git.kind, gist: outcome.git.gist } : {}) }, 'adopt failed');
      } else {
        this.ports.log.info(what, 'adopt refused');
      }
    }
    return outcome;
  }

  async unpin(req: UnpinRequest): Promise<UnpinOutcome> {
    return this.logged('unpin', req, await this.unpinOnce(req));
  }

  /** Every change that did not happen is logged: git failures at warn with their gist. */
  private logged<T extends AdoptOutcome | UnpinOutcome>(action: 'adopt' | 'unpin', req: AdoptRequest | UnpinRequest, outcome: T): T {
    if (outcome.ok || !this.ports.log) return outcome;
    const what = { action, consumer: req.consumer.name, stage: req.stage.fqn, ...('version' in req ? { version: req.version } : {}), user: req.actor.id, code: outcome.code };
    if (outcome.code === 'git-failed' || outcome.code === 'remote-busy') {
      this.ports.log.warn({ ...what, ...(outcome.code === 'git-failed' ? { git: outcome.git.kind, gist: outcome.git.gist } : {}) }, `${action} failed`);
    } else {
      this.ports.log.info(what, `${action} refused`);
    }
    return outcome;
  }

  private async adoptOnce(req: AdoptRequest): Promise<AdoptOutcome> {
    const { consumer, stage } = req;
    const refused = this.refuseActor('adopt', consumer, req.actor) ?? refuseUnmapped(consumer, stage);
    if (refused) return refused;
    const freeze = await this.checkFreeze(consumer, req.actor, req.force, { action: 'adopt', stage: stage.displayName, version: req.version });
    if (!freeze.ok) return freeze;
    const version = await this.resolveVersion(consumer, stage, req.version);
    if (!version.ok) return version;
    const available = await this.checkAvailable(consumer, stage, version.version, req.actor);
    if (!available.ok) return available;
    const { soakSkipped, qualityOverridden } = available;

    const change: PinChange = { action: 'adopt', consumer, stage, to: version.version, actor: req.actor, ...overriding(freeze.overridden) };
    const result = await this.publish(change, req.channel, req.resumedSince);
    if ('ok' in result) return result;
    if (result.status === 'unchanged') {
      const landedBefore = result.landedBefore ? { landedBefore: result.landedBefore } : {};
      return { ok: true, status: 'already-pinned', consumer, stage, version: version.version, pin: result.edit.previous, ...landedBefore };
    }
    this.ports.onAdopted?.(result.record);
    return {
      ok: true,
      status: 'adopted',
      version: version.version,
      ...(soakSkipped ? { soakSkipped } : {}),
      ...(qualityOverridden.length ? { qualityOverridden } : {}),
      ...this.landed(change, result),
    };
  }

  private async adoptAllOnce(req: AdoptAllRequest): Promise<AdoptAllOutcome> {
    const { consumer, pairs, actor } = req;
    if (pairs.length === 0) throw new Error('adoptAll needs at least one stage');
    const refused = stageNamedTwice(pairs) ?? this.refuseActor('adopt', consumer, actor);
    if (refused) return refused;
    // The freeze is the consumer's, not a stage's: one refusal for the whole adopt (its retry names every pair).
    const words = pairs.flatMap((p) => [p.stage.displayName, p.version]);
    const freeze = await this.checkFreeze(consumer, actor, req.force, { action: 'adopt', stage: words.slice(0, -1).join(' '), version: words.at(-1)! });
    if (!freeze.ok) return freeze;
    const checked = await Promise.all(pairs.map((p) => this.checkPair(consumer, p.stage, p.version, actor)));
    const problems = checked.flatMap((c, i) => (c.ok ? [] : [{ stage: pairs[i]!.stage.displayName, version: pairs[i]!.version, refusal: c }]));
    if (problems.length) return { ok: false, code: 'stages-refused', consumer: consumer.name, stages: problems };
    const valid = checked.map((c) => c as Extract<typeof c, { ok: true }>);

    const changes = pairs.map((p, i): PinChange => ({ action: 'adopt', consumer, stage: p.stage, to: valid[i]!.version, actor, ...overriding(freeze.overridden) }));
    const result = await this.publishAll(changes, req.channel, req.resumedSince);
    if ('ok' in result) return result;
    const records = result.status === 'landed' ? result.records : (result.landedBefore ?? []);
    const stages = pairs.map(({ stage }, i): StageAdoption => {
      const { version, soakSkipped, qualityOverridden } = valid[i]!;
      const record = result.status === 'landed' ? records.find((r) => r.stage === stage.fqn) : undefined;
      if (!record) return { status: 'already-pinned', stage, version, pin: result.edit.parts[i]!.previous };
      return {
        status: 'adopted',
        stage,
        version,
        previous: record.from,
        record,
        ...(soakSkipped ? { soakSkipped } : {}),
        ...(qualityOverridden.length ? { qualityOverridden } : {}),
      };
    });
    if (result.status === 'unchanged') return { ok: true, status: 'already-pinned', consumer, stages, ...(records.length ? { landedBefore: records } : {}) };
    for (const record of result.records) this.ports.onAdopted?.(record);
    const branch = result.records[0]?.branch;
    return { ok: true, status: 'adopted', consumer, commit: result.commit, mode: consumer.mode, ...(branch ? { branch } : {}), stages };
  }

  /** One stage of an adopt of several: mapped (connection consumers), its version resolved, and adoptable now. */
  private async checkPair(
    consumer: ConsumerSpec,
    stage: KnownStage,
    requested: string,
    actor: Actor,
  ): Promise<Result<{ version: string; soakSkipped: SoakSkipped | null; qualityOverridden: string[] }>> {
    const unmapped = refuseUnmapped(consumer, stage);
    if (unmapped) return unmapped;
    const version = await this.resolveVersion(consumer, stage, requested);
    if (!version.ok) return version;
    const available = await this.checkAvailable(consumer, stage, version.version, actor);
    return available.ok ? { ...available, version: version.version } : available;
  }

  /** Several changes as one commit, in the consumer's turn; like `publish`. */
  private publishAll(changes: PinChange[], channel: string | undefined, resumedSince: string | undefined): Promise<Settled<PublishAllResult> | Refusal> {
    const knownStages = this.ports.topology.stages;
    const where = { channel: channel ?? null, ...(resumedSince !== undefined ? { resumedSince } : {}) };
    return this.inConsumersTurn(changes[0]!.consumer, (repo) => this.ports.publisher.publishAll(repo, { changes, plan: (texts) => planPinEdits(changes, texts, knownStages), ...where }));
  }

  private async unpinOnce(req: UnpinRequest): Promise<UnpinOutcome> {
    const { consumer, stage } = req;
    const refused = this.refuseActor('unpin', consumer, req.actor) ?? refuseUnmapped(consumer, stage);
    if (refused) return refused;
    const freeze = await this.checkFreeze(consumer, req.actor, req.force, { action: 'unpin', stage: stage.displayName });
    if (!freeze.ok) return freeze;

    const change: PinChange = { action: 'unpin', consumer, stage, to: null, actor: req.actor, ...overriding(freeze.overridden) };
    const result = await this.publish(change, req.channel, req.resumedSince);
    if ('ok' in result) return result;
    const stillPinnedBy = result.edit.stillPinnedBy ?? UNPINNED;
    if (result.status === 'unchanged') return { ok: true, status: 'not-pinned', consumer, stage, stillPinnedBy };
    return { ok: true, status: 'unpinned', stillPinnedBy, ...this.landed(change, result) };
  }

  /** Plans and publishes in the consumer's turn (a refusal for anything but unchanged or landed); past the queue's bound the answer is "busy", not a longer wait. */
  private publish(change: PinChange, channel: string | undefined, resumedSince: string | undefined): Promise<Settled<PublishResult> | Refusal> {
    const knownStages = this.ports.topology.stages;
    const where = { channel: channel ?? null, ...(resumedSince !== undefined ? { resumedSince } : {}) };
    return this.inConsumersTurn(change.consumer, (repo) => this.ports.publisher.publish(repo, { change, plan: (texts) => planPinEdit(change, texts, knownStages), ...where }));
  }

  /**
   * Runs a publish in the consumer's turn (one change per consumer at a time): a full queue is a
   * busy refusal, a landed change drops cached reads, and a failure becomes the refusal the user reads.
   */
  private async inConsumersTurn<R extends PublishResult | PublishAllResult>(consumer: ConsumerSpec, run: (repo: ConsumerRepoPort) => Promise<R>): Promise<Settled<R> | Refusal> {
    let result: R;
    try {
      result = await this.ports.workspaces.use(consumer, run);
    } catch (error) {
      if (error instanceof QueueFullError) return refuseBusy(consumer, error.waiting);
      throw error;
    }
    if (result.status === 'landed') this.ports.afterChange?.(consumer.name);
    return result.status === 'unchanged' || result.status === 'landed' ? (result as Settled<R>) : publishFailureRefusal(consumer, result as PublishFailure);
  }

  private landed(change: PinChange, result: Extract<PublishResult, { status: 'landed' }>): Landed {
    const { record } = result;
    return {
      consumer: change.consumer,
      stage: change.stage,
      previous: record.from,
      commit: result.commit,
      mode: record.mode,
      ...(record.branch ? { branch: record.branch } : {}),
      record,
      ...(change.freezeOverridden ? { freezeOverridden: change.freezeOverridden } : {}),
    };
  }

  /**
   * SPEC §4 freeze: while the consumer is frozen, adopts and unpins are refused, saying by whom, why
   * and until when; an admin's `force` goes through (and says so). `force` is for admins only. The
   * freeze is read now and compared with the clock now: one that ended while no bot ran is over.
   */
  private async checkFreeze(
    consumer: ConsumerSpec,
    actor: Actor,
    force: boolean | undefined,
    retry: Extract<AdoptRefusal, { code: 'frozen' }>['retry'],
  ): Promise<Result<{ overridden: Freeze | null }>> {
    const { topology } = this.ports;
    const freeze = activeFreeze(await this.ports.freezeOf?.(consumer.name), this.now());
    if (force && !topology.admins.includes(actor.id)) {
      return { ok: false, code: 'force-not-admin', consumer: consumer.name, admins: [...topology.admins], freeze };
    }
    if (!freeze) return { ok: true, overridden: null };
    if (force) return { ok: true, overridden: freeze };
    return { ok: false, code: 'frozen', consumer: consumer.name, freeze, retry };
  }

  private async deprecationsOf(stage: KnownStage): Promise<readonly Deprecation[]> {
    return this.ports.deprecationsOf ? this.ports.deprecationsOf(stage.fqn) : [];
  }

  private refuseActor(action: 'adopt' | 'unpin', consumer: ConsumerSpec, actor: Actor): AdoptRefusal | null {
    const { topology } = this.ports;
    if (topology.mayAdopt(consumer, actor.id)) return null;
    const ask = unique([...consumer.adopters, ...topology.admins].filter((u) => u !== '*'));
    return { ok: false, code: 'not-authorised', action, consumer: consumer.name, user: actor.id, ask };
  }

  /** `latest` is the newest complete version that is not deprecated and old enough for the consumer's soak time. */
  private async resolveVersion(consumer: ConsumerSpec, stage: KnownStage, requested: string): Promise<Result<{ version: string }>> {
    if (requested.toLowerCase() === 'latest') {
      const { catalog } = this.ports;
      const deprecated = new Set((await this.deprecationsOf(stage)).map((d) => d.version));
      const head = (await catalog.head(stage.fqn, 1)).versions[0];
      const newest = head && !deprecated.has(head.version) ? head : (await catalog.versionsOf(stage.fqn)).find((v) => !deprecated.has(v.version));
      // Versions there, but none good: every one is deprecated.
      if (!newest) return { ok: false, code: 'no-versions', stage: stage.displayName, allDeprecated: head !== undefined };
      const soakMs = soakMsOf(consumer);
      if (soakMs === 0) return { ok: true, version: newest.version };
      const cutoff = this.now().getTime() - soakMs;
      const oldEnough = (await catalog.versionsOf(stage.fqn)).find((v) => !deprecated.has(v.version) && Date.parse(v.completedAt) <= cutoff);
      if (oldEnough) return { ok: true, version: oldEnough.version };
      return {
        ok: false,
        code: 'too-new',
        requested: 'latest',
        stage: stage.displayName,
        consumer: consumer.name,
        minAgeHours: consumer.minAgeHours ?? 0,
        newest: newest.version,
        adoptableAt: new Date(Date.parse(newest.completedAt) + soakMs).toISOString(),
      };
    }
    const bad = validateVersionString(requested);
    return bad ?? { ok: true, version: requested };
  }

  /**
   * The version must be complete at the publisher, old enough for the consumer's soak time (an
   * admin may skip it, and is told), and, if configured, synced to the consumer.
   */
  private async checkAvailable(
    consumer: ConsumerSpec,
    stage: KnownStage,
    version: string,
    actor: Actor,
  ): Promise<Result<{ soakSkipped: SoakSkipped | null; qualityOverridden: string[] }>> {
    const { publisher } = stage;
    const scanOpts = { stages: publisher.stages, settleSeconds: publisher.settleSeconds };
    const published = await this.ports.inspectVersion(publisher.publishDir, version, scanOpts);
    const newest = (await this.ports.catalog.head(stage.fqn)).versions.map((e) => e.version);
    const notAdoptable = checkVersionForStage(stage.fqn, version, published, newest);
    if (notAdoptable) return notAdoptable;
    const deprecation = (await this.deprecationsOf(stage)).find((d) => d.version === version);
    if (deprecation) return { ok: false, code: 'deprecated', stage: stage.displayName, version, deprecation };
    const isAdmin = this.ports.topology.admins.includes(actor.id);
    // SPEC §4: a module that failed its data-quality rules makes the stage's version an admin's call.
    const failing = published!.modules.filter((m) => m.stage === stage.fqn && m.dqmFailed);
    if (failing.length && !isAdmin) {
      // An unread verdict is not a pass: it is told apart, with the reason.
      return {
        ok: false,
        code: 'dqm-failed',
        version,
        failed: failing.filter((m) => m.dqmFailed!.unread === undefined).map((m) => ({ fqn: m.fqn, rules: m.dqmFailed!.rules.map((r) => r.name) })),
        unread: failing.flatMap((m) => (m.dqmFailed!.unread !== undefined ? [m.dqmFailed!.unread] : [])),
        admins: [...this.ports.topology.admins],
      };
    }
    const qualityOverridden = failing.map((m) => m.fqn);
    let soakSkipped: SoakSkipped | null = null;
    const soakMs = soakMsOf(consumer);
    const adoptableAtMs = (published!.completedAtMs ?? 0) + soakMs;
    if (soakMs > 0 && this.now().getTime() < adoptableAtMs) {
      const adoptableAt = new Date(adoptableAtMs).toISOString();
      if (!isAdmin) {
        return {
          ok: false,
          code: 'too-new',
          requested: 'version',
          stage: stage.displayName,
          consumer: consumer.name,
          minAgeHours: consumer.minAgeHours ?? 0,
          version,
          completedAt: new Date(published!.completedAtMs!).toISOString(),
          adoptableAt,
          admins: [...this.ports.topology.admins],
        };
      }
      soakSkipped = { minAgeHours: consumer.minAgeHours!, adoptableAt };
    }
    if (!consumer.publishDir) return { ok: true, soakSkipped, qualityOverridden };
    // The consumer's copy has no settle rule of its own: a finished sync is what counts.
    const copy = await this.ports.inspectVersion(consumer.publishDir, version, { stages: publisher.stages, settleSeconds: 0 });
    const notSynced = checkConsumerSync(published!, copy, stage.fqn, consumer.publishDir, publisher.publishDir);
    return notSynced ?? { ok: true, soakSkipped, qualityOverridden };
  }
}

/** A publish that neither landed nor found the pin in place, as the user is told it. */
/** A publish that changed the pin or found it already there. */
type Settled<R> = Extract<R, { status: 'unchanged' | 'landed' }>;

function publishFailureRefusal(consumer: ConsumerSpec, result: PublishFailure): Refusal {
  switch (result.status) {
    case 'refused':
      return result.refusal;
    case 'pin-file-ignored':
      return refuseIgnored(consumer, result.file);
    case 'repo-file-refused':
      return { ok: false, code: 'unsafe-repo-file', reason: result.message };
    case 'remote-busy':
      return { ok: false, code: 'remote-busy', consumer: consumer.name, branch: consumer.branch, attempts: result.attempts };
    case 'git-failed':
      return {
        ok: false,
        code: 'git-failed',
        consumer: consumer.name,
        repo: redactUrlCredentials(consumer.repo),
        branch: consumer.branch,
        git: result.failure,
        pushed: result.pushed,
      };
  }
}

/** The same stage twice in one adopt of several (its display name and the versions asked). */
export function stageNamedTwice(pairs: readonly { stage: KnownStage; version: string }[]): AdoptRefusal | null {
  for (const { stage } of pairs) {
    const versions = pairs.filter((p) => p.stage.fqn === stage.fqn).map((p) => p.version);
    if (versions.length > 1) return { ok: false, code: 'stage-twice', stage: stage.displayName, versions };
  }
  return null;
}

function refuseBusy(consumer: ConsumerSpec, waiting: number): AdoptRefusal {
  return { ok: false, code: 'busy', consumer: consumer.name, waiting };
}

function refuseIgnored(consumer: ConsumerSpec, file: string): AdoptRefusal {
  return { ok: false, code: 'conf-ignored', consumer: consumer.name, file, key: file === consumer.confPath ? 'confPath' : 'connectionsPath' };
}

/** A connection consumer must know which connection reads the stage (config validation sees to it). */
function refuseUnmapped(consumer: ConsumerSpec, stage: KnownStage): AdoptRefusal | null {
  const target = pinTargetOf(consumer, stage.fqn);
  if (target.style !== 'connection' || target.connection !== null) return null;
  return { ok: false, code: 'no-connection', consumer: consumer.name, stage: stage.displayName, by: 'adopt' };
}

function soakMsOf(consumer: ConsumerSpec): number {
  return (consumer.minAgeHours ?? 0) * 3_600_000;
}

function unique<T>(items: T[]): T[] {
  return [...new Set(items)];
}

function overriding(freeze: Freeze | null): { freezeOverridden?: Freeze } {
  return freeze ? { freezeOverridden: freeze } : {};
}
