import { esc } from '../domain/mrkdwn.ts';
import { removeConnectionPin, removePin, setConnectionPin, setPin } from '../domain/pins.ts';
import { redactUrlCredentials } from '../domain/redact.ts';
import { checkConsumerSync, checkVersionForStage, validateVersionString } from '../domain/validation.ts';
import { refuse, type EffectivePin, type PublishedVersion, type Refusal, type Result } from '../domain/types.ts';
import type { AdoptionIntent, AdoptionRecord } from '../domain/records.ts';
import { adviceFor, type GitFailure } from '../domain/gitFailure.ts';
import type { VersionCatalog } from './catalog.ts';
import { QueueFullError } from './keyedQueue.ts';
import type { StatePort } from './statePort.ts';
import { pinTargetOf, type ConsumerSpec, type KnownStage, type Topology } from './topology.ts';
import { appConfPathFor, connectionLayersOf, pinFileOf, pinFilePathsOf, pinLabel, pinReaderFor, type RepoTexts } from './consumerPins.ts';
import { RepoFileRefusedError, type ConsumerRepoPort, type ConsumerWorkspaces, type Identity } from './workspaces.ts';


export interface AdoptPorts {
  topology: Topology;
  catalog: VersionCatalog;
  /** Reads one version dir from disk (null when absent): the truth at adopt time. */
  inspectVersion(publishDir: string, version: string, opts: { stages: string[]; settleSeconds: number }): Promise<PublishedVersion | undefined>;
  workspaces: ConsumerWorkspaces;
  /** Real name for commit authorship; falls back to the id. */
  userName(userId: string): Promise<string>;
  /** Where intents are recorded before a push and settled after it (SPEC §6). */
  state: Pick<StatePort, 'recordAdoptionIntent' | 'settleAdoption'>;
  /** Told after a commit landed, so cached reads of the consumer's files are dropped. */
  afterChange?: (consumer: string) => void;
  committer: Identity;
  now?: () => Date;
  /** Attempts when the remote moves under us (push mode). */
  maxPushAttempts?: number;
  /** Whether an error is a git failure: its kind and user-safe gist (null when not git's). */
  gitFailure(error: unknown): GitFailure | null;
  /** Where failed changes are logged (warn for git failures, info for refusals). */
  log?: { info(obj: object, msg: string): void; warn(obj: object, msg: string): void };
  /** Back-off between push attempts; tests pass a no-op. */
  sleep?: (ms: number) => Promise<void>;
}

export interface AdoptRequest {
  consumer: string;
  /** What the user typed: base name or FQN. */
  stage: string;
  /** A version name or `latest`. */
  version: string;
  userId: string;
  /** Channel the request came from (told there if a crash interrupts the push). */
  channel?: string;
}

export interface UnpinRequest {
  consumer: string;
  stage: string;
  userId: string;
  channel?: string;
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

export type AdoptOutcome =
  | ({ ok: true; status: 'adopted'; version: string } & Landed)
  | { ok: true; status: 'already-pinned'; consumer: ConsumerSpec; stage: KnownStage; version: string; pin: EffectivePin }
  | Refusal;

export type UnpinOutcome =
  | ({ ok: true; status: 'unpinned'; stillPinnedBy: EffectivePin } & Landed)
  | { ok: true; status: 'not-pinned'; consumer: ConsumerSpec; stage: KnownStage; stillPinnedBy: EffectivePin }
  | Refusal;

export { appConfPathFor };

export function adoptBranchName(stage: KnownStage, version: string): string {
  return `smvbot/adopt/${stage.displayName}/${version}`;
}

/** Authoring identity for a Slack user: git needs an email; a non-routable one avoids a scope. */
export function slackAuthor(name: string, userId: string): Identity {
  // git drops `<`, `>` and newlines and refuses names with nothing left: fall back to the id.
  const clean = name.replace(/[<>\r\n]/g, '').trim();
  return { name: /[\p{L}\p{N}]/u.test(clean) ? clean : userId, email: `${userId}@users.slack.invalid` };
}

type Edit = Result<{ text: string; changed: boolean; previous: EffectivePin; stillPinnedBy?: EffectivePin }>;

/**
 * SPEC §5: authorise, validate, edit the consumer's user conf in a fresh clone, commit as the
 * Slack user, push (re-applying on a moved remote), record. One consumer's changes run one at a time.
 */
export class AdoptService {
  private readonly now: () => Date;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(private readonly ports: AdoptPorts) {
    this.now = ports.now ?? (() => new Date());
    this.sleep = ports.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
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
    const what = { action, consumer: req.consumer, stage: req.stage, ...('version' in req ? { version: req.version } : {}), user: req.userId, code: outcome.code };
    if (outcome.code === 'git-failed' || outcome.code === 'remote-busy') {
      this.ports.log.warn({ ...what, ...(outcome.git ? { git: outcome.git.kind, gist: outcome.git.gist } : {}) }, `${action} failed`);
    } else {
      this.ports.log.info(what, `${action} refused`);
    }
    return outcome;
  }

