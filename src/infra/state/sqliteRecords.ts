// The embedded store's other records: its meta marks, the adoption log, deprecations and
// subscriptions, consumers' freezes, and the durable command queue.
import type {
  AdoptionFilter,
  AdoptionIntent,
  AdoptionRecord,
  AdoptionSettlement,
  Deprecation,
  DeprecationNoticeKey,
  Freeze,
  QueuedCommand,
  Subscription,
} from '../../domain/records.ts';
import type { SqliteAccess, Statements } from './sqliteStatements.ts';
import {
  toAdoptionIntent,
  toAdoptionRecord,
  freezeValues,
  toDeprecation,
  toFreeze,
  toQueuedCommand,
  toSubscription,
  type AdoptionRow,
  type CommandRow,
  type DeprecationRow,
  type FreezeRow,
  type SubscriptionRow,
} from './stateRows.ts';
import type { RecordsPort } from './storeParts.ts';


export class SqliteRecords implements RecordsPort {
  readonly #st: Statements;
  readonly #db: SqliteAccess;

  constructor(db: SqliteAccess) {
    this.#db = db;
    this.#st = db.st;
  }

  async initializedAt(): Promise<string | null> {
    return (this.#st.getMeta.get('initialized_at') as { value: string } | undefined)?.value ?? null;
  }

  async markInitialized(at: string): Promise<void> {
    await this.#db.write(() => this.#st.setMetaIfAbsent.run('initialized_at', at));
  }

  /** A tiny write to learn whether the state can be written again (after a full disk). */
  async probeWrite(at: string): Promise<void> {
    await this.#db.write(() => this.#st.setMeta.run('last_write_probe', at));
  }

  async recordAdoptionIntent(intent: AdoptionIntent): Promise<void> {
    await this.#db.write(() =>
      this.#st.addIntent.run({
        id: intent.id,
        intended_at: intent.intendedAt,
        action: intent.action,
        consumer: intent.consumer,
        stage: intent.stage,
        from_version: intent.from,
        to_version: intent.to,
        commit_sha: intent.commit,
        parent_sha: intent.parent,
        mode: intent.mode,
        target: intent.target,
        user_id: intent.user.id,
        user_name: intent.user.name,
        channel: intent.channel,
      }),
    );
  }

  async settleAdoption(id: string, outcome: AdoptionSettlement, at: string): Promise<AdoptionRecord | null> {
    return this.#db.write(() => {
      this.#st.settleIntent.run({ outcome, at, id });
      const row = this.#st.getAdoption.get(id) as AdoptionRow | undefined;
      return row && row.state === 'landed' ? toAdoptionRecord(row) : null;
    });
  }

  async unsettledAdoptions(): Promise<AdoptionIntent[]> {
    return (this.#st.unsettled.all() as AdoptionRow[]).map(toAdoptionIntent);
  }

  async abandonedAdoptionsSince(since: string): Promise<AdoptionIntent[]> {
    return (this.#st.abandonedSince.all(since) as AdoptionRow[]).map(toAdoptionIntent);
  }

  async adoptions(filter: AdoptionFilter = {}): Promise<AdoptionRecord[]> {
    const rows = this.#st.landed.all({
      consumer: filter.consumer ?? null,
      stage: filter.stage ?? null,
      limit: filter.limit ?? -1,
    }) as AdoptionRow[];
    return rows.map(toAdoptionRecord);
  }

  async deprecate(d: Deprecation): Promise<boolean> {
    return this.#db.write(() => this.#st.addDeprecation.run(d.stage, d.version, d.reason, d.by.id, d.by.name, d.at).changes === 1);
  }

  async undeprecate(stage: string, version: string): Promise<boolean> {
    return this.#db.write(() => {
      this.#st.forgetNotices.run(stage, version);
      return this.#st.removeDeprecation.run(stage, version).changes === 1;
    });
  }

  async deprecationsOf(stage: string): Promise<Deprecation[]> {
    return (this.#st.deprecationsOf.all(stage) as DeprecationRow[]).map(toDeprecation);
  }

  async claimDeprecationNotice(key: DeprecationNoticeKey, at: string): Promise<boolean> {
    return this.#db.write(() => this.#st.claimNotice.run(key.stage, key.version, key.consumer, key.channel, at).changes === 1);
  }

  async subscribe(sub: Subscription): Promise<boolean> {
    return this.#db.write(() => this.#st.addSubscription.run(sub.channel, sub.stage, sub.by.id, sub.by.name, sub.at).changes === 1);
  }

  async unsubscribe(channel: string, stage: string): Promise<boolean> {
    return this.#db.write(() => this.#st.removeSubscription.run(channel, stage).changes === 1);
  }

  async subscriptionsOf(channel: string): Promise<Subscription[]> {
    return (this.#st.subscriptionsOf.all(channel) as SubscriptionRow[]).map(toSubscription);
  }

  async freezeOf(consumer: string): Promise<Freeze | null> {
    const row = this.#st.freezeOf.get(consumer) as FreezeRow | undefined;
    return row ? toFreeze(row) : null;
  }

  async setFreeze(freeze: Freeze): Promise<Freeze | null> {
    return this.#db.write(() => {
      const replaced = this.#st.freezeOf.get(freeze.consumer) as FreezeRow | undefined;
      this.#st.setFreeze.run(...freezeValues(freeze));
      return replaced ? toFreeze(replaced) : null;
    });
  }

  async removeFreeze(consumer: string): Promise<Freeze | null> {
    return this.#db.write(() => {
      const removed = this.#st.removeFreeze.get(consumer) as FreezeRow | undefined;
      return removed ? toFreeze(removed) : null;
    });
  }

  async enqueueCommand(c: Omit<QueuedCommand, 'attempts'>): Promise<void> {
    await this.#db.write(() =>
      this.#st.enqueueCommand.run(c.id, c.queue, JSON.stringify(c.request), c.userId, c.channelId, c.responseUrl, c.receivedAt),
    );
  }

  async claimCommands(owner: string, at: string, leaseUntil: string, limit: number): Promise<QueuedCommand[]> {
    const rows = await this.#db.write(() => this.#st.claimCommands.all({ owner, at, leaseUntil, limit }) as (CommandRow & { seq: number })[]);
    return rows.sort((a, b) => a.seq - b.seq).map(toQueuedCommand);
  }

  async renewCommandLeases(owner: string, ids: readonly string[], leaseUntil: string): Promise<string[]> {
    return this.#db.write(() => ids.filter((id) => this.#st.renewCommand.run(leaseUntil, id, owner).changes === 1));
  }

  async finishCommand(id: string, owner: string, outcome: string, at: string): Promise<boolean> {
    return this.#db.write(() => this.#st.finishCommand.run(at, outcome, id, owner).changes === 1);
  }

  async forgetFinishedCommands(finishedBefore: string): Promise<number> {
    return this.#db.write(() => this.#st.forgetCommands.run(finishedBefore).changes);
  }

  async commandBacklog(): Promise<{ pending: number; oldestReceivedAt: string | null }> {
    const row = this.#st.commandBacklog.get() as { pending: number; oldest: string | null };
    return { pending: row.pending, oldestReceivedAt: row.oldest };
  }
}
