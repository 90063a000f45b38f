import { esc, formatTime } from '../domain/mrkdwn.ts';
import { UNPINNED } from '../domain/pins.ts';
import { redactUrlCredentials } from '../domain/redact.ts';
import { checkConsumerSync, checkVersionForStage, validateVersionString } from '../domain/validation.ts';
import { refuse, type EffectivePin, type PublishedVersion, type Refusal, type Result } from '../domain/types.ts';
import type { Actor, AdoptionRecord, Deprecation } from '../domain/records.ts';
import { adviceFor } from '../domain/gitFailure.ts';
import type { VersionCatalog } from './catalog.ts';
import { QueueFullError } from './keyedQueue.ts';
import { planPinEdit, type PinChange } from './pinPlan.ts';
import type { PinPublisher, PublishResult } from './pinPublishing.ts';
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
}

/** An adopt with every name resolved (at the Slack edge, once). */
export interface AdoptRequest {
  consumer: ConsumerSpec;
  stage: KnownStage;
  /** A version name or `latest`. */
  version: string;
  actor: Actor;
  /** Channel the request came from (told there if a crash interrupts the push). */
  channel?: string;
  /** A durable command resumed after its worker died, received then: a change this user made since is its own (found done, not "unchanged"). */
  resumedSince?: string;
}

export interface UnpinRequest {
  consumer: ConsumerSpec;
  stage: KnownStage;
  actor: Actor;
  channel?: string;
  /** A durable command resumed after its worker died, received then: a change this user made since is its own (found done, not "unchanged"). */
  resumedSince?: string;
}

interface Landed {
  consumer: ConsumerSpec;
  stage: KnownStage;
  previous: string | null;
  commit: string;
  mode: 'push' | 'branch';
  /** Set in branch mode: the review branch pushed. */
  branch?: string;
  record: AdoptionRecord;
}

/** An admin adopted a version still inside the consumer's soak time: when it would have become adoptable. */
export interface SoakSkipped {
  minAgeHours: number;
  adoptableAt: string;
}

export type AdoptOutcome =
  | ({ ok: true; status: 'adopted'; version: string; soakSkipped?: SoakSkipped; qualityOverridden?: string[] } & Landed)
  | {
      ok: true;
      status: 'already-pinned';
      consumer: ConsumerSpec;
      stage: KnownStage;
      version: string;
      pin: EffectivePin;
      /** A resumed command's own adoption, which landed (and was told in the channel) before its worker died. */
      landedBefore?: AdoptionRecord;
    }
  | Refusal;

