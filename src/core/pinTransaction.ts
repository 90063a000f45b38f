// The pin transaction: publishing a planned pin change to the consumer's remote (SPEC §5, §6): reset
// to the tip, plan on its files, commit as the Slack user, record the intent, push; when the remote
// moved, start over on the new tip. A push that errored is looked up on the remote before anything is
// said about it. Core logic over two ports (the consumer repo and the state); git lives behind the first.
import { ChangeUnrecordedError, StateUnavailableError, StateUnwritableError, type StatePort } from './statePort.ts';
import type { PinPublisher, PublishRequest, PublishResult } from './pinPublishing.ts';
import { commitMessageOf, pinFileOfChange, pushTargetOf, slackAuthor, type PinChange, type PinEdit } from './pinPlan.ts';
import { pinLabel, readPinFiles } from './consumerPins.ts';
import { RepoAccessError, RepoFileRefusedError, type ConsumerRepoPort, type Identity } from './workspaces.ts';
import type { AdoptionIntent, AdoptionRecord } from '../domain/records.ts';

export interface RepoPinPublisherOptions {
  /** Where intents are recorded before a push and settled after it. */
  state: Pick<StatePort, 'recordAdoptionIntent' | 'settleAdoption' | 'unsettledAdoptions' | 'adoptions'>;
  committer: Identity;
  now?: () => Date;
  /** Attempts when the remote moves under us (push mode; branch mode force-pushes its own branch once). */
  maxPushAttempts?: number;
  /** Back-off between push attempts; tests pass a no-op. */
  sleep?: (ms: number) => Promise<void>;
}

export class RepoPinPublisher implements PinPublisher {
  private readonly now: () => Date;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(private readonly opts: RepoPinPublisherOptions) {
    this.now = opts.now ?? (() => new Date());
    this.sleep = opts.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
  }

  async publish(repo: ConsumerRepoPort, request: PublishRequest): Promise<PublishResult> {
    const { change } = request;
    const target = pushTargetOf(change);
    const maxAttempts = target.review ? 1 : (this.opts.maxPushAttempts ?? 5);
    /** The intent being pushed: if the push errors, whether it landed is not known here. */
    let pushing: { intent: AdoptionIntent; edit: PinEdit } | null = null;
    try {
      for (let attempt = 1; ; attempt++) {
        await repo.resetToRemote();
        // Read first: that refuses a pin file that is (or lies under) a symlink before git looks at it.
        const texts = await readPinFiles(change.consumer, (paths) => Promise.all(paths.map((p) => repo.readFile(p))));
        const file = pinFileOfChange(change);
        if (await repo.isIgnored(file)) return { status: 'pin-file-ignored', file };
        const edit = request.plan(texts);
        if (!edit.ok) return { status: 'refused', refusal: edit };
        if (!edit.changed) {
          // Resumed after its worker died: the pin may be this very command's, pushed before that worker could say so.
          const own = request.resumedSince !== undefined ? await this.ownEarlierChange(repo, change, target.branch, request.resumedSince) : null;
          if (own?.settledNow) return { status: 'landed', edit, commit: own.record.commit, record: own.record };
          return own ? { status: 'unchanged', edit, landedBefore: own.record } : { status: 'unchanged', edit };
        }

        const { commit, parent } = await repo.commitFile(edit.file, edit.text, {
          message: commitMessageOf(change, edit.previous),
          author: slackAuthor(change.actor),
          committer: this.opts.committer,
        });
        const intent: AdoptionIntent = {
          id: `${commit.slice(0, 12)}-${this.now().getTime()}`,
          intendedAt: this.now().toISOString(),
          action: change.action,
          consumer: change.consumer.name,
          stage: change.stage.fqn,
          from: pinLabel(edit.previous),
          to: change.to,
          commit,
          parent,
          mode: change.consumer.mode,
          target: target.branch,
          user: change.actor,
          channel: request.channel,
        };
        // Recorded before the push: a crash during it is settled against the remote at the next start.
        await this.opts.state.recordAdoptionIntent(intent);
        pushing = { intent, edit };
        // The review branch is the bot's own: re-adopting replaces it with a fresh commit.
        const pushed = await repo.push(target.branch, { force: target.review });
        pushing = null;
        if (!pushed.pushed) {
          await this.opts.state.settleAdoption(intent.id, 'abandoned', this.now().toISOString());
          if (attempt >= maxAttempts) return { status: 'remote-busy', attempts: attempt };
          await this.sleep(backoffMs(attempt));
          continue;
        }
        const record = await this.settleLanded(intent);
        return { status: 'landed', edit, commit, record: record! };
      }
    } catch (error) {
      if (error instanceof RepoFileRefusedError) return { status: 'repo-file-refused', message: error.message };
      if (!(error instanceof RepoAccessError)) throw error;
      if (pushing === null) return { status: 'git-failed', failure: error.failure, pushed: 'no' };
      // A push cut off by the timeout may still be applied by the remote later: only a later look can tell.
      if (error.failure.kind === 'timeout') return { status: 'git-failed', failure: error.failure, pushed: 'unknown' };
      const { intent, edit } = pushing;
      const there = await this.lookUp(repo, intent);
      if (there === 'landed') {
        const record = await this.settleLanded(intent);
        return { status: 'landed', edit, commit: intent.commit, record: record! };
      }
      return { status: 'git-failed', failure: error.failure, pushed: there === 'absent' ? 'no' : 'unknown' };
    }
  }