  private async adoptOnce(req: AdoptRequest): Promise<AdoptOutcome> {
    const target = this.authorise(req);
    if (!target.ok) return target;
    const { consumer, stage } = target;
    const unmapped = refuseUnmapped(consumer, stage);
    if (unmapped) return unmapped;

    const version = await this.resolveVersion(stage, req.version);
    if (!version.ok) return version;
    const available = await this.checkAvailable(consumer, stage, version.version);
    if (available) return available;

    return this.queued(consumer, async (repo) => {
      const landed = await this.commitChange(repo, consumer, stage, req, {
        action: 'adopt',
        to: version.version,
        edit: (texts) => this.setPinIn(consumer, stage, version.version, texts),
        message: (previous, who) =>
          `Adopt ${stage.displayName} ${version.version} for ${consumer.name}\n\nPrevious: ${previous ?? 'none'}\nAdopted-by: ${who}\n`,
        branch: adoptBranchName(stage, version.version),
      });
      if (!landed.ok) return landed;
      if (landed.status === 'unchanged') {
        return { ok: true, status: 'already-pinned', consumer, stage, version: version.version, pin: landed.previous };
      }
      return { ok: true, status: 'adopted', version: version.version, ...landed.landed };
    });
  }

  private async unpinOnce(req: UnpinRequest): Promise<UnpinOutcome> {
    const target = this.authorise(req);
    if (!target.ok) return target;
    const { consumer, stage } = target;
    const unmapped = refuseUnmapped(consumer, stage);
    if (unmapped) return unmapped;

    return this.queued(consumer, async (repo) => {
      let stillPinnedBy: EffectivePin = { version: null, key: null, source: null };
      const landed = await this.commitChange(repo, consumer, stage, req, {
        action: 'unpin',
        to: null,
        edit: (texts) => {
          const result = this.removePinIn(consumer, stage, texts);
          if (result.ok) stillPinnedBy = result.stillPinnedBy;
          return result;
        },
        message: (previous, who) =>
          `Unpin ${stage.displayName} for ${consumer.name}\n\nPrevious: ${previous ?? 'none'}\nUnpinned-by: ${who}\n`,
        branch: `smvbot/unpin/${stage.displayName}`,
      });
      if (!landed.ok) return landed;
      if (landed.status === 'unchanged') return { ok: true, status: 'not-pinned', consumer, stage, stillPinnedBy };
      return { ok: true, status: 'unpinned', stillPinnedBy, ...landed.landed };
    });
  }

  /** One change at a time per consumer; past the queue's bound the answer is "busy", not a longer wait. */
  private async queued<T>(consumer: ConsumerSpec, task: (repo: ConsumerRepoPort) => Promise<T>): Promise<T | Refusal> {
    try {
      return await this.ports.workspaces.use(consumer, task);
    } catch (error) {
      if (error instanceof QueueFullError) return refuseBusy(consumer, error.waiting);
      throw error;
    }
  }

  /** The pin edit for the consumer's pin style, on the files as they are on the remote tip. */
  private setPinIn(consumer: ConsumerSpec, stage: KnownStage, version: string, texts: RepoTexts): Edit {
    const target = pinTargetOf(consumer, stage.fqn);
    if (target.style === 'connection' && target.connection !== null) {
      const { layers, target: index } = connectionLayersOf(consumer, texts);
      return setConnectionPin({ layers, target: index, connection: target.connection, smvPublishDir: target.smvPublishDir, version });
    }
    const [userText, appText] = [texts.get(consumer.confPath) ?? null, texts.get(appConfPathFor(consumer.confPath)) ?? null];
    return setPin({ userText, appText, stage, version, knownStages: this.ports.topology.stages });
  }

  private removePinIn(consumer: ConsumerSpec, stage: KnownStage, texts: RepoTexts): Result<{ text: string; changed: boolean; previous: EffectivePin; stillPinnedBy: EffectivePin }> {
    const target = pinTargetOf(consumer, stage.fqn);
    if (target.style === 'connection' && target.connection !== null) {
      const { layers, target: index } = connectionLayersOf(consumer, texts);
      return removeConnectionPin({ layers, target: index, connection: target.connection, smvPublishDir: target.smvPublishDir });
    }
    const [userText, appText] = [texts.get(consumer.confPath) ?? null, texts.get(appConfPathFor(consumer.confPath)) ?? null];
    const result = removePin({ userText, appText, stage, knownStages: this.ports.topology.stages });
    if (!result.ok) return result;
    return { ...result, previous: pinReaderFor(consumer, texts)(stage) };
  }

