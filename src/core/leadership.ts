// Which replica scans and announces (SPEC §6): one at a time. Infra decides (an advisory lock
// in PostgreSQL; the data-dir lock with SQLite); core and the composition root only ask.

export type Role = 'leader' | 'follower';

export interface Leadership {
  role(): Role;
  /** Told on each change of role, after it took effect (a new leader's fencing number is raised). */
  onChange(listener: (role: Role) => void): void;
  /** Gives leadership up (another replica takes over) and stops trying to get it. */
  stop(): Promise<void>;
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
