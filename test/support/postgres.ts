// The real PostgreSQL server the replica tests use: 127.0.0.1:5432, database `test`, trust auth
// (user postgres, else root), or SMVBOT_TEST_DATABASE_URL. Each test gets its own schema, dropped
// afterwards. Without a reachable server: CI=true fails every PostgreSQL test saying so; elsewhere
// they are skipped with a note naming what they need (never passed silently).
import { randomBytes } from 'node:crypto';
import pg from 'pg';

const CANDIDATES = process.env.SMVBOT_TEST_DATABASE_URL
  ? [process.env.SMVBOT_TEST_DATABASE_URL]
  : ['postgres://postgres@127.0.0.1:5432/test', 'postgres://root@127.0.0.1:5432/test'];

export const NEEDS_SERVER =
  'These tests need a PostgreSQL server on 127.0.0.1:5432 with a database `test` and trust auth for user postgres or root ' +
  '(or SMVBOT_TEST_DATABASE_URL). On this project\'s machines: pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start ' +
  '(.ci/run starts it).';

let found: Promise<{ url: string } | { error: string }> | undefined;

/** The first candidate URL that connects, once per test process. */
export function findPostgres(): Promise<{ url: string } | { error: string }> {
  found ??= (async () => {
    const errors: string[] = [];
    for (const url of CANDIDATES) {
      const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
      client.on('error', () => undefined);
      try {
        await client.connect();
        await client.query('SELECT 1');
        return { url };
      } catch (error) {
        errors.push(`${url.replace(/:[^:@/]*@/, ':***@')}: ${(error as Error).message}`);
      } finally {
        await client.end().catch(() => undefined);
      }
    }
    return { error: errors.join('; ') };
  })();
  return found;
}

let warned = false;

/**
 * The server's URL; else fails the test (CI) or skips it with a note (a developer's machine).
 * `ctx` is the vitest test context.
 */
export async function requirePostgres(ctx: { skip(note?: string): never }): Promise<string> {
  const result = await findPostgres();
  if ('url' in result) return result.url;
  const message = `No PostgreSQL server reachable (${result.error}). ${NEEDS_SERVER}`;
  if (process.env.CI === 'true') throw new Error(message);
  if (!warned) {
    warned = true;
    process.stderr.write(`\n*** PostgreSQL tests NOT RUN: ${message}\n\n`);
  }
  return ctx.skip(`NOT RUN: needs PostgreSQL. ${NEEDS_SERVER}`);
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