  /**
   * The same change by the same user since `since` (a resumed command's receipt): its intent, once
   * the remote is seen to hold its commit (settled landed here and now: nobody has told of it yet), or
   * its landed record (settled earlier, e.g. by a restart's reconciliation, which told the channel).
   * Null when the pin was someone else's doing (or older): then it is "unchanged" as usual.
   */
  private async ownEarlierChange(repo: ConsumerRepoPort, change: PinChange, target: string, since: string): Promise<{ record: AdoptionRecord; settledNow: boolean } | null> {
    const sinceMs = Date.parse(since);
    const same = (x: { action: string; consumer: string; stage: string; to: string | null; user: { id: string } }) =>
      x.action === change.action && x.consumer === change.consumer.name && x.stage === change.stage.fqn && x.to === change.to && x.user.id === change.actor.id;
    for (const intent of await this.opts.state.unsettledAdoptions()) {
      if (!same(intent) || intent.target !== target || Date.parse(intent.intendedAt) < sinceMs) continue;
      if (await repo.containsCommit(intent.target, intent.commit)) {
        const record = await this.settleLanded(intent);
        if (record) return { record, settledNow: true };
      }
    }
    const [latest] = await this.opts.state.adoptions({ consumer: change.consumer.name, stage: change.stage.fqn, limit: 1 });
    return latest && same(latest) && Date.parse(latest.at) >= sinceMs ? { record: latest, settledNow: false } : null;
  }

  /** Records a pushed intent as landed; a state store that fails then is reported as such (the push stands). */
  private async settleLanded(intent: AdoptionIntent): ReturnType<StatePort['settleAdoption']> {
    try {
      return await this.opts.state.settleAdoption(intent.id, 'landed', this.now().toISOString());
    } catch (error) {
      if (error instanceof StateUnavailableError || error instanceof StateUnwritableError) throw new ChangeUnrecordedError(error, intent.commit);
      throw error;
    }
  }

  /**
   * A push that errored may still have landed (a cut connection after the remote took it): look.
   * Not there → abandoned; cannot tell → left for the reconciliation, which looks again.
   */
  private async lookUp(repo: ConsumerRepoPort, intent: AdoptionIntent): Promise<'landed' | 'absent' | 'unknown'> {
    let there: boolean;
    try {
      there = await repo.containsCommit(intent.target, intent.commit);
    } catch {
      // The push's own failure is what the user is told; this intent stays for the reconciliation.
      return 'unknown';
    }
    if (there) return 'landed';
    await this.opts.state.settleAdoption(intent.id, 'abandoned', this.now().toISOString());
    return 'absent';
  }
}

/** 100–300 ms, growing per attempt, with jitter so two bots do not collide in lock-step. */
function backoffMs(attempt: number): number {
  return Math.round(100 * attempt * (1 + Math.random()));
}
