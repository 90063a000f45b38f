// Rows as both state stores keep them (same tables, same column names) and the records they
// stand for: one mapping for SQLite and PostgreSQL.
import type { VersionSummary } from '../../core/statePort.ts';
import type { AdoptionState } from '../../domain/adoptionSettlement.ts';
import type { AdoptionIntent, AdoptionRecord, AnnouncementRecord, AnnouncementStatus, Deprecation, Freeze, StoredModule, QueuedCommand, Subscription, VersionRecord } from '../../domain/records.ts';

export interface VersionRow {
  publisher: string;
  version: string;
  stages: string;
  modules: string;
  module_count: number;
  /** PostgreSQL returns BIGINT as a string. */
  bytes: number | string;
  completed_at: string;
  recorded_at: string;
  removed_at: string | null;
}

export interface AnnouncementRow {
  publisher: string;
  version: string;
  channel: string;
  status: AnnouncementStatus;
  ts: string | null;
  attempts: number;
  last_error: string | null;
  updated_at: string;
}

export interface AdoptionRow {
  seq: number | string;
  id: string;
  state: AdoptionState;
  intended_at: string;
  settled_at: string | null;
  action: 'adopt' | 'unpin';
  consumer: string;
  stage: string;
  from_version: string | null;
  to_version: string | null;
  commit_sha: string;
  parent_sha: string;
  mode: 'push' | 'branch';
  target: string;
  user_id: string;
  user_name: string;
  channel: string | null;
}

export function toVersionRecord(row: VersionRow): VersionRecord {
  return {
    publisher: row.publisher,
    version: row.version,
    stages: JSON.parse(row.stages) as string[],
    modules: JSON.parse(row.modules) as StoredModule[],
    bytes: Number(row.bytes),
    completedAt: row.completed_at,
    recordedAt: row.recorded_at,
    removedAt: row.removed_at,
  };
}

export function toAnnouncementRecord(row: AnnouncementRow): AnnouncementRecord {
  return {
    publisher: row.publisher,
    version: row.version,
    channel: row.channel,
    status: row.status,
    ts: row.ts,
    attempts: row.attempts,
    lastError: row.last_error,
    updatedAt: row.updated_at,
  };
}

export function toAdoptionRecord(row: AdoptionRow): AdoptionRecord {
  return {
    id: row.id,
    at: row.settled_at ?? row.intended_at,
    action: row.action,
    consumer: row.consumer,
    stage: row.stage,
    from: row.from_version,
    to: row.to_version,
    commit: row.commit_sha,
    mode: row.mode,
    ...(row.mode === 'branch' && row.target ? { branch: row.target } : {}),
    user: { id: row.user_id, name: row.user_name },
  };
}

export function toAdoptionIntent(row: AdoptionRow): AdoptionIntent {
  return {
    id: row.id,
    intendedAt: row.intended_at,
    action: row.action,
    consumer: row.consumer,
    stage: row.stage,
    from: row.from_version,
    to: row.to_version,
    commit: row.commit_sha,
    parent: row.parent_sha,
    mode: row.mode,
    target: row.target,
    user: { id: row.user_id, name: row.user_name },
    channel: row.channel,
  };
}

/** A version row as a stage's list shows it (no module list). */
export function toVersionSummary(row: VersionRow): VersionSummary {
  return {
    publisher: row.publisher,
    version: row.version,
    stages: JSON.parse(row.stages) as string[],
    moduleCount: row.module_count,
    bytes: Number(row.bytes),
    completedAt: row.completed_at,
    removed: row.removed_at !== null,
  };
}

export interface DeprecationRow {
  stage: string;
  version: string;
  reason: string | null;
  user_id: string;
  user_name: string;
  at: string;
}

export function toDeprecation(row: DeprecationRow): Deprecation {
  return { stage: row.stage, version: row.version, reason: row.reason, by: { id: row.user_id, name: row.user_name }, at: row.at };
}

export interface SubscriptionRow {
  channel: string;
  stage: string;
  user_id: string;
  user_name: string;
  at: string;
}

export function toSubscription(row: SubscriptionRow): Subscription {
  return { channel: row.channel, stage: row.stage, by: { id: row.user_id, name: row.user_name }, at: row.at };
}

export interface FreezeRow {
  consumer: string;
  frozen_by_id: string;
  frozen_by_name: string;
  reason: string | null;
  frozen_at: string;
  until: string | null;
}

export function toFreeze(row: FreezeRow): Freeze {
  return { consumer: row.consumer, by: { id: row.frozen_by_id, name: row.frozen_by_name }, reason: row.reason, frozenAt: row.frozen_at, until: row.until };
}

