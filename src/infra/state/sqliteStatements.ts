// The embedded store's SQL, prepared once per connection. Announcement moves take their new status
// and their compare-and-set guard from the domain's table (stateSql.ts), like PostgreSQL's.
import type Database from 'better-sqlite3';
import type { AnnouncementEvent } from '../../domain/announcementStatus.ts';
import { CLAIMABLE_COMMANDS } from './stateRows.ts';
import { settlementGuard, statusAfter, statusIn, VERSION_COLUMNS } from './stateSql.ts';

/** What the store's parts use: its statements and its transactions. */
export interface SqliteAccess {
  readonly st: Statements;
  /** One change, whole or not at all. */
  write<T>(fn: () => T): Promise<T>;
  /** One change made in steps, the event loop let run between them. */
  writeInSteps(steps: Iterable<() => void>): Promise<void>;
}

export type Statements = ReturnType<typeof prepareStatements>;

/** The events that settle a post: each sets the new status, `ts` (kept when null) and `last_error`. */
export type SettlingEvent = Exclude<AnnouncementEvent, 'claim' | 'reopen'>;
const SETTLING_EVENTS: readonly SettlingEvent[] = ['posted', 'retry', 'failed', 'unknown', 'interrupted', 'found-in-history', 'absent-from-history'];

const KEY = 'publisher = ? AND version = ? AND channel = ?';

