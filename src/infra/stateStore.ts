// Persistent bot state (SPEC §6): known versions with their announcement status, and the adoption log.
//
// `smvbot.json` is the lowdb snapshot, written through steno (temp file + rename), so a crash never
// leaves it half-written. Rewriting the whole history on every change would make each change cost
// O(history) (4 MB and ~65 ms at 10,000 versions), so small changes are appended to
// `smvbot.journal` (one JSON line each) and folded into the snapshot at open, on close, and when the
// journal grows past a threshold. Replaying is idempotent, so a crash between writing the snapshot
// and truncating the journal is harmless; a torn last line (crash mid-append) is a change that never
// happened. The snapshot is compact JSON: read it with `jq . smvbot.json`.
import type { AdoptionAudit } from '../core/adopt.ts';
import { appendFile, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { Low } from 'lowdb';
import { DataFile } from 'lowdb/node';
import { z } from 'zod';

export const STATE_FILE_NAME = 'smvbot.json';
export const JOURNAL_FILE_NAME = 'smvbot.journal';
/** Fold the journal into the snapshot once it holds this much (amortises the O(history) write). */
const COMPACT_AFTER_BYTES = 2 * 1024 * 1024;
export const STATE_SCHEMA_VERSION = 1;

export type AnnouncementStatus = 'silent' | 'pending' | 'in_flight' | 'posted' | 'failed';

export interface Announcement {
  status: AnnouncementStatus;
  /** Slack message ts once posted. */
  ts?: string;
  attempts: number;
  lastError?: string;
  updatedAt: string;
}

export interface StoredModule {
  fqn: string;
  stage: string | null;
  bytes: number;
}

export interface StoredVersion {
  version: string;
  stages: string[];
  /** No columns here: diff reads them from disk, which keeps the file small. */
  modules: StoredModule[];
  bytes: number;
  /** ISO time the version became complete. */
  completedAt: string;
  /** ISO time the bot first recorded it. */
  recordedAt: string;
  /** Set when the version dir disappears from the publish dir. */
  removedAt?: string;
  announcements: Record<string /* channel id */, Announcement>;
}

/** The audit record of one adopt/unpin, as the adopt use case defines it. */
export type AdoptionRecord = AdoptionAudit;

export interface PublisherState {
  versions: Record<string, StoredVersion>;
}

export interface StateData {
  schemaVersion: 1;
  /** Set after the first completed scan; before that, complete versions are recorded silently. */
  initializedAt: string | null;
  publishers: Record<string, PublisherState>;
  adoptions: AdoptionRecord[];
}

export interface AdoptionFilter {
  consumer?: string;
  stage?: string;
  limit?: number;
}

export function emptyState(): StateData {
  return { schemaVersion: 1, initializedAt: null, publishers: {}, adoptions: [] };
}

/** The state file exists but can't be used; it has not been touched. */
export class StateFileCorruptError extends Error {
  readonly code = 'state-corrupt';
  constructor(
    readonly file: string,
    readonly detail: string,
  ) {
    super(
      `The state file ${file} cannot be used: ${detail}. smvbot has not changed it. ` +
        `Restore it from a backup, or move it aside (mv ${file} ${file}.broken) to start with empty state ` +
        `(versions already published are then recorded again without being re-announced), and start smvbot again.`,
    );
    this.name = 'StateFileCorruptError';
  }
}

// Shape check on open. Objects are loose so fields added later survive a round trip.
const isoString = z.string().min(1);
const announcementSchema = z.object({
  status: z.enum(['silent', 'pending', 'in_flight', 'posted', 'failed']),
  ts: z.string().optional(),
  attempts: z.number().int().nonnegative(),
  lastError: z.string().optional(),
  updatedAt: isoString,
});
const storedVersionSchema = z.object({
  version: z.string().min(1),
  stages: z.array(z.string()),
  modules: z.array(z.object({ fqn: z.string(), stage: z.string().nullable(), bytes: z.number().nonnegative() })),
  bytes: z.number().nonnegative(),
  completedAt: isoString,
  recordedAt: isoString,
  removedAt: isoString.optional(),
  announcements: z.record(z.string(), announcementSchema),
});
const adoptionSchema = z.object({
  id: z.string().min(1),
  at: isoString,
  action: z.enum(['adopt', 'unpin']),
  consumer: z.string(),
  stage: z.string(),
  from: z.string().nullable(),
  to: z.string().nullable(),
  commit: z.string(),
  mode: z.enum(['push', 'branch']),
  branch: z.string().optional(),
  user: z.object({ id: z.string(), name: z.string() }),
});
const stateSchema = z.object({
  schemaVersion: z.literal(STATE_SCHEMA_VERSION),
  initializedAt: isoString.nullable(),
  publishers: z.record(z.string(), z.object({ versions: z.record(z.string(), storedVersionSchema) })),
  adoptions: z.array(adoptionSchema),
});

/** One small change, as appended to the journal. Applying one twice has the effect of applying it once. */
export type StateChange =
  | { op: 'initialized'; at: string }
  | { op: 'publisher'; publisher: string }
  | { op: 'version'; publisher: string; stored: StoredVersion }
  | { op: 'announcement'; publisher: string; version: string; channel: string; announcement: Announcement }
  | { op: 'removed'; publisher: string; version: string; at: string | null }
  | { op: 'adoption'; record: AdoptionRecord };

const changeSchema = z.discriminatedUnion('op', [
  z.object({ op: z.literal('initialized'), at: isoString }),
  z.object({ op: z.literal('publisher'), publisher: z.string() }),
  z.object({ op: z.literal('version'), publisher: z.string(), stored: storedVersionSchema }),
  z.object({ op: z.literal('announcement'), publisher: z.string(), version: z.string(), channel: z.string(), announcement: announcementSchema }),
  z.object({ op: z.literal('removed'), publisher: z.string(), version: z.string(), at: isoString.nullable() }),
  z.object({ op: z.literal('adoption'), record: adoptionSchema }),
]);

export class StateStore {
  readonly file: string;
  readonly journalFile: string;
  readonly #db: Low<StateData>;
  /** Every write (journal append or snapshot) runs in this chain, so they never interleave. */
  #tail: Promise<void> = Promise.resolve();
  #journalBytes = 0;
  #closed = false;

  private constructor(file: string, db: Low<StateData>) {
    this.file = file;
    this.journalFile = path.join(path.dirname(file), JOURNAL_FILE_NAME);
    this.#db = db;
  }

  /**
   * Open `<dataDir>/smvbot.json` (+ journal). A missing file starts empty state; a corrupt
   * snapshot or journal throws StateFileCorruptError and is left untouched.
   */
  static async open(dataDir: string): Promise<StateStore> {
    const file = path.join(path.resolve(dataDir), STATE_FILE_NAME);
    const existing = await readExistingState(file);
    const adapter = new DataFile<StateData>(file, { parse: JSON.parse, stringify: (data) => JSON.stringify(data) });
    const db = new Low<StateData>(adapter, existing ?? emptyState());
    const store = new StateStore(file, db);
    const replayed = await readJournal(store.journalFile);
    for (const change of replayed) applyChange(db.data, change);
    if (existing === null || replayed.length > 0) await store.#compact();
    return store;
  }

  /** Current state. Read only: change it through the methods below so it gets saved. */
  get data(): Readonly<StateData> {
    return this.#db.data;
  }

  /**
   * Apply any change and save a full snapshot (O(history): for rare, structural changes).
   * If `fn` throws, nothing is saved.
   */
  async update(fn: (data: StateData) => void): Promise<void> {
    this.#assertOpen();
    fn(this.#db.data);
    await this.#enqueue(() => this.#compact());
  }

  /** Apply small changes in memory at once and append them to the journal (O(change)). */
  async apply(changes: readonly StateChange[]): Promise<void> {
    this.#assertOpen();
    if (!changes.length) return;
    for (const change of changes) applyChange(this.#db.data, change);
    const lines = changes.map((c) => JSON.stringify(c) + '\n').join('');
    await this.#enqueue(async () => {
      await appendFile(this.journalFile, lines, 'utf8');
      this.#journalBytes += Buffer.byteLength(lines);
      if (this.#journalBytes >= COMPACT_AFTER_BYTES) await this.#compact();
    });
  }

  markInitialized(at: string): Promise<void> {
    return this.apply([{ op: 'initialized', at }]);
  }

  /** Versions known for a publisher, keyed by version name (empty when none). */
  getVersions(publisher: string): Readonly<Record<string, StoredVersion>> {
    return this.#db.data.publishers[publisher]?.versions ?? {};
  }

  getVersion(publisher: string, version: string): StoredVersion | undefined {
    return this.#db.data.publishers[publisher]?.versions[version];
  }

  /**
   * Record (or re-record) a version. Announcements already stored for it are kept,
   * so re-recording can never reset a posted message to pending.
   */
  recordVersion(publisher: string, stored: StoredVersion): Promise<void> {
    return this.apply([{ op: 'version', publisher, stored }]);
  }

  async setAnnouncement(publisher: string, version: string, channel: string, announcement: Announcement): Promise<void> {
    requireVersion(this.#db.data, publisher, version);
    return this.apply([{ op: 'announcement', publisher, version, channel, announcement }]);
  }

  /** Mark a version gone from the publish dir (`at`), or back again (null). */
  async markRemoved(publisher: string, version: string, at: string | null): Promise<void> {
    requireVersion(this.#db.data, publisher, version);
    return this.apply([{ op: 'removed', publisher, version, at }]);
  }

  appendAdoption(record: AdoptionRecord): Promise<void> {
    return this.apply([{ op: 'adoption', record }]);
  }

  /** Adoption log, newest first, optionally for one consumer and/or stage FQN. */
  adoptions(filter: AdoptionFilter = {}): AdoptionRecord[] {
    const limit = filter.limit ?? Infinity;
    const found: AdoptionRecord[] = [];
    const log = this.#db.data.adoptions;
    // Appended in time order, so walking backwards yields newest first.
    for (let i = log.length - 1; i >= 0 && found.length < limit; i--) {
      const rec = log[i]!;
      if (filter.consumer !== undefined && rec.consumer !== filter.consumer) continue;
      if (filter.stage !== undefined && rec.stage !== filter.stage) continue;
      found.push(rec);
    }
    return found;
  }

  /** Wait for pending writes, fold the journal into the snapshot; later changes are refused. */
  async close(): Promise<void> {
    if (this.#closed) return this.#tail;
    this.#closed = true;
    await this.#enqueue(async () => {
      if (this.#journalBytes > 0) await this.#compact();
    }).catch(() => undefined);
  }

  #assertOpen(): void {
    if (this.#closed) throw new Error(`State store ${this.file} is closed; no further changes can be saved.`);
  }

  #enqueue(work: () => Promise<void>): Promise<void> {
    const run = this.#tail.catch(() => undefined).then(work);
    this.#tail = run;
    return run;
  }

  /** Snapshot first (atomic rename), then drop the journal: a crash in between only replays it again. */
  async #compact(): Promise<void> {
    await this.#db.write();
    await rm(this.journalFile, { force: true });
    this.#journalBytes = 0;
  }
}

/** Apply one change to state in memory (the same code for live changes and journal replay). */
function applyChange(d: StateData, change: StateChange): void {
  switch (change.op) {
    case 'initialized':
      d.initializedAt ??= change.at;
      return;
    case 'publisher':
      d.publishers[change.publisher] ??= { versions: {} };
      return;
    case 'version': {
      const versions = (d.publishers[change.publisher] ??= { versions: {} }).versions;
      const previous = versions[change.stored.version];
      versions[change.stored.version] = previous
        ? { ...change.stored, announcements: { ...change.stored.announcements, ...previous.announcements } }
        : change.stored;
      return;
    }
    case 'announcement': {
      const stored = d.publishers[change.publisher]?.versions[change.version];
      if (stored) stored.announcements[change.channel] = change.announcement;
      return;
    }
    case 'removed': {
      const stored = d.publishers[change.publisher]?.versions[change.version];
      if (!stored) return;
      if (change.at === null) delete stored.removedAt;
      else stored.removedAt = change.at;
      return;
    }
    case 'adoption':
      if (!d.adoptions.some((a) => a.id === change.record.id)) d.adoptions.push(change.record);
      return;
  }
}

/** Changes recorded since the last snapshot. A torn final line (crash mid-append) is dropped. */
async function readJournal(file: string): Promise<StateChange[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const lines = text.split('\n');
  const changes: StateChange[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (!line.trim()) continue;
    const isLast = lines.slice(i + 1).every((l) => !l.trim());
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch (err) {
      if (isLast && !text.endsWith('\n')) break;
      throw new StateFileCorruptError(file, `line ${i + 1} is not valid JSON (${(err as Error).message})`);
    }
    const checked = changeSchema.safeParse(parsed);
    if (!checked.success) throw new StateFileCorruptError(file, `line ${i + 1} is not a smvbot state change`);
    changes.push(parsed as StateChange);
  }
  return changes;
}

/** State as a restart would see it (snapshot + journal), read without writing anything. */
export async function readStateOnDisk(dataDir: string): Promise<StateData> {
  const file = path.join(path.resolve(dataDir), STATE_FILE_NAME);
  const data = (await readExistingState(file)) ?? emptyState();
  for (const change of await readJournal(path.join(path.dirname(file), JOURNAL_FILE_NAME))) applyChange(data, change);
  return data;
}

export function openStateStore(dataDir: string): Promise<StateStore> {
  return StateStore.open(dataDir);
}

function requireVersion(d: StateData, publisher: string, version: string): StoredVersion {
  const stored = d.publishers[publisher]?.versions[version];
  if (!stored) throw new Error(`No recorded version ${version} for publisher ${publisher}; record it before updating it.`);
  return stored;
}

/** The validated state in the file, or null when there is no file yet. Never writes. */
async function readExistingState(file: string): Promise<StateData | null> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new StateFileCorruptError(file, `it is not valid JSON (${(err as Error).message})`);
  }
  const version = (parsed as { schemaVersion?: unknown } | null)?.schemaVersion;
  if (typeof version === 'number' && version > STATE_SCHEMA_VERSION) {
    throw new StateFileCorruptError(
      file,
      `it was written by a newer smvbot (state schema version ${version}, this smvbot reads version ${STATE_SCHEMA_VERSION}); upgrade smvbot`,
    );
  }
  const checked = stateSchema.safeParse(parsed);
  if (!checked.success) {
    const first = checked.error.issues.slice(0, 3).map((issue) => {
      const where = issue.path.length ? issue.path.join('.') : 'top level';
      return `${where}: ${issue.message}`;
    });
    const more = checked.error.issues.length > 3 ? `, and ${checked.error.issues.length - 3} more` : '';
    throw new StateFileCorruptError(file, `it does not have the shape of smvbot state (${first.join('; ')}${more})`);
  }
  // Keep the parsed JSON itself, so fields this version doesn't know survive the next write.
  return parsed as StateData;
}
