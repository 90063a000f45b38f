// Real SQLite states in temp dirs for use-case tests: each test's dirs and states are closed and
// removed after it.
import { afterEach } from 'vitest';
import { SqliteState } from '../../src/infra/state/sqliteState.ts';
import { makeTempDir, removeDir } from '../../dev/world/publishFixtures.ts';

export function tempStates(): {
  /** A temp dir removed after the test. */
  dir(prefix?: string): string;
  /** A SQLite state in a fresh data dir. */
  open(): Promise<{ state: SqliteState; dataDir: string }>;
} {
  const dirs: string[] = [];
  const states: SqliteState[] = [];
  afterEach(async () => {
    for (const s of states.splice(0)) await s.close();
    for (const d of dirs.splice(0)) removeDir(d);
  });
  const dir = (prefix?: string) => {
    const d = makeTempDir(prefix);
    dirs.push(d);
    return d;
  };
  return {
    dir,
    async open() {
      const dataDir = dir('smvbot-data-');
      const { store: state } = await SqliteState.open(dataDir);
      states.push(state);
      return { state, dataDir };
    },
  };
}
