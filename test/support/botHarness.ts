// A whole bot on loopback for integration tests: a publish dir, a consumer repo (bare git
// remote), smvbot.yml, the Slack stand-in, and the real server started through `startBot`.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { stringify } from 'yaml';
import { loadConfig, type AppConfig } from '../../src/infra/config.ts';
import { createLogger } from '../../src/infra/logger.ts';
import { startBot, type RunningBot } from '../../src/main.ts';
import { SlackStandIn, sendToBot, type BotAnswer, type BotRequest, type ResponseUrlPost } from '../../src/slack/standIn/slackStandIn.ts';
import { makeTempDir, removeDir, writeVersion, type FixtureModule } from './publishFixtures.ts';

export const SIGNING_SECRET = 'test-signing-secret-0123456789abcdef';
export const BOT_TOKEN = 'xoxb-test-0000-bot-token';
export const ANNOUNCE_CHANNEL = 'C0ANNOUNCE';
export const TEAM_B_CHANNEL = 'C0TEAMB';
export const ADMIN = 'U0ADMIN';
export const ADOPTER = 'U0ADOPTER';
export const STRANGER = 'U0STRANGER';

export const STAGES = ['com.acme.geo', 'com.acme.cms', 'com.acme.trial'] as const;

/** One module per stage, as TeamA's app publishes them. */
export function modulesFor(stage: string, extra: Partial<FixtureModule> = {}): FixtureModule[] {
  const base = stage.split('.').pop()!;
  const name = base[0]!.toUpperCase() + base.slice(1);
  return [{ fqn: `${stage}.${name}Summary`, ...extra }];
}

export const USER_CONF = [
  '# TeamB pins the stage versions it builds on',
  'smv.stages.geo.version = TCD.20160701.geo',
  'smv.stages.cms.version = TCD.20160701.cms',
  '',
].join('\n');

export interface WorldOptions {
  settleSeconds?: number;
  /** Versions already complete before the bot first starts. Default: TCD.20160701.* for every stage. */
  initialVersions?: string[];
  consumerChannels?: string[];
  adopters?: string[];
  mode?: 'push' | 'branch';
  userConf?: string | null;
}

/** Files on disk shared by bot runs (a restart reuses the same world). */
export class World {
  readonly root = makeTempDir('smvbot-world-');
  readonly publishDir = path.join(this.root, 'publish');
  readonly remote = path.join(this.root, 'client-model.git');
  readonly dataDir = path.join(this.root, 'data');
  readonly configPath = path.join(this.root, 'smvbot.yml');

  constructor(readonly opts: WorldOptions = {}) {
    fs.mkdirSync(this.publishDir);
    for (const version of opts.initialVersions ?? ['TCD.20160701']) this.publishAll(version);
    this.makeRemote(opts.userConf === undefined ? USER_CONF : opts.userConf);
    fs.writeFileSync(
      this.configPath,
      stringify({
        scan: { schedule: '0 0 1 1 *' },
        publishers: [
          {
            name: 'public-data',
            publishDir: 'publish',
            stages: [...STAGES],
            channels: [ANNOUNCE_CHANNEL],
            settleSeconds: opts.settleSeconds ?? 0,
          },
        ],
        consumers: [
          {
            name: 'client-model',
            repo: 'client-model.git',
            branch: 'main',
            confPath: 'conf/smv-user-conf.props',
            channels: opts.consumerChannels ?? [TEAM_B_CHANNEL],
            adopters: opts.adopters ?? [ADOPTER],
            mode: opts.mode ?? 'push',
          },
        ],
        admins: [ADMIN],
      }),
    );
  }

  /** Publish `<prefix>.<base>` for one stage (e.g. TCD.20160802.geo), complete and settled. */
  publish(stage: string, version: string, opts: { mtime?: 'now' | number } = {}): void {
    writeVersion(this.publishDir, version, modulesFor(stage), opts.mtime === undefined ? {} : { mtime: opts.mtime });
  }

  publishAll(prefix: string): void {
    for (const stage of STAGES) this.publish(stage, `${prefix}.${stage.split('.').pop()}`);
  }

  /** The consumer conf as it is on the remote's main branch. */
  remoteFile(file = 'conf/smv-user-conf.props', ref = 'main'): string {
    return git(['--git-dir', this.remote, 'show', `${ref}:${file}`]);
  }

  remoteLog(ref = 'main'): string[] {
    return git(['--git-dir', this.remote, 'log', '--format=%H %an <%ae> | %cn | %s', ref]).trim().split('\n');
  }

