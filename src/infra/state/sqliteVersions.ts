// The embedded store's versions and their announcements. Each announcement moves by the domain's
// status table; one process holds the file, so a guarded UPDATE in a transaction is the whole claim.
import { announcementChannels, ANNOUNCEMENT_TRANSITIONS, firstStatus } from '../../domain/announcementStatus.ts';
import type { AnnouncementRecord, AnnouncementStatus, AnnouncementTask, NewVersion, VersionRecord } from '../../domain/records.ts';
import type { AnnouncementKey, MessageLayout, VersionSummary } from '../../core/statePort.ts';
import type { SettlingEvent, SqliteAccess, Statements } from './sqliteStatements.ts';
import { toAnnouncementRecord, toVersionRecord, toVersionSummary, type AnnouncementRow, type VersionRow } from './stateRows.ts';
import type { VersionsPort } from './storeParts.ts';

/** Versions recorded per step of a long recording (a few ms each). */
const RECORD_STEP = 250;


export class SqliteVersions implements VersionsPort {
  readonly #st: Statements;
  readonly #db: SqliteAccess;

  constructor(db: SqliteAccess) {
    this.#db = db;
    this.#st = db.st;
  }

  async publisherKnown(publisher: string): Promise<boolean> {
    return this.#st.getPublisher.get(publisher) !== undefined;
  }