export type UnpinOutcome =
  | ({ ok: true; status: 'unpinned'; stillPinnedBy: EffectivePin } & Landed)
  | { ok: true; status: 'not-pinned'; consumer: ConsumerSpec; stage: KnownStage; stillPinnedBy: EffectivePin }
  | Refusal;

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

  async unpin(req: UnpinRequest): Promise<UnpinOutcome> {
    return this.logged('unpin', req, await this.unpinOnce(req));
  }

  /** Every change that did not happen is logged: git failures at warn with their gist. */
  private logged<T extends AdoptOutcome | UnpinOutcome>(action: 'adopt' | 'unpin', req: AdoptRequest | UnpinRequest, outcome: T): T {
    if (outcome.ok || !this.ports.log) return outcome;
    const what = { action, consumer: req.consumer.name, stage: req.stage.fqn, ...('version' in req ? { version: req.version } : {}), user: req.actor.id, code: outcome.code };
    if (outcome.code === 'git-failed' || outcome.code === 'remote-busy') {
      this.ports.log.warn({ ...what, ...('git' in outcome && outcome.git ? { git: outcome.git.kind, gist: outcome.git.gist } : {}) }, `${action} failed`);
    } else {
      this.ports.log.info(what, `${action} refused`);
    }
    return outcome;
  }

  private async adoptOnce(req: AdoptRequest): Promise<AdoptOutcome> {
    const { consumer, stage } = req;
    const refused = this.refuseActor(consumer, req.actor) ?? refuseUnmapped(consumer, stage);
    if (refused) return refused;
    const version = await this.resolveVersion(consumer, stage, req.version);
    if (!version.ok) return version;
    const available = await this.checkAvailable(consumer, stage, version.version, req.actor);
    if (!available.ok) return available;
    const { soakSkipped, qualityOverridden } = available;

    const change: PinChange = { action: 'adopt', consumer, stage, to: version.version, actor: req.actor };
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

  private async unpinOnce(req: UnpinRequest): Promise<UnpinOutcome> {
    const { consumer, stage } = req;
    const refused = this.refuseActor(consumer, req.actor) ?? refuseUnmapped(consumer, stage);
    if (refused) return refused;

    const change: PinChange = { action: 'unpin', consumer, stage, to: null, actor: req.actor };
    const result = await this.publish(change, req.channel, req.resumedSince);
    if ('ok' in result) return result;
    const stillPinnedBy = result.edit.stillPinnedBy ?? UNPINNED;
    if (result.status === 'unchanged') return { ok: true, status: 'not-pinned', consumer, stage, stillPinnedBy };
    return { ok: true, status: 'unpinned', stillPinnedBy, ...this.landed(change, result) };
  }

  /** Plans and publishes in the consumer's turn (a refusal for anything but unchanged or landed); past the queue's bound the answer is "busy", not a longer wait. */
  private async publish(change: PinChange, channel: string | undefined, resumedSince: string | undefined): Promise<Extract<PublishResult, { status: 'unchanged' | 'landed' }> | Refusal> {
    const { consumer } = change;
    const knownStages = this.ports.topology.stages;
    let result: PublishResult;
    try {
      result = await this.ports.workspaces.use(consumer, (repo: ConsumerRepoPort) =>
        this.ports.publisher.publish(repo, {
          change,
          plan: (texts) => planPinEdit(change, texts, knownStages),
          channel: channel ?? null,
          ...(resumedSince !== undefined ? { resumedSince } : {}),
        }),
      );
    } catch (error) {
      if (error instanceof QueueFullError) return refuseBusy(consumer, error.waiting);
      throw error;
    }
    if (result.status === 'landed') this.ports.afterChange?.(consumer.name);
    switch (result.status) {
      case 'unchanged':
      case 'landed':
        return result;
      case 'refused':
        return result.refusal;
      case 'pin-file-ignored':
        return refuseIgnored(consumer, result.file);
      case 'repo-file-refused':
        return refuse('unsafe-repo-file', esc(result.message));
      case 'remote-busy':
        return refuse(
          'remote-busy',
          `\`${consumer.name}\`'s branch \`${consumer.branch}\` kept moving while I pushed (${result.attempts} attempts). ` +
            `Nothing was changed. Try the same command again in a minute.`,
        );
      case 'git-failed': {
        const outcome =
          result.pushed === 'unknown'
            ? `The push may or may not have reached the remote: check \`${consumer.branch}\` (or \`/smv pins\`) before trying again. ` +
              `The bot checks it again at its next start and records it in \`/smv history\` if it landed.`
            : `Nothing was changed on the remote.`;
        const advice = adviceFor(result.failure, { branch: consumer.branch }) || 'Check that the bot can fetch and push there, then try again.';
        return {
          ...refuse(
            'git-failed',
            `Could not update \`${consumer.name}\` (${esc(redactUrlCredentials(consumer.repo))}, branch \`${consumer.branch}\`): ${esc(result.failure.gist.replace(/[.\s]+$/, ''))}. ` +
              `${outcome} ${advice}`,
          ),
          git: result.failure,
        };
      }
    }
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
    };
  }

  private async deprecationsOf(stage: KnownStage): Promise<readonly Deprecation[]> {
    return this.ports.deprecationsOf ? this.ports.deprecationsOf(stage.fqn) : [];
  }

  private refuseActor(consumer: ConsumerSpec, actor: Actor): Refusal | null {
    const { topology } = this.ports;
    if (topology.mayAdopt(consumer, actor.id)) return null;
    const who = [...consumer.adopters, ...topology.admins].filter((u) => u !== '*');
    return refuse(
      'not-authorised',
      `You are not allowed to change pins for \`${consumer.name}\`. ` +
        (who.length ? `Ask ${unique(who).map((u) => `<@${u}>`).join(', ')} to run it, or ask` : 'Ask') +
        ` an admin to add your Slack user id (${actor.id}) to \`adopters\` of \`${consumer.name}\` in smvbot.yml.`,
    );
  }

  /** `latest` is the newest complete version that is not deprecated and old enough for the consumer's soak time. */
  private async resolveVersion(consumer: ConsumerSpec, stage: KnownStage, requested: string): Promise<Result<{ version: string }>> {
    if (requested.toLowerCase() === 'latest') {
      const { catalog } = this.ports;
      const deprecated = new Set((await this.deprecationsOf(stage)).map((d) => d.version));
      const head = (await catalog.head(stage.fqn, 1)).versions[0];
      const newest = head && !deprecated.has(head.version) ? head : (await catalog.versionsOf(stage.fqn)).find((v) => !deprecated.has(v.version));
      if (!newest) {
        if (head) {
          return refuse(
            'no-versions',
            `Every published version of ${stage.displayName} is deprecated, so there is no latest to adopt. ` +
              `\`/smv releases ${stage.displayName}\` shows them with the reasons; ask the publisher for a new one.`,
          );
        }
        return refuse(
          'no-versions',
          `No complete version of ${stage.displayName} has been published yet, so there is no latest to adopt. ` +
            `Try \`/smv releases\` later.`,
        );
      }
      const soakMs = soakMsOf(consumer);
      if (soakMs === 0) return { ok: true, version: newest.version };
      const cutoff = this.now().getTime() - soakMs;
      const oldEnough = (await catalog.versionsOf(stage.fqn)).find((v) => !deprecated.has(v.version) && Date.parse(v.completedAt) <= cutoff);
      if (oldEnough) return { ok: true, version: oldEnough.version };
      return refuse(
        'too-new',
        `No version of ${stage.displayName} is old enough for \`${consumer.name}\` yet (it waits ${hours(consumer)} after a version completes: minAgeHours). ` +
          `The newest, ${esc(newest.version)}, becomes adoptable at ${formatTime(new Date(Date.parse(newest.completedAt) + soakMs).toISOString())}. ` +
          `Try again then; an admin may adopt it now by naming the version.`,
      );
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
    if (deprecation) {
      return refuse(
        'deprecated',
        `${esc(version)} was deprecated by ${esc(deprecation.by.name)} on ${formatTime(deprecation.at)}` +
          (deprecation.reason ? `: ${esc(deprecation.reason)}` : '') +
          `. It cannot be adopted. Try \`/smv adopt ${stage.displayName} latest\` for the newest good version. Nothing was changed.`,
      );
    }
    const isAdmin = this.ports.topology.admins.includes(actor.id);
    // SPEC §4: a module that failed its data-quality rules makes the stage's version an admin's call.
    const failing = published!.modules.filter((m) => m.stage === stage.fqn && m.dqmFailed);
    if (failing.length && !isAdmin) {
      const unread = failing.filter((m) => m.dqmFailed!.unread !== undefined);
      const failed = failing.filter((m) => m.dqmFailed!.unread === undefined);
      const what = failed
        .slice(0, 5)
        .map((m) => `${esc(m.fqn)}${m.dqmFailed!.rules.length ? ` (${m.dqmFailed!.rules.slice(0, 5).map((r) => esc(r.name)).join(', ')})` : ''}`)
        .join('; ');
      // An unread verdict is not a pass: said as what it is, with the reason.
      const why = [
        ...(failed.length ? [`failed its data-quality rules in ${what}`] : []),
        ...(unread.length ? [`has a data-quality check that could not be read (${unread.slice(0, 5).map((m) => esc(m.dqmFailed!.unread!)).join('; ')})`] : []),
      ].join(', and ');
      const admins = this.ports.topology.admins;
      return refuse(
        'dqm-failed',
        `${esc(version)} ${why}, so only an admin may adopt it` +
          (admins.length ? ` (${admins.map((u) => `<@${u}>`).join(', ')})` : '') +
          `. Nothing was changed. Adopt an earlier version, or ask the publisher for a fixed one.`,
      );
    }
    const qualityOverridden = failing.map((m) => m.fqn);
    let soakSkipped: SoakSkipped | null = null;
    const soakMs = soakMsOf(consumer);
    const adoptableAtMs = (published!.completedAtMs ?? 0) + soakMs;
    if (soakMs > 0 && this.now().getTime() < adoptableAtMs) {
      const adoptableAt = new Date(adoptableAtMs).toISOString();
      if (!isAdmin) {
        const admins = this.ports.topology.admins;
        return refuse(
          'too-new',
          `${esc(version)} completed ${formatTime(new Date(published!.completedAtMs!).toISOString())}, and \`${consumer.name}\` waits ${hours(consumer)} ` +
            `before adopting a new version (minAgeHours), so it becomes adoptable at ${formatTime(adoptableAt)}. Nothing was changed. ` +
            `Adopt it then, adopt an older version (\`/smv releases ${stage.displayName}\`)` +
            (admins.length ? `, or ask an admin (${admins.map((u) => `<@${u}>`).join(', ')}) to adopt it now.` : '.'),
        );
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

function refuseBusy(consumer: ConsumerSpec, waiting: number): Refusal {
  return refuse(
    'busy',
    `${waiting} changes for \`${consumer.name}\` are already waiting for its repository, so this one was not queued. ` +
      `Nothing was changed. Try the same command again in a few minutes.`,
  );
}

function refuseIgnored(consumer: ConsumerSpec, file: string): Refusal {
  const key = file === consumer.confPath ? 'confPath' : 'connectionsPath';
  const why = key === 'confPath' ? " (SMV's project template ignores it)" : '';
  return refuse(
    'conf-ignored',
    `\`${file}\` is git-ignored in \`${consumer.name}\`${why}, so a pin committed there ` +
      `would never reach anyone. Either track it (remove it from .gitignore and commit it), or point \`${key}\` in smvbot.yml ` +
      `at a tracked config file. Nothing was changed.`,
  );
}

/** A connection consumer must know which connection reads the stage (config validation sees to it). */
function refuseUnmapped(consumer: ConsumerSpec, stage: KnownStage): Refusal | null {
  const target = pinTargetOf(consumer, stage.fqn);
  if (target.style !== 'connection' || target.connection !== null) return null;
  return refuse(
    'no-connection',
    `\`${consumer.name}\` pins SMV connections (pinStyle connection), but smvbot.yml names no connection for ${stage.displayName} ` +
      `(or no smvPublishDir). Add \`${stage.displayName}: <connection>\` under \`connections\` of \`${consumer.name}\` and restart the bot. Nothing was changed.`,
  );
}

function soakMsOf(consumer: ConsumerSpec): number {
  return (consumer.minAgeHours ?? 0) * 3_600_000;
}

function hours(consumer: ConsumerSpec): string {
  const h = consumer.minAgeHours ?? 0;
  return `${h} ${h === 1 ? 'hour' : 'hours'}`;
}

function unique<T>(items: T[]): T[] {
  return [...new Set(items)];
}
