// The shared store's versions and their announcements. Each announcement moves by the domain's
// status table in one guarded UPDATE (replicas race: the row's status decides who wins); claims and
// the settlements that may re-post need the current fencing number too.
import type pg from 'pg';
import { announcementChannels, firstStatus, type AnnouncementEvent } from '../../domain/announcementStatus.ts';
import type { AnnouncementRecord, AnnouncementStatus, AnnouncementTask, NewVersion, VersionRecord } from '../../domain/records.ts';
import type { AnnouncementKey, MessageLayout, VersionSummary } from '../../core/statePort.ts';
import { notifyVersionsChanged, type PgAccess } from './postgresConnection.ts';
import { statusAfter, statusIn, VERSION_COLUMNS } from './stateSql.ts';
import { toAnnouncementRecord, toVersionRecord, toVersionSummary, type AnnouncementRow, type VersionRow } from './stateRows.ts';
import type { VersionsPort } from './storeParts.ts';


/** The events that settle a post: each sets the new status, `ts` and `layout` (kept when null) and `last_error`. */
type SettlingEvent = Exclude<AnnouncementEvent, 'claim' | 'reopen' | 'interrupted'>;

export class PgVersions implements VersionsPort {
  readonly #db: PgAccess;

  constructor(db: PgAccess) {
    this.#db = db;
  }

