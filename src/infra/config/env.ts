// Environment half of the configuration (SPEC §3): Slack tokens, PORT, LOG_LEVEL, SMVBOT_* and
// `.env`. It is handed the environment by ../config.ts, the only module that reads process.env.
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { parseEnv } from 'node:util';
import { GIT_PASSTHROUGH_ENV } from '../git/gitRunner.ts';
import type { LogLevel } from '../runtime/logger.ts';

export interface SlackConfig {
  botToken?: string;
  signingSecret?: string;
  /** When set, Socket Mode is used instead of HTTP. */
  appToken?: string;
  /** Web API base URL, always ending in `/`. */
  apiUrl: string;
  port: number;
}

/**
 * Where state lives: the embedded SQLite file in the data dir (one process), or PostgreSQL
 * (SMVBOT_DATABASE_URL, several replicas). `location` never holds credentials; `url` does.
 */
export type DatabaseConfig =
  | { kind: 'sqlite' }
  | { kind: 'postgresql'; url: string; location: string; /** To keep out of logs and replies. */ password?: string };

/** What the environment decides: how to reach Slack and the state, where files are, git and logging. */
export interface EnvSettings {
  slack: SlackConfig;
  database: DatabaseConfig;
  /** Absolute path of the topology file that was read. */
  configPath: string;
  /** Absolute path. */
  dataDir: string;
  /** Committer identity, the variables git subprocesses may see, and the limit for one git run. */
  git: { name: string; email: string; env: Record<string, string>; timeoutSeconds: number };
  /** Remote publish dirs: the limit for one request and the credentials of each store (secrets: kept out of logs). */
  store: StoreSettings;
  /** SMVBOT_HOOK_SECRET: `POST /hooks/published` is on when set. */
  hookSecret?: string;
  /** SMVBOT_API_TOKEN: bearer token of GET /retention/<publisher> (unset: that endpoint is off). */
  apiToken?: string;
  /** GET /metrics is served (SMVBOT_METRICS is not `off`). */
  metrics: boolean;
  logLevel: LogLevel;
}

export interface StoreSettings {
  timeoutSeconds: number;
  hdfs: { user?: string; delegationToken?: string };
  /** AWS_ENDPOINT_URL_S3 and AWS_REGION/AWS_DEFAULT_REGION; credentials come from the AWS SDK's own chain. */
  s3: { endpoint?: string; region?: string };
  /** Values to scrub from logs and answers: the delegation token and the AWS secrets the SDK reads itself. */
  secrets: string[];
}

/** Reads `.env` under the real environment; every mistake goes to `problems`, never thrown. */
export function readEnvironment(realEnv: NodeJS.ProcessEnv, cwd: string, requireSlack: boolean, problems: string[]): EnvSettings {
  return readEnvSettings(withDotEnv(realEnv, cwd, problems), cwd, requireSlack, problems);
}

/** The real environment over `.env` (real wins); empty values count as unset. */
function withDotEnv(realEnv: NodeJS.ProcessEnv, cwd: string, problems: string[]): Record<string, string> {
  const merged: Record<string, string> = {};
  const dotEnvFile = path.join(cwd, '.env');
  if (existsSync(dotEnvFile)) {
    try {
      Object.assign(merged, nonEmpty(parseEnv(readFileSync(dotEnvFile, 'utf8'))));
    } catch (err) {
      problems.push(`${dotEnvFile}: cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'}); fix its permissions or remove it.`);
    }
  }
  Object.assign(merged, nonEmpty(realEnv));
  return merged;
}

function nonEmpty(vars: NodeJS.Dict<string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(vars)) {
    const trimmed = value?.trim();
    if (trimmed) out[key] = trimmed;
  }
  return out;
}

const LOG_LEVEL_VALUES: readonly LogLevel[] = ['debug', 'info', 'warn', 'error'];

