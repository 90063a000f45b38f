import { BaseSequencer, type TestSpecification } from 'vitest/node';
import { defineConfig } from 'vitest/config';

/**
 * The two heaviest files spawn many bot processes each (crash: 32 kill -9 restarts; replicas:
 * several bots on one database): on two cores they are kept apart, crash first, replicas last.
 */
class HeavyFilesApart extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const rank = (f: TestSpecification) => (f.moduleId.endsWith('/crash.test.ts') ? 0 : f.moduleId.endsWith('/replicas.test.ts') ? 2 : 1);
    return (await super.sort(files)).sort((a, b) => rank(a) - rank(b));
  }
}

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Checks the system tools and provides PostgreSQL (local or embedded) once per run.
    globalSetup: ['test/support/globalSetup.ts'],
    // Tests spawn git, java and real HTTP servers; two cores, so keep parallelism modest.
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 60_000,
    hookTimeout: 60_000,
    sequence: { sequencer: HeavyFilesApart },
  },
});
