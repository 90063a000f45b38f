// Reads the state written by smvbot releases before the SQLite store (`smvbot.json`, a lowdb
// snapshot, plus `smvbot.journal`, one JSON change per line) so it can be imported once.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import type { AdoptionRecord, AnnouncementStatus, StoredModule } from '../../domain/records.ts';
import { StateCorruptError } from '../../core/statePort.ts';

export const LEGACY_STATE_FILE = 'smvbot.json';
export const LEGACY_JOURNAL_FILE = 'smvbot.journal';

export interface LegacyAnnouncement {
  status: Exclude<AnnouncementStatus, 'unknown'>;
  ts?: string;
  attempts: number;
  lastError?: string;
  updatedAt: string;
}

export interface LegacyVersion {
  version: string;
  stages: string[];
  modules: StoredModule[];
  bytes: number;
  completedAt: string;
  recordedAt: string;
  removedAt?: string;
  announcements: Record<string, LegacyAnnouncement>;
}

export interface LegacyState {
  initializedAt: string | null;
  publishers: Record<string, { versions: Record<string, LegacyVersion> }>;
  adoptions: AdoptionRecord[];
}

const isoString = z.string().min(1);
const announcementSchema = z.object({
  status: z.enum(['silent', 'pending', 'in_flight', 'posted', 'failed']),
  ts: z.string().optional(),
  attempts: z.number().int().nonnegative(),
  lastError: z.string().optional(),
  updatedAt: isoString,
});
const versionSchema = z.object({
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
  schemaVersion: z.literal(1),
  initializedAt: isoString.nullable(),
  publishers: z.record(z.string(), z.object({ versions: z.record(z.string(), versionSchema) })),
  adoptions: z.array(adoptionSchema),
});
const changeSchema = z.discriminatedUnion('op', [
  z.object({ op: z.literal('initialized'), at: isoString }),
  z.object({ op: z.literal('publisher'), publisher: z.string() }),
  z.object({ op: z.literal('version'), publisher: z.string(), stored: versionSchema }),
  z.object({ op: z.literal('announcement'), publisher: z.string(), version: z.string(), channel: z.string(), announcement: announcementSchema }),
  z.object({ op: z.literal('removed'), publisher: z.string(), version: z.string(), at: isoString.nullable() }),
  z.object({ op: z.literal('adoption'), record: adoptionSchema }),
]);
type Change = z.infer<typeof changeSchema>;

/** The legacy files present in the data dir (either may be missing). */
export async function legacyFilesIn(dataDir: string): Promise<string[]> {
  const files = [LEGACY_STATE_FILE, LEGACY_JOURNAL_FILE].map((f) => path.join(dataDir, f));
  const present: string[] = [];
  for (const file of files) {
    if (await readFile(file).then(() => true, () => false)) present.push(file);
  }
  return present;
}

/** Snapshot + journal, as the old release would have seen them at its next start. Never writes. */
export async function readLegacyState(dataDir: string): Promise<LegacyState> {
  const file = path.join(dataDir, LEGACY_STATE_FILE);
  const state = (await readSnapshot(file)) ?? { initializedAt: null, publishers: {}, adoptions: [] };
  const ids = new Set(state.adoptions.map((a) => a.id));
  for (const change of await readJournal(path.join(dataDir, LEGACY_JOURNAL_FILE))) applyChange(state, change, ids);
  return state;
}

async function readText(file: string): Promise<string | null> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}

async function readSnapshot(file: string): Promise<LegacyState | null> {
  const text = await readText(file);
  if (text === null) return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new StateCorruptError(file, `it is not valid JSON (${(err as Error).message})`);
  }
  const checked = stateSchema.safeParse(parsed);
  if (!checked.success) {
    const first = checked.error.issues.slice(0, 3).map((issue) => `${issue.path.length ? issue.path.join('.') : 'top level'}: ${issue.message}`);
    const more = checked.error.issues.length > 3 ? `, and ${checked.error.issues.length - 3} more` : '';
    throw new StateCorruptError(file, `it does not have the shape of smvbot state (${first.join('; ')}${more})`);
  }
  return checked.data as LegacyState;
}

/** Changes recorded after the snapshot. A torn final line (crash mid-append) never happened. */
async function readJournal(file: string): Promise<Change[]> {
  const text = await readText(file);
  if (text === null) return [];
  const lines = text.split('\n');
  // Index of the last non-blank line: only that one may be torn.
  let last = lines.length - 1;
  while (last >= 0 && !lines[last]!.trim()) last--;
  const changes: Change[] = [];
  for (let i = 0; i <= last; i++) {
    const line = lines[i]!;
    if (!line.trim()) continue;
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch (err) {
      if (i === last && !text.endsWith('\n')) break;
      throw new StateCorruptError(file, `line ${i + 1} is not valid JSON (${(err as Error).message})`);
    }
    const checked = changeSchema.safeParse(parsed);
    if (!checked.success) throw new StateCorruptError(file, `line ${i + 1} is not a smvbot state change`);
    changes.push(checked.data);
  }
  return changes;
}

function applyChange(d: LegacyState, change: Change, adoptionIds: Set<string>): void {
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
      if (adoptionIds.has(change.record.id)) return;
      adoptionIds.add(change.record.id);
      d.adoptions.push(change.record);
      return;
  }
}