export function prepareStatements(db: Database.Database) {
  const settle = (event: SettlingEvent) =>
    db.prepare(`UPDATE announcements SET status = ${statusAfter(event)}, ts = coalesce(?, ts), last_error = ?, updated_at = ? WHERE ${KEY} AND ${statusIn(event)}`);
  return {
    enqueueCommand: db.prepare(
      `INSERT INTO commands (id, queue, request, user_id, channel, response_url, received_at, state) VALUES (?, ?, ?, ?, ?, ?, ?, 'pending') ON CONFLICT (id) DO NOTHING`,
    ),
    claimCommands: db.prepare(
      `UPDATE commands SET lease_owner = $owner, lease_until = $leaseUntil, attempts = attempts + 1
       WHERE seq IN (${CLAIMABLE_COMMANDS})
       RETURNING seq, id, queue, request, user_id, channel, response_url, received_at, attempts`,
    ),
    renewCommand: db.prepare(`UPDATE commands SET lease_until = ? WHERE id = ? AND lease_owner = ? AND state = 'pending'`),
    finishCommand: db.prepare(`UPDATE commands SET state = 'done', finished_at = ?, outcome = ?, lease_until = NULL WHERE id = ? AND lease_owner = ? AND state = 'pending'`),
    forgetCommands: db.prepare(`DELETE FROM commands WHERE state = 'done' AND finished_at < ?`),
    commandBacklog: db.prepare(`SELECT count(*) AS pending, min(received_at) AS oldest FROM commands WHERE state = 'pending'`),
    getMeta: db.prepare('SELECT value FROM meta WHERE key = ?'),
    subscriptions: db.prepare('SELECT channel, stage FROM subscriptions'),
    addDeprecation: db.prepare('INSERT INTO deprecations (stage, version, reason, user_id, user_name, at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING'),
    removeDeprecation: db.prepare('DELETE FROM deprecations WHERE stage = ? AND version = ?'),
    deprecationsOf: db.prepare('SELECT * FROM deprecations WHERE stage = ? ORDER BY at DESC, version DESC'),
    forgetNotices: db.prepare('DELETE FROM deprecation_notices WHERE stage = ? AND version = ?'),
    claimNotice: db.prepare('INSERT INTO deprecation_notices (stage, version, consumer, channel, at) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING'),
    addSubscription: db.prepare('INSERT INTO subscriptions (channel, stage, user_id, user_name, at) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING'),
    removeSubscription: db.prepare('DELETE FROM subscriptions WHERE channel = ? AND stage = ?'),
    subscriptionsOf: db.prepare('SELECT * FROM subscriptions WHERE channel = ? ORDER BY at, stage'),
    freezeOf: db.prepare('SELECT * FROM freezes WHERE consumer = ?'),
    setFreeze: db.prepare(
      `INSERT INTO freezes (consumer, frozen_by_id, frozen_by_name, reason, frozen_at, until) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (consumer) DO UPDATE SET frozen_by_id = excluded.frozen_by_id, frozen_by_name = excluded.frozen_by_name,
         reason = excluded.reason, frozen_at = excluded.frozen_at, until = excluded.until`,
    ),
    removeFreeze: db.prepare('DELETE FROM freezes WHERE consumer = ? RETURNING *'),
    setMeta: db.prepare('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value'),
    setMetaIfAbsent: db.prepare('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING'),
    getPublisher: db.prepare('SELECT name FROM publishers WHERE name = ?'),
    addPublisher: db.prepare('INSERT INTO publishers (name, first_seen_at) VALUES (?, ?) ON CONFLICT (name) DO NOTHING'),
    knownVersions: db.prepare('SELECT version, removed_at IS NOT NULL AS removed FROM versions WHERE publisher = ?'),
    addVersion: db.prepare(
      `INSERT INTO versions (publisher, version, stages, modules, module_count, bytes, completed_at, recorded_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (publisher, version) DO NOTHING`,
    ),
    addVersionStage: db.prepare('INSERT INTO version_stages (stage, publisher, version, completed_at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING'),
    addAnnouncement: db.prepare(
      `INSERT INTO announcements (publisher, version, channel, status, updated_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
    ),
    setRemoved: db.prepare('UPDATE versions SET removed_at = ? WHERE publisher = ? AND version = ?'),
    getVersion: db.prepare(`SELECT ${VERSION_COLUMNS} FROM versions v WHERE v.publisher = ? AND v.version = ?`),
    versionsOfStageAll: db.prepare(
      `SELECT ${VERSION_COLUMNS} FROM version_stages s JOIN versions v ON v.publisher = s.publisher AND v.version = s.version
       WHERE s.stage = ? ORDER BY s.completed_at DESC, s.version DESC LIMIT ?`,
    ),
    versionsOfStagePublished: db.prepare(
      `SELECT ${VERSION_COLUMNS} FROM version_stages s JOIN versions v ON v.publisher = s.publisher AND v.version = s.version
       WHERE s.stage = ? AND v.removed_at IS NULL ORDER BY s.completed_at DESC, s.version DESC LIMIT ?`,
    ),
    countVersions: db.prepare('SELECT count(*) AS n FROM versions'),
    countPublishedOfStage: db.prepare(
      `SELECT count(*) AS n FROM version_stages s JOIN versions v ON v.publisher = s.publisher AND v.version = s.version
       WHERE s.stage = ? AND v.removed_at IS NULL`,
    ),
    pendingAnnouncements: db.prepare(
      `SELECT a.channel, a.attempts, ${VERSION_COLUMNS} FROM announcements a
       JOIN versions v ON v.publisher = a.publisher AND v.version = a.version
       WHERE ${statusIn('claim', 'a.status')} AND v.removed_at IS NULL
       ORDER BY v.completed_at, v.version, a.channel LIMIT ?`,
    ),
    setLayout: db.prepare('UPDATE announcements SET layout = ? WHERE publisher = ? AND version = ? AND channel = ?'),
    postedMessagesOf: db.prepare(`SELECT channel, ts FROM announcements WHERE publisher = ? AND version = ? AND status = 'posted' AND ts IS NOT NULL ORDER BY channel`),
    messageContents: db.prepare(
      `SELECT a.layout, ${VERSION_COLUMNS} FROM announcements a
       JOIN versions v ON v.publisher = a.publisher AND v.version = a.version
       WHERE a.channel = ? AND a.ts = ? AND a.status = 'posted'
       ORDER BY v.completed_at, v.version`,
    ),
    claim: db.prepare(`UPDATE announcements SET status = ${statusAfter('claim')}, attempts = attempts + 1, updated_at = ? WHERE ${KEY} AND ${statusIn('claim')}`),
    settle: Object.fromEntries(SETTLING_EVENTS.map((event) => [event, settle(event)])) as Record<SettlingEvent, Database.Statement>,
    interruptedPosts: db.prepare(`SELECT * FROM announcements WHERE ${statusIn('interrupted')} ORDER BY updated_at DESC`),
    failedBefore: db.prepare(`SELECT * FROM announcements WHERE ${statusIn('reopen')} AND updated_at <= ? ORDER BY updated_at`),
    reopen: db.prepare(`UPDATE announcements SET status = ${statusAfter('reopen')}, updated_at = ? WHERE ${KEY} AND ${statusIn('reopen')}`),
    announcementsIn: db.prepare('SELECT * FROM announcements WHERE status = ? ORDER BY updated_at DESC LIMIT ?'),
    addIntent: db.prepare(
      `INSERT INTO adoptions (id, state, intended_at, action, consumer, stage, from_version, to_version, commit_sha, parent_sha, mode, target, user_id, user_name, channel)
       VALUES (@id, 'intended', @intended_at, @action, @consumer, @stage, @from_version, @to_version, @commit_sha, @parent_sha, @mode, @target, @user_id, @user_name, @channel)`,
    ),
    importAdoption: db.prepare(
      `INSERT INTO adoptions (id, state, intended_at, settled_at, action, consumer, stage, from_version, to_version, commit_sha, parent_sha, mode, target, user_id, user_name, channel)
       VALUES (@id, 'landed', @at, @at, @action, @consumer, @stage, @from_version, @to_version, @commit_sha, '', @mode, @target, @user_id, @user_name, NULL)
       ON CONFLICT (id) DO NOTHING`,
    ),
    settleIntent: db.prepare(`UPDATE adoptions SET state = @outcome, settled_at = @at WHERE id = @id AND ${settlementGuard('@outcome')}`),
    abandonedSince: db.prepare(`SELECT * FROM adoptions WHERE state = 'abandoned' AND settled_at >= ? ORDER BY seq`),
    getAdoption: db.prepare('SELECT * FROM adoptions WHERE id = ?'),
    unsettled: db.prepare(`SELECT * FROM adoptions WHERE state = 'intended' ORDER BY seq`),
    landed: db.prepare(
      `SELECT * FROM adoptions WHERE state = 'landed'
       AND (@consumer IS NULL OR consumer = @consumer) AND (@stage IS NULL OR stage = @stage)
       ORDER BY settled_at DESC, seq DESC LIMIT @limit`,
    ),
    anyState: db.prepare('SELECT 1 FROM publishers UNION ALL SELECT 1 FROM adoptions LIMIT 1'),
    setAnnouncementImported: db.prepare(
      `INSERT INTO announcements (publisher, version, channel, status, ts, attempts, last_error, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT DO NOTHING`,
    ),
    setRemovedImported: db.prepare('UPDATE versions SET removed_at = ?, recorded_at = ? WHERE publisher = ? AND version = ?'),
  };
}

/** The same statements, each use of one (run, get, all, iterate) made through `guard`; nested groups too. */
export function guardStatements<S extends object>(statements: S, guard: <T>(use: () => T) => T): S {
  const guarded: Record<string, unknown> = {};
  for (const [name, statement] of Object.entries(statements) as [string, object][]) {
    if (Object.getPrototypeOf(statement) === Object.prototype) {
      guarded[name] = guardStatements(statement, guard);
      continue;
    }
    guarded[name] = new Proxy(statement, {
      get(target, prop, receiver) {
        const value = Reflect.get(target, prop, receiver) as unknown;
        if (prop !== 'run' && prop !== 'get' && prop !== 'all' && prop !== 'iterate') return value;
        return (...args: unknown[]) => guard(() => (value as (...a: unknown[]) => unknown).apply(target, args));
      },
    });
  }
  return guarded as S;
}
