import { esc } from '../domain/mrkdwn.ts';
import path from 'node:path/posix';
import { effectivePin, removePin, setPin } from '../domain/pins.ts';
import { redactUrlCredentials } from '../domain/redact.ts';
import { checkConsumerSync, checkVersionForStage, validateVersionString } from '../domain/validation.ts';
import { refuse, type EffectivePin, type PublishedVersion, type Refusal, type Result } from '../domain/types.ts';
import type { VersionCatalog } from './catalog.ts';
import type { ConsumerSpec, KnownStage, Topology } from './topology.ts';
import { RepoFileRefusedError, type ConsumerRepoPort, type ConsumerWorkspaces, type Identity } from './workspaces.ts';

export interface AdoptionAudit {
  id: string;
  at: string;
  action: 'adopt' | 'unpin';
  consumer: string;
  stage: string;
  from: string | null;
  to: string | null;
  commit: string;
  mode: 'push' | 'branch';
  branch?: string;
  user: { id: string; name: string };
}

export interface AdoptPorts {
  topology: Topology;
  catalog: VersionCatalog;
  /** Reads one version dir from disk (null when absent): the truth at adopt time. */
  inspectVersion(publishDir: string, version: string, opts: { stages: string[]; settleSeconds: number }): Promise<PublishedVersion | undefined>;
  workspaces: ConsumerWorkspaces;
  /** Real name for commit authorship; falls back to the id. */
  userName(userId: string): Promise<string>;
  recordAdoption(record: AdoptionAudit): Promise<void>;
  /** Told after a commit landed, so cached reads of the consumer's files are dropped. */
  afterChange?: (consumer: string) => void;
  committer: Identity;
  now?: () => Date;
  /** Attempts when the remote moves under us (push mode). */
  maxPushAttempts?: number;
  /** Whether an error is a git failure, and its user-safe gist. */
  gitErrorGist(error: unknown): string | null;
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
}

export interface UnpinRequest {
  consumer: string;
  stage: string;
  userId: string;
}

interface Landed {
  consumer: ConsumerSpec;
  stage: KnownStage;
  previous: string | null;
  commit: string;
  mode: 'push' | 'branch';
  /** Set in branch mode: the review branch pushed. */
  branch?: string;
  record: AdoptionAudit;
}

export type AdoptOutcome =
  | ({ ok: true; status: 'adopted'; version: string } & Landed)
  | { ok: true; status: 'already-pinned'; consumer: ConsumerSpec; stage: KnownStage; version: string; pin: EffectivePin }
  | Refusal;

export type UnpinOutcome =
  | ({ ok: true; status: 'unpinned'; stillPinnedBy: EffectivePin } & Landed)
  | { ok: true; status: 'not-pinned'; consumer: ConsumerSpec; stage: KnownStage; stillPinnedBy: EffectivePin }
  | Refusal;

