// The pin transaction: publishing a planned pin change (of one stage, or of several in one commit) to the consumer's remote (SPEC §5, §6): reset
// to the tip, plan on its files, commit as the Slack user, record the intent, push; when the remote
// moved, start over on the new tip. A push that errored is looked up on the remote before anything is
// said about it. Core logic over two ports (the consumer repo and the state); git lives behind the first.
import { ChangeUnrecordedError, StateUnavailableError, StateUnwritableError, type StatePort } from './statePort.ts';
import type { PinPublisher, PublishAllRequest, PublishAllResult, PublishFailure, PublishRequest, PublishResult } from './pinPublishing.ts';
import { commitMessageOf, commitMessageOfAll, pinFileOfChange, pushTargetOf, pushTargetOfAll, slackAuthor, type PinChange, type PinEdit, type PinEditPart } from './pinPlan.ts';
import { pinLabel, readPinFiles, type RepoTexts } from './consumerPins.ts';
import type { Result } from '../domain/types.ts';
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

/** What the transaction needs of a plan, however many stages it covers. */
interface PlannedEdit {
  file: string;
  text: string;
  changed: boolean;
  parts: readonly PinEditPart[];
}

/** One commit of one or several stages' pins of one consumer. */
interface Transaction<E extends PlannedEdit> {
  changes: readonly PinChange[];
  target: { branch: string; review: boolean };
  plan(texts: RepoTexts): Result<E>;
  message(edit: E): string;
  channel: string | null;
  resumedSince?: string;
}

type TransactionResult<E> =
  | { status: 'unchanged'; edit: E; landedBefore?: AdoptionRecord[] }
  | { status: 'landed'; edit: E; commit: string; records: AdoptionRecord[] }
  | PublishFailure;

export class RepoPinPublisher implements PinPublisher {
  private readonly now: () => Date;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(private readonly opts: RepoPinPublisherOptions) {
    this.now = opts.now ?? (() => new Date());
    this.sleep = opts.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
  }

  async publish(repo: ConsumerRepoPort, request: PublishRequest): Promise<PublishResult> {
    const { change } = request;
    const result = await this.transact<PlannedEdit & { edit: PinEdit }>(repo, {
      changes: [change],
      target: pushTargetOf(change),
      plan: (texts) => {
        const edit = request.plan(texts);
        return edit.ok ? { ok: true, file: edit.file, text: edit.text, changed: edit.changed, parts: [{ change, previous: edit.previous, changed: edit.changed }], edit } : edit;
      },
      message: ({ edit }) => commitMessageOf(change, edit.previous),
      channel: request.channel,
      ...(request.resumedSince !== undefined ? { resumedSince: request.resumedSince } : {}),
    });
    switch (result.status) {
      case 'unchanged': {
        const [landedBefore] = result.landedBefore ?? [];
        return landedBefore ? { status: 'unchanged', edit: result.edit.edit, landedBefore } : { status: 'unchanged', edit: result.edit.edit };
      }
      case 'landed':
        return { status: 'landed', edit: result.edit.edit, commit: result.commit, record: result.records[0]! };
      default:
        return result;
    }
  }

  async publishAll(repo: ConsumerRepoPort, request: PublishAllRequest): Promise<PublishAllResult> {
    return this.transact(repo, {
      changes: request.changes,
      target: pushTargetOfAll(request.changes),
      plan: (texts) => request.plan(texts),
      message: (edit) => commitMessageOfAll(edit.parts),
      channel: request.channel,
      ...(request.resumedSince !== undefined ? { resumedSince: request.resumedSince } : {}),
    });
  }