  async eachKnownVersion(publisher: string, visit: (version: string, removed: boolean) => void): Promise<void> {
    for (const row of this.#st.knownVersions.iterate(publisher) as Iterable<{ version: string; removed: number }>) visit(row.version, row.removed === 1);
  }

  async recordVersions(publisher: string, versions: readonly NewVersion[], opts: { channels: readonly string[]; silent: boolean; at: string }): Promise<void> {
    const status = firstStatus(opts.silent);
    // Read inside the transaction: no other change runs before it commits (one process, one writer).
    let subscriptions: { channel: string; stage: string }[] | undefined;
    const record = (v: NewVersion): void => {
      const added = this.#st.addVersion.run(publisher, v.version, JSON.stringify(v.stages), JSON.stringify(v.modules), v.modules.length, v.bytes, v.completedAt, opts.at);
      // Recording a known version again changes nothing: its announcements stay as they are.
      if (added.changes === 0) return;
      for (const stage of v.stages) this.#st.addVersionStage.run(stage, publisher, v.version, v.completedAt);
      subscriptions ??= this.#st.subscriptions.all() as { channel: string; stage: string }[];
      for (const channel of announcementChannels(opts.channels, subscriptions, v.stages)) this.#st.addAnnouncement.run(publisher, v.version, channel, status, opts.at);
    };
    if (versions.length <= RECORD_STEP) {
      await this.#db.write(() => {
        this.#st.addPublisher.run(publisher, opts.at);
        versions.forEach(record);
      });
      return;
    }
    // Still one transaction (a first start killed part-way records all or nothing), in steps.
    const steps = function* (st: Statements) {
      yield () => void st.addPublisher.run(publisher, opts.at);
      for (let i = 0; i < versions.length; i += RECORD_STEP) yield () => versions.slice(i, i + RECORD_STEP).forEach(record);
    };
    await this.#db.writeInSteps(steps(this.#st));
  }

  async markRemoved(publisher: string, versions: readonly string[], at: string | null): Promise<void> {
    if (!versions.length) return;
    await this.#db.write(() => {
      for (const version of versions) this.#st.setRemoved.run(at, publisher, version);
    });
  }

  async getVersion(publisher: string, version: string): Promise<VersionRecord | undefined> {
    const row = this.#st.getVersion.get(publisher, version) as VersionRow | undefined;
    return row ? toVersionRecord(row) : undefined;
  }

  async versionsOfStage(stage: string, opts: { includeRemoved: boolean; limit?: number }): Promise<VersionSummary[]> {
    const statement = opts.includeRemoved ? this.#st.versionsOfStageAll : this.#st.versionsOfStagePublished;
    const rows = statement.all(stage, opts.limit ?? -1) as VersionRow[];
    return rows.map(toVersionSummary);
  }

  async countPublishedOfStage(stage: string): Promise<number> {
    return (this.#st.countPublishedOfStage.get(stage) as { n: number }).n;
  }

  async countVersions(): Promise<number> {
    return (this.#st.countVersions.get() as { n: number }).n;
  }

  async pendingAnnouncements(limit = 1000): Promise<AnnouncementTask[]> {
    const rows = this.#st.pendingAnnouncements.all(limit) as (VersionRow & { channel: string; attempts: number })[];
    return rows.map((row) => ({ channel: row.channel, attempts: row.attempts, version: toVersionRecord(row) }));
  }

  async claimAnnouncements(keys: readonly AnnouncementKey[], at: string): Promise<AnnouncementKey[]> {
    if (!keys.length) return [];
    return this.#db.write(() => keys.filter((key) => this.#st.claim.run(at, key.publisher, key.version, key.channel).changes === 1));
  }

  async markPosted(keys: readonly AnnouncementKey[], ts: string, at: string, layout?: MessageLayout): Promise<void> {
    if (!keys.length) return;
    await this.#db.write(() => {
      for (const key of keys) {
        this.#settle('posted', key, ts, null, at);
        if (layout) this.#st.setLayout.run(JSON.stringify(layout), key.publisher, key.version, key.channel);
      }
    });
  }

  async postedMessagesOf(publisher: string, version: string): Promise<{ channel: string; ts: string }[]> {
    return this.#st.postedMessagesOf.all(publisher, version) as { channel: string; ts: string }[];
  }

  async messageContents(channel: string, ts: string): Promise<{ versions: { publisher: string; version: VersionRecord }[]; layout: MessageLayout | null }> {
    const rows = this.#st.messageContents.all(channel, ts) as (VersionRow & { layout: string | null })[];
    const layout = rows.find((r) => r.layout !== null)?.layout;
    return { versions: rows.map((row) => ({ publisher: row.publisher, version: toVersionRecord(row) })), layout: layout ? (JSON.parse(layout) as MessageLayout) : null };
  }

  async markRetry(keys: readonly AnnouncementKey[], error: string, at: string): Promise<void> {
    await this.#settleAll('retry', keys, error, at);
  }

  async markFailed(keys: readonly AnnouncementKey[], error: string, at: string): Promise<void> {
    await this.#settleAll('failed', keys, error, at);
  }

  async markUnknown(keys: readonly AnnouncementKey[], reason: string, at: string): Promise<void> {
    await this.#settleAll('unknown', keys, reason, at);
  }

  /** One key moved by `event` (when its status allows); false when it did not. */
  #settle(event: SettlingEvent, key: AnnouncementKey, ts: string | null, error: string | null, at: string): boolean {
    return this.#st.settle[event].run(ts, error, at, key.publisher, key.version, key.channel).changes === 1;
  }

  async #settleAll(event: SettlingEvent, keys: readonly AnnouncementKey[], error: string, at: string): Promise<void> {
    if (!keys.length) return;
    await this.#db.write(() => {
      for (const key of keys) this.#settle(event, key, null, error, at);
    });
  }

  async settleUnknownAsPosted(key: AnnouncementKey, ts: string, at: string): Promise<boolean> {
    return this.#db.write(() => this.#settle('found-in-history', key, ts, null, at));
  }

  async settleUnknownAsNotPosted(key: AnnouncementKey, note: string, at: string): Promise<boolean> {
    return this.#db.write(() => this.#settle('absent-from-history', key, null, note, at));
  }

  async reopenFailedPosts(failedBefore: string, at: string): Promise<AnnouncementRecord[]> {
    return this.#db.write(() => {
      const rows = this.#st.failedBefore.all(failedBefore) as AnnouncementRow[];
      for (const row of rows) this.#st.reopen.run(at, row.publisher, row.version, row.channel);
      return rows.map((row) => toAnnouncementRecord({ ...row, status: ANNOUNCEMENT_TRANSITIONS.reopen.to, updated_at: at }));
    });
  }

  async settleInterruptedPosts(reason: string, at: string): Promise<AnnouncementRecord[]> {
    return this.#db.write(() => {
      const rows = this.#st.interruptedPosts.all() as AnnouncementRow[];
      for (const row of rows) this.#settle('interrupted', row, null, reason, at);
      return rows.map((row) => toAnnouncementRecord({ ...row, status: ANNOUNCEMENT_TRANSITIONS.interrupted.to, last_error: reason, updated_at: at }));
    });
  }

  async announcementsIn(statuses: readonly AnnouncementStatus[], limit: number): Promise<AnnouncementRecord[]> {
    const rows: AnnouncementRow[] = [];
    for (const status of statuses) rows.push(...(this.#st.announcementsIn.all(status, limit) as AnnouncementRow[]));
    rows.sort((a, b) => (a.updated_at < b.updated_at ? 1 : a.updated_at > b.updated_at ? -1 : 0));
    return rows.slice(0, limit).map(toAnnouncementRecord);
  }
}
