// The shared store's other records: its meta marks, the adoption log, deprecations and
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
import { notifyVersionsChanged, type PgAccess } from './postgresConnection.ts';
import { settlementGuard } from './stateSql.ts';
import {
  CLAIMABLE_COMMANDS,
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


export class PgRecords implements RecordsPort {
  readonly #db: PgAccess;

  constructor(db: PgAccess) {
    this.#db = db;
  }

  async initializedAt(): Promise<string | null> {
    return (await this.#db.read<{ value: string }>(`SELECT value FROM meta WHERE key = 'initialized_at'`))[0]?.value ?? null;
  }

  async markInitialized(at: string): Promise<void> {
    await this.#db.write((c) => c.query(`INSERT INTO meta (key, value) VALUES ('initialized_at', $1) ON CONFLICT (key) DO NOTHING`, [at]));
  }

  async probeWrite(at: string): Promise<void> {
    await this.#db.write((c) =>
      c.query(`INSERT INTO meta (key, value) VALUES ('last_write_probe', $1) ON CONFLICT (key) DO UPDATE SET value = excluded.value`, [at]),
    );
  }

  async recordAdoptionIntent(intent: AdoptionIntent): Promise<void> {
    await this.#db.write((c) =>
      c.query(
        `INSERT INTO adoptions (id, state, intended_at, action, consumer, stage, from_version, to_version, commit_sha, parent_sha, mode, target, user_id, user_name, channel)
         VALUES ($1, 'intended', $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`,
        [
          intent.id,
          intent.intendedAt,
          intent.action,
          intent.consumer,
          intent.stage,
          intent.from,
          intent.to,
          intent.commit,
          intent.parent,
          intent.mode,
          intent.target,
          intent.user.id,
          intent.user.name,
          intent.channel,
        ],
      ),
    );
  }

  async settleAdoption(id: string, outcome: AdoptionSettlement, at: string): Promise<AdoptionRecord | null> {
    return this.#db.write(async (c) => {
      // An abandoned one may still become landed: its commit showed up on the remote late.
      await c.query(
        `UPDATE adoptions SET state = $1, settled_at = $2 WHERE id = $3 AND ${settlementGuard('$1')}`,
        [outcome, at, id],
      );
      const row = (await c.query<AdoptionRow>('SELECT * FROM adoptions WHERE id = $1', [id])).rows[0];
      return row && row.state === 'landed' ? toAdoptionRecord(row) : null;
    });
  }

  async unsettledAdoptions(): Promise<AdoptionIntent[]> {
    return (await this.#db.read<AdoptionRow>(`SELECT * FROM adoptions WHERE state = 'intended' ORDER BY seq`)).map(toAdoptionIntent);
  }

  async abandonedAdoptionsSince(since: string): Promise<AdoptionIntent[]> {
    return (await this.#db.read<AdoptionRow>(`SELECT * FROM adoptions WHERE state = 'abandoned' AND settled_at >= $1 ORDER BY seq`, [since])).map(toAdoptionIntent);
  }

  async deprecate(d: Deprecation): Promise<boolean> {
    return this.#db.write(async (c) => {
      const result = await c.query(
        'INSERT INTO deprecations (stage, version, reason, user_id, user_name, at) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING',
        [d.stage, d.version, d.reason, d.by.id, d.by.name, d.at],
      );
      // Other replicas' cached answers (releases) mark deprecations: they drop them.
      await notifyVersionsChanged(c);
      return result.rowCount === 1;
    });
  }

  async undeprecate(stage: string, version: string): Promise<boolean> {
    return this.#db.write(async (c) => {
      await c.query('DELETE FROM deprecation_notices WHERE stage = $1 AND version = $2', [stage, version]);
      await notifyVersionsChanged(c);
      return (await c.query('DELETE FROM deprecations WHERE stage = $1 AND version = $2', [stage, version])).rowCount === 1;
    });
  }

  async deprecationsOf(stage: string): Promise<Deprecation[]> {
    return (await this.#db.read<DeprecationRow>('SELECT * FROM deprecations WHERE stage = $1 ORDER BY at DESC, version DESC', [stage])).map(toDeprecation);
  }

  async claimDeprecationNotice(key: DeprecationNoticeKey, at: string): Promise<boolean> {
    const result = await this.#db.write((c) =>
      c.query('INSERT INTO deprecation_notices (stage, version, consumer, channel, at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING', [
        key.stage,
        key.version,
        key.consumer,
        key.channel,
        at,
      ]),
    );
    return result.rowCount === 1;
  }

  async subscribe(sub: Subscription): Promise<boolean> {
    const result = await this.#db.write((c) =>
      c.query('INSERT INTO subscriptions (channel, stage, user_id, user_name, at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING', [
        sub.channel,
        sub.stage,
        sub.by.id,
        sub.by.name,
        sub.at,
      ]),
    );
    return result.rowCount === 1;
  }

  async unsubscribe(channel: string, stage: string): Promise<boolean> {
    return (await this.#db.write((c) => c.query('DELETE FROM subscriptions WHERE channel = $1 AND stage = $2', [channel, stage]))).rowCount === 1;
  }

  async subscriptionsOf(channel: string): Promise<Subscription[]> {
    return (await this.#db.read<SubscriptionRow>('SELECT * FROM subscriptions WHERE channel = $1 ORDER BY at, stage', [channel])).map(toSubscription);
  }

  async freezeOf(consumer: string): Promise<Freeze | null> {
    const [row] = await this.#db.read<FreezeRow>('SELECT * FROM freezes WHERE consumer = $1', [consumer]);
    return row ? toFreeze(row) : null;
  }

  async setFreeze(freeze: Freeze): Promise<Freeze | null> {
    return this.#db.write(async (c) => {
      // The row locked first, so the one replaced is the one this write overwrites.
      const replaced = (await c.query<FreezeRow>('SELECT * FROM freezes WHERE consumer = $1 FOR UPDATE', [freeze.consumer])).rows[0];
      await c.query(
        `INSERT INTO freezes (consumer, frozen_by_id, frozen_by_name, reason, frozen_at, until) VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (consumer) DO UPDATE SET frozen_by_id = excluded.frozen_by_id, frozen_by_name = excluded.frozen_by_name,
           reason = excluded.reason, frozen_at = excluded.frozen_at, until = excluded.until`,
        freezeValues(freeze),
      );
      return replaced ? toFreeze(replaced) : null;
    });
  }

  async removeFreeze(consumer: string): Promise<Freeze | null> {
    const result = await this.#db.write((c) => c.query<FreezeRow>('DELETE FROM freezes WHERE consumer = $1 RETURNING *', [consumer]));
    return result.rows[0] ? toFreeze(result.rows[0]) : null;
  }

  async enqueueCommand(c: Omit<QueuedCommand, 'attempts'>): Promise<void> {
    await this.#db.write((client) =>
      client.query(
        `INSERT INTO commands (id, queue, request, user_id, channel, response_url, received_at, state) VALUES ($1, $2, $3, $4, $5, $6, $7, 'pending') ON CONFLICT (id) DO NOTHING`,
        [c.id, c.queue, JSON.stringify(c.request), c.userId, c.channelId, c.responseUrl, c.receivedAt],
      ),
    );
  }

  async claimCommands(owner: string, at: string, leaseUntil: string, limit: number): Promise<QueuedCommand[]> {
    // SKIP LOCKED: replicas claiming at once each take other queues' heads, never the same row.
    const claimable = CLAIMABLE_COMMANDS.replace('$at', '$3').replace('$limit', '$4') + ' FOR UPDATE SKIP LOCKED';
    const result = await this.#db.write((client) =>
      client.query<CommandRow & { seq: string }>(
        `UPDATE commands SET lease_owner = $1, lease_until = $2, attempts = attempts + 1 WHERE seq IN (${claimable})
         RETURNING seq, id, queue, request, user_id, channel, response_url, received_at, attempts`,
        [owner, leaseUntil, at, limit],
      ),
    );
    return result.rows.sort((a, b) => Number(a.seq) - Number(b.seq)).map(toQueuedCommand);
  }

  async renewCommandLeases(owner: string, ids: readonly string[], leaseUntil: string): Promise<string[]> {
    if (ids.length === 0) return [];
    const result = await this.#db.write((client) =>
      client.query<{ id: string }>(`UPDATE commands SET lease_until = $1 WHERE id = ANY($2) AND lease_owner = $3 AND state = 'pending' RETURNING id`, [
        leaseUntil,
        [...ids],
        owner,
      ]),
    );
    return result.rows.map((r) => r.id);
  }

  async finishCommand(id: string, owner: string, outcome: string, at: string): Promise<boolean> {
    const result = await this.#db.write((client) =>
      client.query(`UPDATE commands SET state = 'done', finished_at = $1, outcome = $2, lease_until = NULL WHERE id = $3 AND lease_owner = $4 AND state = 'pending'`, [
        at,
        outcome,
        id,
        owner,
      ]),
    );
    return result.rowCount === 1;
  }

  async forgetFinishedCommands(finishedBefore: string): Promise<number> {
    const result = await this.#db.write((client) => client.query(`DELETE FROM commands WHERE state = 'done' AND finished_at < $1`, [finishedBefore]));
    return result.rowCount ?? 0;
  }

  async commandBacklog(): Promise<{ pending: number; oldestReceivedAt: string | null }> {
    const [row] = await this.#db.read<{ pending: string; oldest: string | null }>(`SELECT count(*) AS pending, min(received_at) AS oldest FROM commands WHERE state = 'pending'`);
    return { pending: Number(row?.pending ?? 0), oldestReceivedAt: row?.oldest ?? null };
  }

  async adoptions(filter: AdoptionFilter = {}): Promise<AdoptionRecord[]> {
    const rows = await this.#db.read<AdoptionRow>(
      `SELECT * FROM adoptions WHERE state = 'landed'
       AND ($1::text IS NULL OR consumer = $1) AND ($2::text IS NULL OR stage = $2)
       ORDER BY settled_at DESC, seq DESC LIMIT $3`,
      [filter.consumer ?? null, filter.stage ?? null, filter.limit ?? null],
    );
    return rows.map(toAdoptionRecord);
  }
}