  private authorise(req: { consumer: string; stage: string; userId: string }): Result<{ consumer: ConsumerSpec; stage: KnownStage }> {
    const { topology } = this.ports;
    const consumer = topology.resolveConsumer(req.consumer, undefined);
    if (!consumer.ok) return consumer;
    if (!topology.mayAdopt(consumer.consumer, req.userId)) {
      const who = [...consumer.consumer.adopters, ...topology.admins].filter((u) => u !== '*');
      return refuse(
        'not-authorised',
        `You are not allowed to change pins for \`${consumer.consumer.name}\`. ` +
          (who.length ? `Ask ${unique(who).map((u) => `<@${u}>`).join(', ')} to run it, or ask` : 'Ask') +
          ` an admin to add your Slack user id (${req.userId}) to \`adopters\` of \`${consumer.consumer.name}\` in smvbot.yml.`,
      );
    }
    const stage = topology.resolveStage(req.stage);
    if (!stage.ok) return stage;
    return { ok: true, consumer: consumer.consumer, stage: stage.stage };
  }

  private async resolveVersion(stage: KnownStage, requested: string): Promise<Result<{ version: string }>> {
    if (requested.toLowerCase() === 'latest') {
      const newest = (await this.ports.catalog.head(stage.fqn, 1)).versions[0];
      if (!newest) {
        return refuse(
          'no-versions',
          `No complete version of ${stage.displayName} has been published yet, so there is no latest to adopt. ` +
            `Try \`/smv releases\` later.`,
        );
      }
      return { ok: true, version: newest.version };
    }
    const bad = validateVersionString(requested);
    return bad ?? { ok: true, version: requested };
  }

  /** The version must be complete at the publisher and, if configured, synced to the consumer. */
  private async checkAvailable(consumer: ConsumerSpec, stage: KnownStage, version: string): Promise<Refusal | null> {
    const { publisher } = stage;
    const scanOpts = { stages: publisher.stages, settleSeconds: publisher.settleSeconds };
    const published = await this.ports.inspectVersion(publisher.publishDir, version, scanOpts);
    const newest = (await this.ports.catalog.head(stage.fqn)).versions.map((e) => e.version);
    const notAdoptable = checkVersionForStage(stage.fqn, version, published, newest);
    if (notAdoptable) return notAdoptable;
    if (!consumer.publishDir) return null;
    // The consumer's copy has no settle rule of its own: a finished sync is what counts.
    const copy = await this.ports.inspectVersion(consumer.publishDir, version, { stages: publisher.stages, settleSeconds: 0 });
    return checkConsumerSync(published!, copy, stage.fqn, consumer.publishDir, publisher.publishDir);
  }