  async publisherKnown(publisher: string): Promise<boolean> {
    return (await this.#db.read('SELECT 1 FROM publishers WHERE name = $1', [publisher])).length > 0;
  }

  async eachKnownVersion(publisher: string, visit: (version: string, removed: boolean) => void): Promise<void> {
    const rows = await this.#db.read<{ version: string; removed: boolean }>('SELECT version, removed_at IS NOT NULL AS removed FROM versions WHERE publisher = $1', [publisher]);
    for (const row of rows) visit(row.version, row.removed);
  }

  async recordVersions(publisher: string, versions: readonly NewVersion[], opts: { channels: readonly string[]; silent: boolean; at: string }): Promise<void> {
    await this.#db.write(async (c) => {
      await c.query('INSERT INTO publishers (name, first_seen_at) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING', [publisher, opts.at]);
      const status = firstStatus(opts.silent);
      let added = 0;
      for (const v of versions) {
        const inserted = await c.query(
          `INSERT INTO versions (publisher, version, stages, modules, module_count, bytes, completed_at, recorded_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (publisher, version) DO NOTHING`,
          [publisher, v.version, JSON.stringify(v.stages), JSON.stringify(v.modules), v.modules.length, v.bytes, v.completedAt, opts.at],
        );
        // Recording a known version again changes nothing: its announcements stay as they are.
        if (inserted.rowCount === 0) continue;
        added++;
        for (const stage of v.stages) {
          await c.query('INSERT INTO version_stages (stage, publisher, version, completed_at) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING', [
            stage,
            publisher,
            v.version,
            v.completedAt,
          ]);
        }
        // Read per version: a subscription another replica commits meanwhile counts from the next version on.
        const subscriptions = await c.query<{ channel: string; stage: string }>('SELECT channel, stage FROM subscriptions');
        for (const channel of announcementChannels(opts.channels, subscriptions.rows, v.stages)) {
          await c.query('INSERT INTO announcements (publisher, version, channel, status, updated_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING', [
            publisher,
            v.version,
            channel,
            status,
            opts.at,
          ]);
        }
      }
      if (added) await notifyVersionsChanged(c);
    });
  }

  async markRemoved(publisher: string, versions: readonly string[], at: string | null): Promise<void> {
    if (!versions.length) return;
    await this.#db.write(async (c) => {
      await c.query('UPDATE versions SET removed_at = $1 WHERE publisher = $2 AND version = ANY($3::text[])', [at, publisher, versions]);
      await notifyVersionsChanged(c);
    });
  }

  async getVersion(publisher: string, version: string): Promise<VersionRecord | undefined> {
    const row = (await this.#db.read<VersionRow>(`SELECT ${VERSION_COLUMNS} FROM versions v WHERE v.publisher = $1 AND v.version = $2`, [publisher, version]))[0];
    return row ? toVersionRecord(row) : undefined;
  }

  async versionsOfStage(stage: string, opts: { includeRemoved: boolean; limit?: number }): Promise<VersionSummary[]> {
    const rows = await this.#db.read<VersionRow>(
      `SELECT ${VERSION_COLUMNS} FROM version_stages s JOIN versions v ON v.publisher = s.publisher AND v.version = s.version
       WHERE s.stage = $1 ${opts.includeRemoved ? '' : 'AND v.removed_at IS NULL'}
       ORDER BY s.completed_at DESC, s.version DESC LIMIT $2`,
      [stage, opts.limit ?? null],
    );
    return rows.map(toVersionSummary);
  }

  async countPublishedOfStage(stage: string): Promise<number> {
    const rows = await this.#db.read<{ n: string }>(
      `SELECT count(*) AS n FROM version_stages s JOIN versions v ON v.publisher = s.publisher AND v.version = s.version
       WHERE s.stage = $1 AND v.removed_at IS NULL`,
      [stage],
    );
    return Number(rows[0]!.n);
  }

  async countVersions(): Promise<number> {
    return Number((await this.#db.read<{ n: string }>('SELECT count(*) AS n FROM versions'))[0]!.n);
  }

  async pendingAnnouncements(limit = 1000): Promise<AnnouncementTask[]> {
    const rows = await this.#db.read<VersionRow & { channel: string; attempts: number }>(
      `SELECT a.channel, a.attempts, ${VERSION_COLUMNS} FROM announcements a
       JOIN versions v ON v.publisher = a.publisher AND v.version = a.version
       WHERE ${statusIn('claim', 'a.status')} AND v.removed_at IS NULL
       ORDER BY v.completed_at, v.version, a.channel LIMIT $1`,
      [limit],
    );
    return rows.map((row) => ({ channel: row.channel, attempts: row.attempts, version: toVersionRecord(row) }));
  }

  /** None when this replica is not (or no longer) the leader: only the fencing number's holder claims. */
  async claimAnnouncements(keys: readonly AnnouncementKey[], at: string): Promise<AnnouncementKey[]> {
    if (!keys.length) return [];
    const claimed = await this.#db.write(async (c) => {
      if (!(await this.#db.holdsFence(c))) return [];
      const result = await c.query<AnnouncementKey>(
        `UPDATE announcements a SET status = ${statusAfter('claim')}, attempts = a.attempts + 1, updated_at = $1
         FROM unnest($2::text[], $3::text[], $4::text[]) AS k(publisher, version, channel)
         WHERE a.publisher = k.publisher AND a.version = k.version AND a.channel = k.channel AND ${statusIn('claim', 'a.status')}
         RETURNING a.publisher, a.version, a.channel`,
        [at, ...keyColumns(keys)],
      );
      return result.rows;
    });
    // In the order asked (RETURNING has none).
    const got = new Set(claimed.map(keyId));
    return keys.filter((key) => got.has(keyId(key)));
  }

  /** Moves the keys by `event` where their status allows, in the caller's transaction; returns how many moved. */
  async #settleIn(c: pg.PoolClient, event: SettlingEvent, keys: readonly AnnouncementKey[], change: { ts?: string; error?: string; layout?: MessageLayout }, at: string): Promise<number> {
    const result = await c.query(
      `UPDATE announcements a SET status = ${statusAfter(event)}, ts = coalesce($1, a.ts), last_error = $2, updated_at = $3, layout = coalesce($7, a.layout)
       FROM unnest($4::text[], $5::text[], $6::text[]) AS k(publisher, version, channel)
       WHERE a.publisher = k.publisher AND a.version = k.version AND a.channel = k.channel AND ${statusIn(event, 'a.status')}`,
      [change.ts ?? null, change.error ?? null, at, ...keyColumns(keys), change.layout ? JSON.stringify(change.layout) : null],
    );
    return result.rowCount ?? 0;
  }

  async #settle(event: SettlingEvent, keys: readonly AnnouncementKey[], change: { ts?: string; error?: string; layout?: MessageLayout }, at: string): Promise<void> {
    if (!keys.length) return;
    await this.#db.write((c) => this.#settleIn(c, event, keys, change, at));
  }

  markPosted(keys: readonly AnnouncementKey[], ts: string, at: string, layout?: MessageLayout): Promise<void> {
    return this.#settle('posted', keys, layout ? { ts, layout } : { ts }, at);
  }

  async postedMessagesOf(publisher: string, version: string): Promise<{ channel: string; ts: string }[]> {
    return this.#db.read<{ channel: string; ts: string }>(
      `SELECT channel, ts FROM announcements WHERE publisher = $1 AND version = $2 AND status = 'posted' AND ts IS NOT NULL ORDER BY channel`,
      [publisher, version],
    );
  }

  async messageContents(channel: string, ts: string): Promise<{ versions: { publisher: string; version: VersionRecord }[]; layout: MessageLayout | null }> {
    const rows = await this.#db.read<VersionRow & { layout: string | null }>(
      `SELECT a.layout, ${VERSION_COLUMNS} FROM announcements a
       JOIN versions v ON v.publisher = a.publisher AND v.version = a.version
       WHERE a.channel = $1 AND a.ts = $2 AND a.status = 'posted'
       ORDER BY v.completed_at, v.version`,
      [channel, ts],
    );
    const layout = rows.find((r) => r.layout !== null)?.layout;
    return { versions: rows.map((row) => ({ publisher: row.publisher, version: toVersionRecord(row) })), layout: layout ? (JSON.parse(layout) as MessageLayout) : null };
  }

  markRetry(keys: readonly AnnouncementKey[], error: string, at: string): Promise<void> {
    return this.#settle('retry', keys, { error }, at);
  }

  markFailed(keys: readonly AnnouncementKey[], error: string, at: string): Promise<void> {
    return this.#settle('failed', keys, { error }, at);
  }

  markUnknown(keys: readonly AnnouncementKey[], reason: string, at: string): Promise<void> {
    return this.#settle('unknown', keys, { error: reason }, at);
  }

  /** unknown → posted or pending; only the leader settles (as with claims). */
  async #settleUnknown(event: 'found-in-history' | 'absent-from-history', key: AnnouncementKey, change: { ts?: string; error?: string }, at: string): Promise<boolean> {
    return this.#db.write(async (c) => (await this.#db.holdsFence(c)) && (await this.#settleIn(c, event, [key], change, at)) === 1);
  }

  settleUnknownAsPosted(key: AnnouncementKey, ts: string, at: string): Promise<boolean> {
    return this.#settleUnknown('found-in-history', key, { ts }, at);
  }

  settleUnknownAsNotPosted(key: AnnouncementKey, note: string, at: string): Promise<boolean> {
    return this.#settleUnknown('absent-from-history', key, { error: note }, at);
  }

  async reopenFailedPosts(failedBefore: string, at: string): Promise<AnnouncementRecord[]> {
    return this.#db.write(async (c) => {
      if (!(await this.#db.holdsFence(c))) return [];
      const { rows } = await c.query<AnnouncementRow>(
        `UPDATE announcements SET status = ${statusAfter('reopen')}, updated_at = $1 WHERE ${statusIn('reopen')} AND updated_at <= $2 RETURNING *`,
        [at, failedBefore],
      );
      return rows.map(toAnnouncementRecord);
    });
  }

  /**
   * Only the leader settles: a post in flight belongs to the replica that claimed it, and once
   * this replica holds the fencing number every other claimant is gone or fenced off.
   */
  async settleInterruptedPosts(reason: string, at: string): Promise<AnnouncementRecord[]> {
    return this.#db.write(async (c) => {
      if (!(await this.#db.holdsFence(c))) return [];
      const { rows } = await c.query<AnnouncementRow>(
        `UPDATE announcements SET status = ${statusAfter('interrupted')}, last_error = $1, updated_at = $2 WHERE ${statusIn('interrupted')} RETURNING *`,
        [reason, at],
      );
      return rows.map(toAnnouncementRecord);
    });
  }

  async announcementsIn(statuses: readonly AnnouncementStatus[], limit: number): Promise<AnnouncementRecord[]> {
    const rows = await this.#db.read<AnnouncementRow>('SELECT * FROM announcements WHERE status = ANY($1::text[]) ORDER BY updated_at DESC LIMIT $2', [
      [...statuses],
      limit,
    ]);
    return rows.map(toAnnouncementRecord);
  }
}

/** Keys as three parallel arrays, for `unnest` (one statement however many versions a message holds). */
function keyColumns(keys: readonly AnnouncementKey[]): [string[], string[], string[]] {
  return [keys.map((k) => k.publisher), keys.map((k) => k.version), keys.map((k) => k.channel)];
}

function keyId(key: AnnouncementKey): string {
  return JSON.stringify([key.publisher, key.version, key.channel]);
}