  config(env: Record<string, string> = {}): AppConfig {
    const loaded = loadConfig({
      cwd: this.root,
      env: {
        PATH: process.env.PATH ?? '',
        HOME: process.env.HOME ?? this.root,
        SLACK_BOT_TOKEN: BOT_TOKEN,
        SLACK_SIGNING_SECRET: SIGNING_SECRET,
        SMVBOT_CONFIG: this.configPath,
        SMVBOT_DATA_DIR: this.dataDir,
        SMVBOT_GIT_NAME: 'smvbot',
        SMVBOT_GIT_EMAIL: 'smvbot@example.test',
        PORT: '0',
        LOG_LEVEL: 'error',
        ...env,
      },
    });
    if (!loaded.ok) throw new Error(`test config invalid:\n${loaded.problems.join('\n')}`);
    return loaded.config;
  }

  cleanup(): void {
    removeDir(this.root);
  }

  private makeRemote(userConf: string | null): void {
    const work = path.join(this.root, 'seed');
    git(['init', '-q', '--bare', '-b', 'main', this.remote]);
    git(['init', '-q', '-b', 'main', work]);
    fs.mkdirSync(path.join(work, 'conf'));
    fs.writeFileSync(path.join(work, 'conf', 'smv-app-conf.props'), 'smv.appName = Client Model\nsmv.stages = com.acme.client\n');
    if (userConf !== null) fs.writeFileSync(path.join(work, 'conf', 'smv-user-conf.props'), userConf);
    git(['-C', work, 'add', '-A']);
    git(['-C', work, '-c', 'user.name=TeamB', '-c', 'user.email=teamb@example.test', 'commit', '-q', '-m', 'Initial TeamB project']);
    git(['-C', work, 'push', '-q', this.remote, 'main']);
    removeDir(work);
  }
}

export function git(args: string[]): string {
  return execFileSync('git', args, { encoding: 'utf8', env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', GIT_CONFIG_NOSYSTEM: '1' } });
}

/** The stand-in plus a bot started against it. */
export class BotUnderTest {
  bot!: RunningBot;
  url!: string;

  constructor(
    readonly world: World,
    readonly slack: SlackStandIn,
  ) {}

  static async start(world: World, slack?: SlackStandIn): Promise<BotUnderTest> {
    const standIn = slack ?? new SlackStandIn({ botToken: BOT_TOKEN, users: { [ADMIN]: 'Ada Admin', [ADOPTER]: 'Bea Adopter', [STRANGER]: 'Sam Stranger' } });
    if (!slack) await standIn.start();
    const harness = new BotUnderTest(world, standIn);
    await harness.startBot();
    return harness;
  }

  async startBot(): Promise<void> {
    const config = this.world.config({ SLACK_API_URL: this.slack.url });
    this.bot = await startBot(config, {
      manualScans: true,
      retryConfig: { retries: 2, factor: 1, minTimeout: 10, maxTimeout: 20 },
      logger: createLogger({ level: 'silent' as never }),
    });
    this.url = `http://127.0.0.1:${this.bot.port}/slack/events`;
  }

  async restart(): Promise<void> {
    await this.bot.stop();
    await this.startBot();
  }

  /** Sends `/smv <text>` signed like Slack; returns the ack and, if one follows, the response_url post. */
  async command(text: string, opts: { user?: string; channel?: string; expectFollowUp?: boolean } = {}): Promise<{ ack: BotAnswer; followUp?: ResponseUrlPost; reply: string }> {
    const req = this.slack.slashCommand({ text, userId: opts.user ?? ADOPTER, channelId: opts.channel ?? TEAM_B_CHANNEL });
    const ack = await this.send(req);
    const ackText = replyText(ack.body);
    if (ackText && opts.expectFollowUp !== true) return { ack, reply: ackText };
    const followUp = await this.slack.waitForResponse(req.responseUrl, 30_000);
    return { ack, followUp, reply: replyText(followUp.body) };
  }

  send(req: BotRequest, opts: { secret?: string; timestamp?: number } = {}): Promise<BotAnswer> {
    return sendToBot(this.url, opts.secret ?? SIGNING_SECRET, req, opts.timestamp === undefined ? {} : { timestamp: opts.timestamp });
  }

  async stop(): Promise<void> {
    await this.bot.stop();
    await this.slack.close();
  }
}

/** The text a person reads: top-level text plus section texts. */
export function replyText(body: unknown): string {
  if (!body || typeof body !== 'object') return typeof body === 'string' ? body : '';
  const b = body as { text?: string; blocks?: { text?: { text?: string }; fields?: { text: string }[] }[] };
  const parts = [b.text ?? ''];
  for (const block of b.blocks ?? []) {
    if (block.text?.text) parts.push(block.text.text);
    for (const f of block.fields ?? []) parts.push(f.text);
  }
  return parts.filter(Boolean).join('\n');
}
