// Configuration (SPEC §3): environment (+ optional .env) and the smvbot.yml topology.
// The only module that reads process.env. User mistakes never throw: every problem is
// collected in one pass so a person can fix them all at once. The parts live beside it:
// env.ts (environment), topology.ts (schemas and cross-checks), problems.ts (the message).
import path from 'node:path';
import { redactUrlCredentials } from '../../domain/redact.ts';
import { readEnvironment, type EnvSettings } from './env.ts';
import { readTopology, type Topology } from './topology.ts';

export { formatConfigProblems } from './problems.ts';
export type { DatabaseConfig, SlackConfig } from './env.ts';
export type { ConsumerConfig, PublisherConfig } from './topology.ts';

/** Exit code for "cannot start: fix the configuration". */
export const CONFIG_EXIT_CODE = 2;

export interface AppConfig extends EnvSettings, Topology {}

export type ConfigResult = { ok: true; config: AppConfig } | { ok: false; problems: string[] };

export interface LoadConfigOptions {
  /** Environment to read; process.env when omitted. Never modified. */
  env?: NodeJS.ProcessEnv;
  /** Folder holding `.env`, and against which relative env paths resolve; process.cwd() when omitted. */
  cwd?: string;
  /** Require Slack credentials (`npm start`); false for the demo and tools. Default true. */
  requireSlack?: boolean;
}

export function loadConfig(options: LoadConfigOptions = {}): ConfigResult {
  const cwd = path.resolve(options.cwd ?? process.cwd());
  const problems: string[] = [];
  const settings = readEnvironment(options.env ?? process.env, cwd, options.requireSlack ?? true, problems);
  const topology = readTopology(settings.configPath, cwd, problems);
  // A config mistake may quote a repo URL: its credentials must not reach the terminal or a log.
  if (problems.length > 0 || topology === null) return { ok: false, problems: problems.map(redactUrlCredentials) };
  return { ok: true, config: { ...settings, ...topology } };
}

/** Every secret setting with its value (unset ones included): scrubbed from logs and answers, named in warnings. */
export function secretSettings(config: AppConfig): { setting: string; value: string | undefined }[] {
  return [
    { setting: 'SLACK_BOT_TOKEN', value: config.slack.botToken },
    { setting: 'SLACK_SIGNING_SECRET', value: config.slack.signingSecret },
    { setting: 'SLACK_APP_TOKEN', value: config.slack.appToken },
    { setting: 'the password in SMVBOT_DATABASE_URL', value: config.database.kind === 'postgresql' ? config.database.password : undefined },
    { setting: 'SMVBOT_HOOK_SECRET', value: config.hookSecret },
    { setting: 'SMVBOT_API_TOKEN', value: config.apiToken },
    ...config.store.secrets.map((value) => ({ setting: 'a publish store credential (SMVBOT_HDFS_DELEGATION_TOKEN, AWS_*)', value })),
  ];
}