  private async commitChange(
    repo: ConsumerRepoPort,
    consumer: ConsumerSpec,
    stage: KnownStage,
    req: { userId: string; channel?: string },
    change: {
      action: 'adopt' | 'unpin';
      to: string | null;
      edit: (texts: RepoTexts) => Edit;
      message: (previous: string | null, who: string) => string;
      branch: string;
    },
  ): Promise<Result<{ status: 'unchanged'; previous: EffectivePin } | { status: 'landed'; landed: Landed }>> {
    const maxAttempts = consumer.mode === 'push' ? (this.ports.maxPushAttempts ?? 5) : 1;
    const { userId } = req;
    const userName = await this.ports.userName(userId);
    const who = `${userName} (${userId})`;
    /** The intent being pushed: if the push fails, whether it landed is not known here. */
    let pushing: AdoptionIntent | null = null;
    try {
      for (let attempt = 1; ; attempt++) {
        await repo.resetToRemote();
        // Read first: that refuses a pin file that is (or lies under) a symlink before git looks at it.
        const file = pinFileOf(consumer);
        const paths = pinFilePathsOf(consumer);
        const contents = await Promise.all(paths.map((p) => repo.readFile(p)));
        if (await repo.isIgnored(file)) return refuseIgnored(consumer, file);
        const texts: RepoTexts = new Map(paths.map((p, i) => [p, contents[i] ?? null]));
        const edit = change.edit(texts);
        if (!edit.ok) return edit;
        if (!edit.changed) return { ok: true, status: 'unchanged', previous: edit.previous };

        const previous = pinLabel(edit.previous);
        const { commit, parent } = await repo.commitFile(file, edit.text, {
          message: change.message(previous, who),
          author: slackAuthor(userName, userId),
          committer: this.ports.committer,
        });
        const branch = consumer.mode === 'branch' ? change.branch : undefined;
        const intent: AdoptionIntent = {
          id: `${commit.slice(0, 12)}-${this.now().getTime()}`,
          intendedAt: this.now().toISOString(),
          action: change.action,
          consumer: consumer.name,
          stage: stage.fqn,
          from: previous,
          to: change.to,
          commit,
          parent,
          mode: consumer.mode,
          target: branch ?? consumer.branch,
          user: { id: userId, name: userName },
          channel: req.channel ?? null,
        };
        // Recorded before the push: a crash during it is settled against the remote at the next start.
        await this.ports.state.recordAdoptionIntent(intent);
        pushing = intent;
        // The review branch is the bot's own: re-adopting replaces it with a fresh commit.
        const pushed = await repo.push(intent.target, { force: branch !== undefined });
        pushing = null;
        if (!pushed.pushed) {
          await this.ports.state.settleAdoption(intent.id, 'abandoned', this.now().toISOString());
          if (attempt >= maxAttempts) {
            return refuse(
              'remote-busy',
              `\`${consumer.name}\`'s branch \`${consumer.branch}\` kept moving while I pushed (${attempt} attempts). ` +
                `Nothing was changed. Try the same command again in a minute.`,
            );
          }
          await this.sleep(backoffMs(attempt));
          continue;
        }
        const record = await this.ports.state.settleAdoption(intent.id, 'landed', this.now().toISOString());
        this.ports.afterChange?.(consumer.name);
        return {
          ok: true,
          status: 'landed',
          landed: { consumer, stage, previous, commit, mode: consumer.mode, ...(branch ? { branch } : {}), record: record! },
        };
      }
    } catch (error) {
      if (error instanceof RepoFileRefusedError) return refuse('unsafe-repo-file', esc(error.message));
      const failure = this.ports.gitFailure(error);
      if (failure === null) throw error;
      // A push cut off by the timeout may still be applied by the remote later: only a later look can tell.
      const settled =
        pushing === null ? 'abandoned' : failure.kind === 'timeout' ? 'unknown' : await this.settleFailedPush(repo, pushing);
      if (typeof settled === 'object') {
        return { ok: true, status: 'landed', landed: settled };
      }
      const outcome =
        settled === 'unknown'
          ? `The push may or may not have reached the remote: check \`${consumer.branch}\` (or \`/smv pins\`) before trying again. ` +
            `The bot checks it again at its next start and records it in \`/smv history\` if it landed.`
          : `Nothing was changed on the remote.`;
      const advice = adviceFor(failure, { branch: consumer.branch }) || 'Check that the bot can fetch and push there, then try again.';
      return {
        ...refuse(
          'git-failed',
          `Could not update \`${consumer.name}\` (${esc(redactUrlCredentials(consumer.repo))}, branch \`${consumer.branch}\`): ${esc(failure.gist.replace(/[.\s]+$/, ''))}. ` +
            `${outcome} ${advice}`,
        ),
        git: failure,
      };
    }
  }

  /**
   * A push that errored may still have landed (a timeout or a cut connection after the remote
   * took it): look. Landed → recorded like any adoption; not there → abandoned; cannot tell →
   * left for the start-up reconciliation.
   */
  private async settleFailedPush(repo: ConsumerRepoPort, intent: AdoptionIntent): Promise<Landed | 'abandoned' | 'unknown'> {
    let there: boolean;
    try {
      there = await repo.containsCommit(intent.target, intent.commit);
    } catch {
      return 'unknown';
    }
    const at = this.now().toISOString();
    if (!there) {
      await this.ports.state.settleAdoption(intent.id, 'abandoned', at);
      return 'abandoned';
    }
    const record = await this.ports.state.settleAdoption(intent.id, 'landed', at);
    this.ports.afterChange?.(intent.consumer);
    const consumer = this.ports.topology.consumer(intent.consumer)!;
    const stage = this.ports.topology.stage(intent.stage)!;
    const branch = intent.mode === 'branch' ? { branch: intent.target } : {};
    return { consumer, stage, previous: intent.from, commit: intent.commit, mode: intent.mode, ...branch, record: record! };
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

/** 100–300 ms, growing per attempt, with jitter so two bots do not collide in lock-step. */
function backoffMs(attempt: number): number {
  return Math.round(100 * attempt * (1 + Math.random()));
}

/** An https URL may carry a token (`https://bot:TOKEN@host/…`); answers go to Slack, so hide it. */
function unique<T>(items: T[]): T[] {
  return [...new Set(items)];
}