  /** Reset, plan, commit as the user, record an intent per stage the commit moves, push; on a moved remote start over. */
  private async transact<E extends PlannedEdit>(repo: ConsumerRepoPort, tx: Transaction<E>): Promise<TransactionResult<E>> {
    const { changes, target } = tx;
    const first = changes[0];
    if (!first) throw new Error('a pin transaction needs at least one change');
    const { consumer } = first;
    const maxAttempts = target.review ? 1 : (this.opts.maxPushAttempts ?? 5);
    /** The intents being pushed (one commit): if the push errors, whether it landed is not known here. */
    let pushing: { intents: AdoptionIntent[]; edit: E } | null = null;
    try {
      for (let attempt = 1; ; attempt++) {
        await repo.resetToRemote();
        // Read first: that refuses a pin file that is (or lies under) a symlink before git looks at it.
        const texts = await readPinFiles(consumer, (paths) => Promise.all(paths.map((p) => repo.readFile(p))));
        const file = pinFileOfChange(first);
        if (await repo.isIgnored(file)) return { status: 'pin-file-ignored', file };
        const edit = tx.plan(texts);
        if (!edit.ok) return { status: 'refused', refusal: edit };
        if (!edit.changed) {
          // Resumed after its worker died: the pins may be this very command's, pushed before that worker could say so.
          const own = tx.resumedSince !== undefined ? await this.ownEarlierChanges(repo, changes, target.branch, tx.resumedSince) : null;
          if (own?.settledNow) return { status: 'landed', edit, commit: own.records[0]!.commit, records: own.records };
          return own ? { status: 'unchanged', edit, landedBefore: own.records } : { status: 'unchanged', edit };
        }

        const { commit, parent } = await repo.commitFile(edit.file, edit.text, {
          message: tx.message(edit),
          author: slackAuthor(first.actor),
          committer: this.opts.committer,
        });
        const moved = edit.parts.filter((p) => p.changed);
        const intendedAt = this.now();
        // One intent per stage the commit moves, all naming that commit: each settles on its own, by the commit.
        const intents = moved.map(
          ({ change, previous }, i): AdoptionIntent => ({
            id: `${commit.slice(0, 12)}-${intendedAt.getTime()}${moved.length > 1 ? `-${i + 1}` : ''}`,
            intendedAt: intendedAt.toISOString(),
            action: change.action,
            consumer: consumer.name,
            stage: change.stage.fqn,
            from: pinLabel(previous),
            to: change.to,
            commit,
            parent,
            mode: consumer.mode,
            target: target.branch,
            user: change.actor,
            channel: tx.channel,
          }),
        );
        // Recorded before the push: a crash during it is settled against the remote at the next start.
        for (const intent of intents) await this.opts.state.recordAdoptionIntent(intent);
        pushing = { intents, edit };
        // The review branch is the bot's own: re-adopting replaces it with a fresh commit.
        const pushed = await repo.push(target.branch, { force: target.review });
        pushing = null;
        if (!pushed.pushed) {
          for (const intent of intents) await this.opts.state.settleAdoption(intent.id, 'abandoned', this.now().toISOString());
          if (attempt >= maxAttempts) return { status: 'remote-busy', attempts: attempt };
          await this.sleep(backoffMs(attempt));
          continue;
        }
        return { status: 'landed', edit, commit, records: await this.settleAllLanded(intents) };
      }
    } catch (error) {
      if (error instanceof RepoFileRefusedError) return { status: 'repo-file-refused', message: error.message };
      if (!(error instanceof RepoAccessError)) throw error;
      if (pushing === null) return { status: 'git-failed', failure: error.failure, pushed: 'no' };
      // A push cut off by the timeout may still be applied by the remote later: only a later look can tell.
      if (error.failure.kind === 'timeout') return { status: 'git-failed', failure: error.failure, pushed: 'unknown' };
      const { intents, edit } = pushing;
      const there = await this.lookUp(repo, intents);
      if (there === 'landed') return { status: 'landed', edit, commit: intents[0]!.commit, records: await this.settleAllLanded(intents) };
      return { status: 'git-failed', failure: error.failure, pushed: there === 'absent' ? 'no' : 'unknown' };
    }
  }

  /**
   * The same changes by the same user since `since` (a resumed command's receipt): their intents,
   * once the remote is seen to hold their commit (settled landed here and now: nobody has told of
   * them yet), or their landed records (settled earlier, e.g. by a restart's reconciliation, which
   * told the channel). Null when the pins were someone else's doing (or older): then "unchanged" as usual.
   */
  private async ownEarlierChanges(
    repo: ConsumerRepoPort,
    changes: readonly PinChange[],
    target: string,
    since: string,
  ): Promise<{ records: AdoptionRecord[]; settledNow: boolean } | null> {
    const sinceMs = Date.parse(since);
    const same = (change: PinChange) => (x: { action: string; consumer: string; stage: string; to: string | null; user: { id: string } }) =>
      x.action === change.action && x.consumer === change.consumer.name && x.stage === change.stage.fqn && x.to === change.to && x.user.id === change.actor.id;
    let settledNow = false;
    const onRemote = new Map<string, boolean>();
    for (const intent of await this.opts.state.unsettledAdoptions()) {
      if (!changes.some((c) => same(c)(intent)) || intent.target !== target || Date.parse(intent.intendedAt) < sinceMs) continue;
      let there = onRemote.get(intent.commit);
      if (there === undefined) {
        there = await repo.containsCommit(intent.target, intent.commit);
        onRemote.set(intent.commit, there);
      }
      if (there && (await this.settleLanded(intent))) settledNow = true;
    }
    const records: AdoptionRecord[] = [];
    for (const change of changes) {
      const [latest] = await this.opts.state.adoptions({ consumer: change.consumer.name, stage: change.stage.fqn, limit: 1 });
      if (latest && same(change)(latest) && Date.parse(latest.at) >= sinceMs) records.push(latest);
    }
    return records.length ? { records, settledNow } : null;
  }

  /** Records the pushed intents of one commit as landed, in order. */
  private async settleAllLanded(intents: readonly AdoptionIntent[]): Promise<AdoptionRecord[]> {
    const records: AdoptionRecord[] = [];
    for (const intent of intents) records.push((await this.settleLanded(intent))!);
    return records;
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
  private async lookUp(repo: ConsumerRepoPort, intents: readonly AdoptionIntent[]): Promise<'landed' | 'absent' | 'unknown'> {
    const [intent] = intents;
    let there: boolean;
    try {
      there = await repo.containsCommit(intent!.target, intent!.commit);
    } catch {
      // The push's own failure is what the user is told; these intents stay for the reconciliation.
      return 'unknown';
    }
    if (there) return 'landed';
    for (const each of intents) await this.opts.state.settleAdoption(each.id, 'abandoned', this.now().toISOString());
    return 'absent';
  }
}

/** 100–300 ms, growing per attempt, with jitter so two bots do not collide in lock-step. */
function backoffMs(attempt: number): number {
  return Math.round(100 * attempt * (1 + Math.random()));
}