/** The columns of a freeze, in FreezeRow's order, for an insert. */
export function freezeValues(f: Freeze): [string, string, string, string | null, string, string | null] {
  return [f.consumer, f.by.id, f.by.name, f.reason, f.frozenAt, f.until];
}

/**
 * Migration 5, both stores: change freezes (SPEC §4 `/smv freeze`), one per consumer. `until` is an
 * ISO time compared with the clock at every check (null: until unfrozen).
 */
export function freezesMigration(strict: 'STRICT' | ''): string {
  const S = strict ? ' STRICT' : '';
  return `
  CREATE TABLE freezes (
    consumer TEXT PRIMARY KEY,
    frozen_by_id TEXT NOT NULL,
    frozen_by_name TEXT NOT NULL,
    reason TEXT,
    frozen_at TEXT NOT NULL,
    until TEXT
  )${S};
  `;
}

/**
 * Migration 2, the same tables in both stores (SQLite adds STRICT): deprecations, whom they were
 * told, channel subscriptions, and a combined message's place in its burst.
 */
export function lifecycleMigration(strict: 'STRICT' | ''): string {
  const S = strict ? ' STRICT' : '';
  return `
  CREATE TABLE deprecations (
    stage TEXT NOT NULL,
    version TEXT NOT NULL,
    reason TEXT,
    user_id TEXT NOT NULL,
    user_name TEXT NOT NULL,
    at TEXT NOT NULL,
    PRIMARY KEY (stage, version)
  )${S};
  CREATE TABLE deprecation_notices (
    stage TEXT NOT NULL,
    version TEXT NOT NULL,
    consumer TEXT NOT NULL,
    channel TEXT NOT NULL,
    at TEXT NOT NULL,
    PRIMARY KEY (stage, version, consumer, channel)
  )${S};
  CREATE TABLE subscriptions (
    channel TEXT NOT NULL,
    stage TEXT NOT NULL,
    user_id TEXT NOT NULL,
    user_name TEXT NOT NULL,
    at TEXT NOT NULL,
    PRIMARY KEY (channel, stage)
  )${S};
  CREATE INDEX subscriptions_by_stage ON subscriptions (stage);
  -- A combined message's place in its burst (JSON {part, parts, total}), to render its updates alike.
  ALTER TABLE announcements ADD COLUMN layout TEXT;
  CREATE INDEX announcements_by_message ON announcements (channel, ts) WHERE ts IS NOT NULL;
  `;
}

/** Migration 3, both stores: durable commands (SPEC §5 "Durable"). `seq` is declared by each store. */
export function commandsMigration(seq: string, strict: 'STRICT' | ''): string {
  const S = strict ? ' STRICT' : '';
  return `
  CREATE TABLE commands (
    seq ${seq},
    id TEXT NOT NULL UNIQUE,
    queue TEXT NOT NULL,
    request TEXT NOT NULL,           -- JSON CommandRequest
    user_id TEXT NOT NULL,
    channel TEXT NOT NULL,
    response_url TEXT,
    received_at TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('pending', 'done')),
    attempts INTEGER NOT NULL DEFAULT 0,
    lease_owner TEXT,
    lease_until TEXT,
    finished_at TEXT,
    outcome TEXT
  )${S};
  CREATE INDEX commands_open ON commands (queue, seq) WHERE state = 'pending';
  `;
}

export interface CommandRow {
  id: string;
  queue: string;
  request: string;
  user_id: string;
  channel: string;
  response_url: string | null;
  received_at: string;
  attempts: number;
}

export function toQueuedCommand(row: CommandRow): QueuedCommand {
  return {
    id: row.id,
    queue: row.queue,
    request: JSON.parse(row.request) as QueuedCommand['request'],
    userId: row.user_id,
    channelId: row.channel,
    responseUrl: row.response_url,
    receivedAt: row.received_at,
    attempts: Number(row.attempts),
  };
}

/**
 * The heads of the queues that no live worker holds: the oldest pending command of each queue,
 * when its lease (if any) has run out. `$at` and `$limit` are bound by the caller.
 */
export const CLAIMABLE_COMMANDS = `
  SELECT c.seq FROM commands c
  WHERE c.state = 'pending' AND (c.lease_until IS NULL OR c.lease_until < $at)
    AND NOT EXISTS (SELECT 1 FROM commands e WHERE e.queue = c.queue AND e.state = 'pending' AND e.seq < c.seq)
  ORDER BY c.seq LIMIT $limit`;
