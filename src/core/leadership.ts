// Which replica scans and announces (SPEC §6): one at a time. Infra decides (an advisory lock
// in PostgreSQL; the data-dir lock with SQLite); core and the composition root only ask.

export type Role = 'leader' | 'follower';

export interface Leadership {
  role(): Role;
  /** Told on each change of role, after it took effect (a new leader's fencing number is raised). */
  onChange(listener: (role: Role) => void): void;
  /** Gives leadership up (another replica takes over) and stops trying to get it. */
  stop(): Promise<void>;
  /** Who leads and the lease's state, read from the shared state (absent: this process alone). */
  report?(): Promise<LeadershipReport>;
  /** A follower asks the leader to scan now (the publish hook reached a follower); absent: this process alone. */
  requestScan?(): Promise<void>;
  /** Told when another replica asked this leader to scan. */
  onScanRequested?(listener: () => void): void;
}

/** One process holds the data dir (SQLite): it is the leader for as long as it runs. */
export function soleLeadership(): Leadership {
  let stopped = false;
  return {
    role: () => (stopped ? 'follower' : 'leader'),
    onChange: () => undefined,
    stop: async () => {
      stopped = true;
    },
  };
}

/** Who leads, as the shared state has it, for /healthz (SPEC §4). */
export interface LeadershipReport {
  /** The replica holding the lease (`<host> pid <pid>`); null before any took it. */
  holder: string | null;
  /** Whether that is this replica. */
  self: boolean;
  /** How long the lease lasts unrenewed; null without a lease (one SQLite process leads while it runs). */
  leaseSeconds: number | null;
  /** When the lease ends unless renewed (ISO; the database's clock). */
  expiresAt: string | null;
  /** When it was last renewed. */
  renewedAt: string | null;
  /** How long ago it ran out, by the database's clock; 0 while it holds. */
  expiredForSeconds: number;
}

/**
 * The /healthz problem when no leader has renewed the lease for longer than the lease lasts:
 * nothing is being scanned or announced. None while a leader renews it.
 */
export function leadershipProblem(report: LeadershipReport): { kind: string; detail: string } | null {
  if (report.leaseSeconds === null || report.expiresAt === null || report.expiredForSeconds <= 0) return null;
  return {
    kind: 'no-leader',
    detail:
      `No replica has renewed the leader lease for ${report.expiredForSeconds + report.leaseSeconds} s (lease ${report.leaseSeconds} s, ` +
      `last renewed ${report.renewedAt ?? 'never'} by ${report.holder ?? 'nobody'}): nothing is scanned or announced until a replica takes it. ` +
      'A running follower takes it within a second; if none does, check that the replicas are running and reach the database.',
  };
}
