// Persistent bot state (SPEC §6): known versions with their announcement status, and the adoption log.
// lowdb's DataFile writes through steno: temp file `.smvbot.json.tmp` + rename, so a crash never
// leaves a half-written state file. This module adds validation on open and one-at-a-time writes.
// The file is compact JSON (no indentation): every change rewrites the whole history, and with
// 10,000 versions indentation nearly doubles the bytes (7.9 MB → 4.2 MB) and the time per write.
// Read it with `jq . smvbot.json`.
import type { AdoptionAudit } from '../core/adopt.ts';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { Low } from 'lowdb';
import { DataFile } from 'lowdb/node';
import { z } from 'zod';

export const STATE_FILE_NAME = 'smvbot.json';
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

export class StateStore {
  readonly file: string;
  readonly #db: Low<StateData>;
  #writing: Promise<void> | null = null;
  #queued: Promise<void> | null = null;
  #closed = false;

  private constructor(file: string, db: Low<StateData>) {
    this.file = file;
    this.#db = db;
  }

  /** Open `<dataDir>/smvbot.json`; a missing file starts empty state, a corrupt one throws StateFileCorruptError. */
  static async open(dataDir: string): Promise<StateStore> {
    const file = path.join(path.resolve(dataDir), STATE_FILE_NAME);
    const existing = await readExistingState(file);
    const adapter = new DataFile<StateData>(file, { parse: JSON.parse, stringify: (data) => JSON.stringify(data) });
    const db = new Low<StateData>(adapter, existing ?? emptyState());
    const store = new StateStore(file, db);
    if (existing === null) await store.#persist();
    return store;
  }

  /** Current state. Read only: change it through update() or the helpers so it gets saved. */
  get data(): Readonly<StateData> {
    return this.#db.data;
  }

  /**
   * Apply a change and save it. Writes run one at a time; changes made while a write
   * is running are saved together by the next write. If `fn` throws, nothing is saved.
   */
  async update(fn: (data: StateData) => void): Promise<void> {
    if (this.#closed) throw new Error(`State store ${this.file} is closed; no further changes can be saved.`);
    fn(this.#db.data);
    await this.#persist();
  }

  markInitialized(at: string): Promise<void> {
    return this.update((d) => {
      d.initializedAt = at;
    });
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
    return this.update((d) => {
      const versions = (d.publishers[publisher] ??= { versions: {} }).versions;
      const previous = versions[stored.version];
      versions[stored.version] = previous
        ? { ...stored, announcements: { ...stored.announcements, ...previous.announcements } }
        : stored;
    });
  }

  setAnnouncement(publisher: string, version: string, channel: string, announcement: Announcement): Promise<void> {
    return this.update((d) => {
      requireVersion(d, publisher, version).announcements[channel] = announcement;
    });
  }

  markRemoved(publisher: string, version: string, at: string): Promise<void> {
    return this.update((d) => {
      requireVersion(d, publisher, version).removedAt = at;
    });
  }

  appendAdoption(record: AdoptionRecord): Promise<void> {
    return this.update((d) => {
      d.adoptions.push(record);
    });
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

  /** Wait for pending writes; later changes are refused. */
  async close(): Promise<void> {
    this.#closed = true;
    await this.#queued?.catch(() => undefined);
    await this.#writing?.catch(() => undefined);
  }

  // One write at a time; any number of requests during a write share the single next write.
  #persist(): Promise<void> {
    if (this.#queued) return this.#queued;
    if (!this.#writing) return this.#startWrite();
    const queued = this.#writing
      .catch(() => undefined)
      .then(() => {
        this.#queued = null;
        return this.#startWrite();
      });
    this.#queued = queued;
    return queued;
  }

  #startWrite(): Promise<void> {
    const writing = this.#db.write().finally(() => {
      if (this.#writing === writing) this.#writing = null;
    });
    this.#writing = writing;
    return writing;
  }
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
