// The real PostgreSQL server the PostgreSQL tests use: SMVBOT_TEST_DATABASE_URL, which
// test/support/globalSetup.ts sets once per run (the local server on 127.0.0.1:5432 when it
// answers, else an embedded one it started) unless it was given. Never skipped: a server that
// does not answer fails the test saying which URL was tried. Each test gets its own schema,
// dropped afterwards. `npm run bench -- --replicas N` uses the same schemas, finding its server
// with `findPostgres` (outside vitest).
import { randomBytes } from 'node:crypto';
import pg from 'pg';

/** Null when a server answers `SELECT 1` at `url`, else why not (the URL's password masked). */
export async function probePostgres(url: string, timeoutMs = 3000): Promise<string | null> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: timeoutMs });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.query('SELECT 1');
    return null;
  } catch (error) {
    return `${url.replace(/:[^:@/]*@/, ':***@')}: ${(error as Error).message}`;
  } finally {
    await client.end().catch(() => undefined);
  }
}

let found: Promise<string> | undefined;

/** The server's URL (checked once per test process); throws when it does not answer. */
export function requirePostgres(): Promise<string> {
  found ??= (async () => {
    const url = process.env.SMVBOT_TEST_DATABASE_URL;
    if (!url) throw new Error('SMVBOT_TEST_DATABASE_URL is not set: run the tests through vitest (its globalSetup provides PostgreSQL)');
    const failure = await probePostgres(url, 5000);
    if (failure) throw new Error(`The PostgreSQL tests' server does not answer: ${failure}`);
    return url;
  })();
  return found;
}

export const NEEDS_SERVER =
  'It needs a PostgreSQL server: SMVBOT_TEST_DATABASE_URL, else 127.0.0.1:5432 with a database `test` and trust auth ' +
  'for user postgres or root (`npm test` starts an embedded one by itself; a bench does not).';

/** For scripts outside vitest (the bench): SMVBOT_TEST_DATABASE_URL, else the local server's URLs. */
export const LOCAL_SERVERS = ['postgres://postgres@127.0.0.1:5432/test', 'postgres://root@127.0.0.1:5432/test'];

export async function findPostgres(): Promise<{ url: string } | { error: string }> {
  const candidates = process.env.SMVBOT_TEST_DATABASE_URL
    ? [process.env.SMVBOT_TEST_DATABASE_URL]
    : LOCAL_SERVERS;
  const errors: string[] = [];
  for (const url of candidates) {
    const failure = await probePostgres(url);
    if (!failure) return { url };
    errors.push(failure);
  }
  return { error: errors.join('; ') };
}

export interface TestSchema {
  schema: string;
  /** The server URL with `options=-c search_path=<schema>`: what SMVBOT_DATABASE_URL would be. */
  url: string;
  /** SQL as an administrator, outside the schema's search_path unless the SQL names it. */
  query<R extends pg.QueryResultRow = pg.QueryResultRow>(sql: string, params?: unknown[]): Promise<R[]>;
  drop(): Promise<void>;
}

/** A fresh schema of its own for one test (or one group of bot processes). */
export async function createSchema(serverUrl: string): Promise<TestSchema> {
  const schema = `smvbot_t_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: serverUrl });
  admin.on('error', () => undefined);
  await admin.connect();
  await admin.query(`CREATE SCHEMA ${schema}`);
  const url = withSearchPath(serverUrl, schema);
  return {
    schema,
    url,
    query: async (sql, params = []) => (await admin.query(sql, params)).rows,
    async drop() {
      // Sessions of bots killed -9 may linger a moment; end them so the drop does not wait.
      await admin
        .query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE pid <> pg_backend_pid() AND query ILIKE $1`, [`%${schema}%`])
        .catch(() => undefined);
      await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await admin.end();
    },
  };
}

export function withSearchPath(serverUrl: string, schema: string): string {
  const url = new URL(serverUrl);
  url.searchParams.set('options', `-c search_path=${schema}`);
  return url.href;
}