/** The user conf's sibling: SMV merges `conf/smv-app-conf.props` under the user conf. */
export function appConfPathFor(confPath: string): string {
  return path.join(path.dirname(confPath), 'smv-app-conf.props');
}

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
    const target = this.authorise(req);
    if (!target.ok) return target;
    const { consumer, stage } = target;

    const version = this.resolveVersion(stage, req.version);
    if (!version.ok) return version;
    const available = await this.checkAvailable(consumer, stage, version.version);
    if (available) return available;

    return this.ports.workspaces.use(consumer, async (repo) => {
      const landed = await this.commitChange(repo, consumer, stage, req.userId, {
        action: 'adopt',
        to: version.version,
        edit: (userText, appText) =>
          setPin({ userText, appText, stage, version: version.version, knownStages: this.ports.topology.stages }),
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

  async unpin(req: UnpinRequest): Promise<UnpinOutcome> {
    const target = this.authorise(req);
    if (!target.ok) return target;
    const { consumer, stage } = target;

    return this.ports.workspaces.use(consumer, async (repo) => {
      let stillPinnedBy: EffectivePin = { version: null, key: null, source: null };
      const landed = await this.commitChange(repo, consumer, stage, req.userId, {
        action: 'unpin',
        to: null,
        edit: (userText, appText) => {
          const result = removePin({ userText, appText, stage, knownStages: this.ports.topology.stages });
          if (!result.ok) return result;
          stillPinnedBy = result.stillPinnedBy;
          const previous = effectivePin(stage, { app: appText, user: userText });
          return { ok: true, text: result.text, changed: result.changed, previous };
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

  private resolveVersion(stage: KnownStage, requested: string): Result<{ version: string }> {
    if (requested.toLowerCase() === 'latest') {
      const newest = this.ports.catalog.versionsOf(stage.fqn)[0];
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
    const newest = this.ports.catalog.versionsOf(stage.fqn).map((e) => e.version);
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
    userId: string,
    change: {
      action: 'adopt' | 'unpin';
      to: string | null;
      edit: (userText: string | null, appText: string | null) => Edit;
      message: (previous: string | null, who: string) => string;
      branch: string;
    },
  ): Promise<Result<{ status: 'unchanged'; previous: EffectivePin } | { status: 'landed'; landed: Landed }>> {
    const maxAttempts = consumer.mode === 'push' ? (this.ports.maxPushAttempts ?? 5) : 1;
    const userName = await this.ports.userName(userId);
    const who = `${userName} (${userId})`;
    let pushing = false;
    try {
      for (let attempt = 1; ; attempt++) {
        await repo.resetToRemote();
        // Read first: that refuses a confPath that is (or lies under) a symlink before git looks at it.
        const [userText, appText] = await Promise.all([
          repo.readFile(consumer.confPath),
          repo.readFile(appConfPathFor(consumer.confPath)),
        ]);
        if (await repo.isIgnored(consumer.confPath)) return refuseIgnored(consumer);
        const edit = change.edit(userText, appText);
        if (!edit.ok) return edit;
        if (!edit.changed) return { ok: true, status: 'unchanged', previous: edit.previous };

        const previous = edit.previous.version;
        const commit = await repo.commitFile(consumer.confPath, edit.text, {
          message: change.message(previous, who),
          author: slackAuthor(userName, userId),
          committer: this.ports.committer,
        });
        const branch = consumer.mode === 'branch' ? change.branch : undefined;
        // The review branch is the bot's own: re-adopting replaces it with a fresh commit.
        pushing = true;
        const pushed = await repo.push(branch ?? consumer.branch, { force: branch !== undefined });
        pushing = false;
        if (!pushed.pushed) {
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
        const record: AdoptionAudit = {
          id: `${commit.slice(0, 12)}-${this.now().getTime()}`,
          at: this.now().toISOString(),
          action: change.action,
          consumer: consumer.name,
          stage: stage.fqn,
          from: previous,
          to: change.to,
          commit,
          mode: consumer.mode,
          ...(branch ? { branch } : {}),
          user: { id: userId, name: userName },
        };
        await this.ports.recordAdoption(record);
        this.ports.afterChange?.(consumer.name);
        return {
          ok: true,
          status: 'landed',
          landed: { consumer, stage, previous, commit, mode: consumer.mode, ...(branch ? { branch } : {}), record },
        };
      }
    } catch (error) {
      if (error instanceof RepoFileRefusedError) return refuse('unsafe-repo-file', esc(error.message));
      const gist = this.ports.gitErrorGist(error);
      if (gist === null) throw error;
      // A push cut off by the timeout may still have landed: do not claim the remote is untouched.
      const outcome =
        pushing && /timed out/.test(gist)
          ? `The push may or may not have reached the remote: check \`${consumer.branch}\` (or \`/smv pins\`) before trying again.`
          : `Nothing was changed on the remote. Check that the bot can fetch and push there, then try again.`;
      return refuse(
        'git-failed',
        `Could not update \`${consumer.name}\` (${esc(redactUrlCredentials(consumer.repo))}, branch \`${consumer.branch}\`): ${esc(gist.replace(/[.\s]+$/, ''))}. ` +
          outcome,
      );
    }
  }
}

function refuseIgnored(consumer: ConsumerSpec): Refusal {
  return refuse(
    'conf-ignored',
    `\`${consumer.confPath}\` is git-ignored in \`${consumer.name}\` (SMV's project template ignores it), so a pin committed there ` +
      `would never reach anyone. Either track it (remove it from .gitignore and commit it), or point \`confPath\` in smvbot.yml ` +
      `at a tracked config file. Nothing was changed.`,
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
