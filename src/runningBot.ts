// What startBot takes and gives back: the bot's API for npm start, the demo, the bench and tests.
import type { DigestRunSummary } from './core/digest.ts';
import type { Role } from './core/leadership.ts';
import type { ReconcileSummary } from './core/reconcileAdoptions.ts';
import type { ScanSummary } from './core/scanAndAnnounce.ts';
import type { StatePort } from './core/statePort.ts';
import type { Logger } from './infra/runtime/logger.ts';
import type { SlackAppOptions } from './slack/app.ts';

export interface StartOptions {
  logger?: Logger;
  /** Web API retry policy; tests shorten it. */
  retryConfig?: SlackAppOptions['retryConfig'];
  /** Limit for one Web API request (default 10 s). */
  apiTimeoutMs?: number;
  /** Least time between two announcements in one channel (default 1 s). */
  channelIntervalMs?: number;
  /** Skip the cron schedule and file watching (tests drive scans with `scanNow`). */
  manualScans?: boolean;
  /** With PostgreSQL: how often a follower tries for leadership (default 1000 ms). */
  leaderPollMs?: number;
}

export interface RunningBot {
  port: number;
  /**
   * Runs a scan now (joins one in progress), then posts what is pending; `post: false` stops after
   * the scan (the bench times a scan alone). A follower does not scan and returns an empty summary.
   */
  scanNow(opts?: { post?: boolean }): Promise<ScanSummary>;
  /**
   * Posts the digest of stale pins now (joins one in progress), counting ages and soak times at
   * `now` (default: the clock). A follower posts nothing and says so in `skipped`.
   */
  digestNow(opts?: { now?: Date }): Promise<DigestRunSummary>;
  state: StatePort;
  /** Whether this replica scans and announces (always `leader` with SQLite). */
  role(): Role;
  /** Settles adoptions a crash interrupted (runs once at start-up; tests await it). */
  reconciled: Promise<ReconcileSummary>;
  /** Looks again at unsettled and recently abandoned adoptions (scheduled every minute unless scans are manual). */
  reconcileNow(): Promise<ReconcileSummary>;
  stop(): Promise<void>;
}