function readEnvSettings(env: Record<string, string>, cwd: string, requireSlack: boolean, problems: string[]): EnvSettings {
  const botToken = env['SLACK_BOT_TOKEN'];
  const signingSecret = env['SLACK_SIGNING_SECRET'];
  const appToken = env['SLACK_APP_TOKEN'];

  // Never echo token values: only say what shape was expected.
  if (botToken === undefined) {
    if (requireSlack) {
      problems.push(
        'SLACK_BOT_TOKEN is not set, so smvbot cannot talk to Slack. To connect it: copy .env.example to .env, ' +
          'fill in SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET (see README "Installing the Slack app"), and start again. ' +
          'To try smvbot without a Slack account, run `npm run demo`.',
      );
    }
  } else if (!botToken.startsWith('xoxb-')) {
    problems.push(
      'SLACK_BOT_TOKEN does not look like a bot token: it must start with xoxb-. ' +
        'Copy the "Bot User OAuth Token" from your Slack app\'s OAuth & Permissions page.',
    );
  }
  if (appToken !== undefined && !appToken.startsWith('xapp-')) {
    problems.push(
      'SLACK_APP_TOKEN does not look like an app-level token: it must start with xapp-. ' +
        'Create one with the connections:write scope under Basic Information → App-Level Tokens, ' +
        'or leave SLACK_APP_TOKEN unset to receive requests over HTTP.',
    );
  }
  if (requireSlack && botToken !== undefined && appToken === undefined && signingSecret === undefined) {
    problems.push(
      'SLACK_SIGNING_SECRET is not set. Without SLACK_APP_TOKEN smvbot receives requests over HTTP and must verify them: ' +
        'copy the Signing Secret from your Slack app\'s Basic Information page into .env ' +
        '(or set SLACK_APP_TOKEN to use Socket Mode).',
    );
  }

  const apiUrl = readApiUrl(env['SLACK_API_URL'], problems);
  const port = readPort(env['PORT'], problems);

  const logLevelText = (env['LOG_LEVEL'] ?? 'info').toLowerCase();
  const logLevel = LOG_LEVEL_VALUES.find((l) => l === logLevelText);
  if (!logLevel) {
    problems.push(`LOG_LEVEL must be one of ${LOG_LEVEL_VALUES.join(', ')} (got "${env['LOG_LEVEL']}").`);
  }

  const dataDir = path.resolve(cwd, env['SMVBOT_DATA_DIR'] ?? './data');
  if (existsSync(dataDir) && !statSync(dataDir).isDirectory()) {
    problems.push(`SMVBOT_DATA_DIR: ${dataDir} exists but is not a directory; point SMVBOT_DATA_DIR at a directory.`);
  }

  const database = readDatabaseUrl(env['SMVBOT_DATABASE_URL'], problems);
  const gitTimeoutSeconds = readSeconds('SMVBOT_GIT_TIMEOUT_SECONDS', env['SMVBOT_GIT_TIMEOUT_SECONDS'], 60, problems);
  const storeTimeoutSeconds = readSeconds('SMVBOT_STORE_TIMEOUT_SECONDS', env['SMVBOT_STORE_TIMEOUT_SECONDS'], 30, problems);
  const s3Endpoint = readS3Endpoint(env['AWS_ENDPOINT_URL_S3'] ?? env['AWS_ENDPOINT_URL'], problems);
  const s3Region = env['AWS_REGION'] ?? env['AWS_DEFAULT_REGION'];
  if (/BatchMode\s*[= ]\s*["']?no/i.test(env['GIT_SSH_COMMAND'] ?? '')) {
    problems.push(
      'GIT_SSH_COMMAND turns off ssh batch mode (BatchMode=no); smvbot never lets ssh prompt (it would hang). ' +
        'Remove that option, and give ssh its key and known_hosts file instead (README "Giving smvbot access to the consumer repo").',
    );
  }

  return {
    slack: {
      ...(botToken !== undefined && { botToken }),
      ...(signingSecret !== undefined && { signingSecret }),
      ...(appToken !== undefined && { appToken }),
      apiUrl,
      port,
    },
    database,
    configPath: path.resolve(cwd, env['SMVBOT_CONFIG'] ?? './smvbot.yml'),
    dataDir,
    git: {
      name: env['SMVBOT_GIT_NAME'] ?? 'smvbot',
      email: env['SMVBOT_GIT_EMAIL'] ?? 'smvbot@localhost',
      // Only what git needs to reach remotes (PATH, HOME for ssh keys, agent, proxies).
      env: Object.fromEntries(GIT_PASSTHROUGH_ENV.flatMap((name) => (env[name] === undefined ? [] : [[name, env[name]]]))),
      timeoutSeconds: gitTimeoutSeconds,
    },
    store: {
      timeoutSeconds: storeTimeoutSeconds,
      hdfs: {
        ...(env['SMVBOT_HDFS_USER'] !== undefined && { user: env['SMVBOT_HDFS_USER'] }),
        ...(env['SMVBOT_HDFS_DELEGATION_TOKEN'] !== undefined && { delegationToken: env['SMVBOT_HDFS_DELEGATION_TOKEN'] }),
      },
      s3: { ...(s3Endpoint !== undefined && { endpoint: s3Endpoint }), ...(s3Region !== undefined && { region: s3Region }) },
      secrets: ['SMVBOT_HDFS_DELEGATION_TOKEN', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN'].flatMap((name) => (env[name] === undefined ? [] : [env[name]])),
    },
    ...(env['SMVBOT_HOOK_SECRET'] !== undefined && { hookSecret: env['SMVBOT_HOOK_SECRET'] }),
    ...(env['SMVBOT_API_TOKEN'] !== undefined && { apiToken: env['SMVBOT_API_TOKEN'] }),
    metrics: readSwitch('SMVBOT_METRICS', env['SMVBOT_METRICS'], problems),
    logLevel: logLevel ?? 'info',
  };
}

function readApiUrl(value: string | undefined, problems: string[]): string {
  const fallback = 'https://slack.com/api/';
  if (value === undefined) return fallback;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    problems.push(`SLACK_API_URL is not a URL (got "${value}"); leave it unset for ${fallback}.`);
    return fallback;
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    problems.push(`SLACK_API_URL must be an http(s) URL (got "${value}"); leave it unset for ${fallback}.`);
    return fallback;
  }
  // The Web API client appends method names, so the base must end in `/`.
  return url.href.endsWith('/') ? url.href : `${url.href}/`;
}

// Not written as a URL with credentials: problems pass through redactUrlCredentials, which would mask it.
const DATABASE_URL_SHAPE = 'postgres://host:5432/database with user:password@ before the host';

/**
 * SMVBOT_DATABASE_URL: unset → SQLite in the data dir; else a postgres:// URL naming a host and a
 * database. Problems never quote the value: it may hold a password.
 */
function readDatabaseUrl(value: string | undefined, problems: string[]): DatabaseConfig {
  if (value === undefined) return { kind: 'sqlite' };
  const unsetAdvice = 'or leave it unset to keep the state in SQLite in SMVBOT_DATA_DIR';
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    problems.push(`SMVBOT_DATABASE_URL is not a URL; write it as ${DATABASE_URL_SHAPE} (${unsetAdvice}).`);
    return { kind: 'sqlite' };
  }
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') {
    problems.push(`SMVBOT_DATABASE_URL must be a PostgreSQL URL starting with postgres:// (got ${url.protocol}//…); write it as ${DATABASE_URL_SHAPE} (${unsetAdvice}).`);
    return { kind: 'sqlite' };
  }
  const host = url.hostname || url.searchParams.get('host') || '';
  const database = decodeURIComponent(url.pathname.replace(/^\//, ''));
  const missing = [host ? null : 'host', database ? null : 'database name'].filter(Boolean);
  if (missing.length) {
    problems.push(`SMVBOT_DATABASE_URL names no ${missing.join(' and no ')}; write it as ${DATABASE_URL_SHAPE} (${unsetAdvice}).`);
    return { kind: 'sqlite' };
  }
  // A libpq `options=-c search_path=…` picks the schema: worth naming, it is where the tables are.
  const schema = /search_path\s*=\s*([^\s,]+)/.exec(url.searchParams.get('options') ?? '')?.[1];
  const location = `postgresql://${host}${url.port ? `:${url.port}` : ''}/${database}${schema ? ` (schema ${schema})` : ''}`;
  const password = url.password ? decodeURIComponent(url.password) : undefined;
  return { kind: 'postgresql', url: value, location, ...(password ? { password } : {}) };
}

/** `on` (default) or `off`. */
function readSwitch(name: string, value: string | undefined, problems: string[]): boolean {
  const word = (value ?? 'on').trim().toLowerCase();
  if (word === 'on' || word === 'off') return word === 'on';
  problems.push(`${name} must be "on" or "off" (got "${value}"); leave it unset for on.`);
  return true;
}

/** A number of seconds above 0 (fractions allowed), at most a day; `fallback` when unset. */
function readSeconds(name: string, value: string | undefined, fallback: number, problems: string[]): number {
  if (value === undefined) return fallback;
  const seconds = /^\d+(\.\d+)?$/.test(value) ? Number(value) : NaN;
  if (!(seconds > 0 && seconds <= 86_400)) {
    problems.push(`${name} must be a number of seconds above 0 and at most 86400 (got "${value}"); leave it unset for ${fallback}.`);
    return fallback;
  }
  return seconds;
}

/** AWS_ENDPOINT_URL_S3: an http(s) URL of an S3-compatible store (never quoted back: it may hold credentials). */
function readS3Endpoint(value: string | undefined, problems: string[]): string | undefined {
  if (value === undefined) return undefined;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    problems.push('AWS_ENDPOINT_URL_S3 is not a URL; write it as http(s)://host:port of the S3-compatible store, or leave it unset for AWS S3.');
    return undefined;
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    problems.push(`AWS_ENDPOINT_URL_S3 must be an http(s) URL (got ${url.protocol}//…), or leave it unset for AWS S3.`);
    return undefined;
  }
  return value;
}

function readPort(value: string | undefined, problems: string[]): number {
  if (value === undefined) return 3000;
  const port = /^\d+$/.test(value) ? Number(value) : NaN;
  if (!(port >= 0 && port <= 65535)) {
    problems.push(`PORT must be a port number from 0 to 65535 (got "${value}").`);
    return 3000;
  }
  return port;
}
