// A whole bot on loopback for integration tests: a publish dir, consumer repos (bare git
// remotes), smvbot.yml, the Slack stand-in, and the real server started through `startBot`.
//
//   const world = new World();                       // TCD.20160701.* of geo, cms, trial already published
//   const bot = await BotUnderTest.start(world);     // first scan records those silently
//   world.publishAll('TCD.20160802');
//   await bot.bot.scanNow();                         // announces TCD.20160802.*
//   const { reply, visibility } = await bot.command('adopt geo TCD.20160802.geo');
//   world.remoteFile();                              // conf/smv-user-conf.props on the remote's main
//   await bot.stop(); world.cleanup();
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { stringify } from 'yaml';
import { createLogger, type Logger } from '../../src/infra/runtime/logger.ts';
import { startBot, type RunningBot } from '../../src/main.ts';
import {
  SlackStandIn,
  sendToBot,
  type BotAnswer,
  type BotRequest,
  type ResponseUrlPost,
  type StoredMessage,
} from '../../dev/slack/slackStandIn.ts';
import { makeTempDir, removeDir, writeVersion, type FixtureModule } from '../../dev/world/publishFixtures.ts';
import { botConfig, botEnv, createBareRepo } from '../../dev/world/worldParts.ts';

export const SIGNING_SECRET = 'test-signing-secret-0123456789abcdef';
export const BOT_TOKEN = 'xoxb-test-0000-bot-token';
export const APP_TOKEN = 'xapp-1-A0SMVBOT-0000-app-token';
export const ANNOUNCE_CHANNEL = 'C0ANNOUNCE';
export const TEAM_B_CHANNEL = 'C0TEAMB';
export const ADMIN = 'U0ADMIN';
export const ADOPTER = 'U0ADOPTER';
export const STRANGER = 'U0STRANGER';
export const USERS: Record<string, string> = { [ADMIN]: 'Ada Admin', [ADOPTER]: 'Bea Adopter', [STRANGER]: 'Sam Stranger' };
export const CONSUMER = 'client-model';
/** The Python SMV (2.4r1) consumer of a world with `connectionConsumer`: pins are connection paths. */
export const MODERN = 'modern-model';
export const TEAM_C_CHANNEL = 'C0TEAMC';
export const MODERN_SMV_PUBLISH_DIR = 'hdfs:///data/team-c/publish';

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

/** TeamB's app conf: its own stage and the published stages it reads (SMV reads stage versions only for listed stages). */
export const APP_CONF = appConfListing(STAGES);

export function appConfListing(stages: readonly string[]): string {
  return `smv.appName = Client Model\nsmv.stages = com.acme.client, ${stages.join(', ')}\n`;
}

/** A further consumer with its own bare remote `<root>/<name>.git`, seeded like client-model's. */
export interface ExtraConsumer {
  name: string;
  channels: string[];
  adopters?: string[];
}

export interface WorldOptions {
  settleSeconds?: number;
  /** Versions already complete before the bot first starts. Default: TCD.20160701.* for every stage. */
  initialVersions?: string[];
  consumerChannels?: string[];
  adopters?: string[];
  mode?: 'push' | 'branch';
  /** client-model's soak time (`minAgeHours`). */
  minAgeHours?: number;
  /** The publisher's `owners` (who may deprecate). */
  publisherOwners?: string[];
  userConf?: string | null;
  /** Where the publisher announces. Default [ANNOUNCE_CHANNEL]. */
  publisherChannels?: string[];
  /** More stage FQNs for the publisher, e.g. `com.other.geo` to make `geo` ambiguous. */
  extraStages?: string[];
  /** Give client-model a synced copy of the published data at `consumerPublishDir` (empty at first). */
  consumerPublishDir?: boolean;
  extraConsumers?: ExtraConsumer[];
  /** client-model's `repo:` as written in smvbot.yml (default: its bare remote in the world). */
  consumerRepo?: string;
  /** The consumers' `conf/smv-app-conf.props`. Default: app name and its own stage, no pins. */
  appConf?: string;
  /**
   * Add `modern-model`, a Python SMV 2.4r1 consumer (`pinStyle: connection`, channel TEAM_C_CHANNEL, adopters
   * [ADOPTER]) whose remote starts with exactly `files`. Default connections: geo → pdd_geo, cms → pdd_cms,
   * trial → pdd_trial; smvPublishDir MODERN_SMV_PUBLISH_DIR.
   */
  connectionConsumer?: {
    files: Record<string, string>;
    connections?: Record<string, string>;
    connectionsPath?: string;
    mode?: 'push' | 'branch';
    /** Give modern-model a synced copy at `modernPublishDir` (empty at first), which adopt checks. */
    publishDir?: boolean;
  };
}

/** Files on disk shared by bot runs (a restart reuses the same world). */
export class World {
  readonly root = makeTempDir('smvbot-world-');
  readonly publishDir = path.join(this.root, 'publish');
  readonly consumerPublishDir = path.join(this.root, 'teamb-publish');
  readonly modernPublishDir = path.join(this.root, 'teamc-publish');
  readonly remote = path.join(this.root, `${CONSUMER}.git`);
  readonly dataDir = path.join(this.root, 'data');
  readonly configPath = path.join(this.root, 'smvbot.yml');

  constructor(readonly opts: WorldOptions = {}) {
    fs.mkdirSync(this.publishDir);
    if (opts.consumerPublishDir) fs.mkdirSync(this.consumerPublishDir);
    if (opts.connectionConsumer?.publishDir) fs.mkdirSync(this.modernPublishDir);
    for (const version of opts.initialVersions ?? ['TCD.20160701']) this.publishAll(version);
    const userConf = opts.userConf === undefined ? USER_CONF : opts.userConf;
    const seed = seededRemote(userConf, opts.appConf ?? appConfListing([...STAGES, ...(opts.extraStages ?? [])]));
    for (const consumer of [CONSUMER, ...(opts.extraConsumers ?? []).map((c) => c.name)]) {
      fs.cpSync(seed, this.remoteOf(consumer), { recursive: true });
    }
    const modern = opts.connectionConsumer;
    if (modern) fs.cpSync(seededRemoteWith(modern.files), this.remoteOf(MODERN), { recursive: true });
    fs.writeFileSync(
      this.configPath,
      stringify({
        scan: { schedule: '0 0 1 1 *' },
        publishers: [
          {
            name: 'public-data',
            publishDir: 'publish',
            stages: [...STAGES, ...(opts.extraStages ?? [])],
            channels: opts.publisherChannels ?? [ANNOUNCE_CHANNEL],
            settleSeconds: opts.settleSeconds ?? 0,
            ...(opts.publisherOwners ? { owners: opts.publisherOwners } : {}),
          },
        ],
        consumers: [
          {
            name: CONSUMER,
            repo: opts.consumerRepo ?? `${CONSUMER}.git`,
            branch: 'main',
            confPath: 'conf/smv-user-conf.props',
            ...(opts.consumerPublishDir ? { publishDir: 'teamb-publish' } : {}),
            channels: opts.consumerChannels ?? [TEAM_B_CHANNEL],
            adopters: opts.adopters ?? [ADOPTER],
            mode: opts.mode ?? 'push',
            ...(opts.minAgeHours !== undefined ? { minAgeHours: opts.minAgeHours } : {}),
          },
          ...(opts.extraConsumers ?? []).map((c) => ({
            name: c.name,
            repo: `${c.name}.git`,
            branch: 'main',
            channels: c.channels,
            adopters: c.adopters ?? [ADOPTER],
          })),
          ...(modern
            ? [
                {
                  name: MODERN,
                  repo: `${MODERN}.git`,
                  pinStyle: 'connection',
                  connections: modern.connections ?? { geo: 'pdd_geo', cms: 'pdd_cms', trial: 'pdd_trial' },
                  ...(modern.connectionsPath ? { connectionsPath: modern.connectionsPath } : {}),
                  smvPublishDir: MODERN_SMV_PUBLISH_DIR,
                  ...(modern.publishDir ? { publishDir: 'teamc-publish' } : {}),
                  channels: [TEAM_C_CHANNEL],
                  adopters: [ADOPTER],
                  mode: modern.mode ?? 'push',
                },
              ]
            : []),
        ],
        admins: [ADMIN],
      }),
    );
  }

  /** Publish `<prefix>.<base>` for one stage (e.g. TCD.20160802.geo), complete and settled unless told otherwise. */
  publish(stage: string, version: string, opts: { mtime?: 'now' | number; modules?: FixtureModule[]; incomplete?: FixtureModule['incomplete'] } = {}): void {
    const modules = opts.modules ?? modulesFor(stage, opts.incomplete ? { incomplete: opts.incomplete } : {});
    writeVersion(this.publishDir, version, modules, opts.mtime === undefined ? {} : { mtime: opts.mtime });
  }

  publishAll(prefix: string): void {
    for (const stage of STAGES) this.publish(stage, `${prefix}.${stage.split('.').pop()}`);
  }

  remoteOf(consumer = CONSUMER): string {
    return path.join(this.root, `${consumer}.git`);
  }

  /** A file as it is on a consumer remote's branch. */
  remoteFile(file = 'conf/smv-user-conf.props', ref = 'main', consumer = CONSUMER): string {
    return git(['--git-dir', this.remoteOf(consumer), 'show', `${ref}:${file}`]);
  }

  /** `<sha> <author name> <<author email>> | <committer name> | <subject>`, newest first. */
  remoteLog(ref = 'main', consumer = CONSUMER): string[] {
    return git(['--git-dir', this.remoteOf(consumer), 'log', '--format=%H %an <%ae> | %cn | %s', ref]).trim().split('\n');
  }

  /** Full message (subject and body) of a commit on a consumer remote. */
  commitMessage(ref = 'main', consumer = CONSUMER): string {
    return git(['--git-dir', this.remoteOf(consumer), 'log', '-1', '--format=%B', ref]);
  }

  /** The environment `npm start` would see for this world (spawned processes get exactly this). */
  env(extra: Record<string, string> = {}): Record<string, string> {
    const world = { home: process.env.HOME ?? this.root, configPath: this.configPath, dataDir: this.dataDir, botToken: BOT_TOKEN, signingSecret: SIGNING_SECRET };
    return botEnv(world, extra);
  }

  config(env: Record<string, string> = {}) {
    return botConfig(this.root, this.env(env));
  }

  cleanup(): void {
    removeDir(this.root);
  }

}

// Building a remote takes several git processes; each distinct seed is built once per test
// process and copied (a bare repo is plain files), which keeps a World cheap to make.
const seededRemotes = new Map<string, string>();
let seedRoot: string | undefined;

/** Worlds with a started bot each, for tests that make their own; `stopAll` after each test. */
export class BotWorlds {
  private readonly running: { world: World; bot: BotUnderTest }[] = [];

  async start(opts: WorldOptions = {}, botOptions: BotOptions = {}): Promise<{ world: World; bot: BotUnderTest }> {
    const world = new World(opts);
    const bot = await BotUnderTest.start(world, undefined, botOptions);
    this.running.push({ world, bot });
    return { world, bot };
  }

  async stopAll(): Promise<void> {
    for (const { world, bot } of this.running.splice(0)) {
      await bot.stop();
      world.cleanup();
    }
  }
}

/** Removes the seeds built so far; call it from `afterAll` in every file that makes Worlds. */
export function removeSeededRemotes(): void {
  if (seedRoot) removeDir(seedRoot);
  seedRoot = undefined;
  seededRemotes.clear();
}

function seededRemote(userConf: string | null, appConf: string): string {
  return seededRemoteWith({ 'conf/smv-app-conf.props': appConf, ...(userConf !== null ? { 'conf/smv-user-conf.props': userConf } : {}) });
}

/** A bare remote whose `main` has exactly these files (repo path → content). */
function seededRemoteWith(files: Record<string, string>): string {
  const key = JSON.stringify(Object.entries(files).sort());
  const cached = seededRemotes.get(key);
  if (cached) return cached;
  seedRoot ??= makeTempDir('smvbot-seed-');
  const remote = path.join(seedRoot, `remote-${seededRemotes.size}.git`);
  createBareRepo(git, remote, files, { branch: 'main', message: 'Initial TeamB project\n', author: { name: 'TeamB', email: 'teamb@example.test' } });
  seededRemotes.set(key, remote);
  return remote;
}

export function git(args: readonly string[], input?: Buffer): string {
  return execFileSync('git', args, { encoding: 'utf8', input, env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', GIT_CONFIG_NOSYSTEM: '1' } });
}

/** What `/smv …` produced, as the user sees it. */
export interface CommandResult {
  ack: BotAnswer;
  followUp?: ResponseUrlPost;
  /** The text a person reads (from the ack when it had one, else from the follow-up). */
  reply: string;
  /** `response_type` of that answer: who sees it. */
  visibility: 'ephemeral' | 'in_channel' | undefined;
  request: BotRequest & { responseUrl: string };
}

export interface BotOptions {
  /** Where the bot logs (default: nowhere). */
  logger?: Logger;
  /** Environment over the world's (e.g. another SLACK_BOT_TOKEN). */
  env?: Record<string, string>;
  /** Let the bot watch the publish dir and run its schedule (default: the test drives every scan). */
  watch?: boolean;
  /** How Slack reaches the bot: signed HTTP requests (default) or Socket Mode (SLACK_APP_TOKEN set). */
  transport?: 'http' | 'socket';
  /** Limit for one Web API request (default: the bot's own). */
  apiTimeoutMs?: number;
  /** Least time between two announcements in one channel (default 0 here: tests need not wait). */
  channelIntervalMs?: number;
  /** Runs once the config is read, before the bot starts: to break what the config checked. */
  beforeStart?: () => void;
}

export type Transport = NonNullable<BotOptions['transport']>;

/** The stand-in plus a bot started against it. */
export class BotUnderTest {
  bot!: RunningBot;
  url!: string;

  constructor(
    readonly world: World,
    readonly slack: SlackStandIn,
    private readonly options: BotOptions = {},
  ) {}

  static async start(world: World, slack?: SlackStandIn, options: BotOptions = {}): Promise<BotUnderTest> {
    const standIn = slack ?? new SlackStandIn({ botToken: BOT_TOKEN, appToken: APP_TOKEN, users: USERS });
    await standIn.start();
    const harness = new BotUnderTest(world, standIn, options);
    await harness.startBot();
    return harness;
  }

  async startBot(): Promise<void> {
    const socket: Record<string, string> = this.options.transport === 'socket' ? { SLACK_APP_TOKEN: APP_TOKEN } : {};
    const config = this.world.config({ SLACK_API_URL: this.slack.url, ...socket, ...this.options.env });
    this.options.beforeStart?.();
    this.bot = await startBot(config, {
      manualScans: !this.options.watch,
      retryConfig: { retries: 2, factor: 1, minTimeout: 10, maxTimeout: 20 },
      channelIntervalMs: this.options.channelIntervalMs ?? 0,
      ...(this.options.apiTimeoutMs ? { apiTimeoutMs: this.options.apiTimeoutMs } : {}),
      logger: this.options.logger ?? createLogger({ level: 'silent' as never }),
    });
    this.url = `http://127.0.0.1:${this.bot.port}/slack/events`;
  }

  get transport(): Transport {
    return this.options.transport ?? 'http';
  }

  async restart(): Promise<void> {
    await this.bot.stop();
    await this.startBot();
  }

  /** A `/smv <text>` request as Slack would build it (send it with `send`). */
  commandRequest(text: string, opts: { user?: string; channel?: string } = {}): BotRequest & { responseUrl: string } {
    return this.slack.slashCommand({ text, userId: opts.user ?? ADOPTER, channelId: opts.channel ?? TEAM_B_CHANNEL });
  }

  /**
   * Sends `/smv <text>` signed like Slack. An answer in the ack is the reply; an empty ack
   * means the answer comes on response_url, which is awaited.
   */
  async command(text: string, opts: { user?: string; channel?: string } = {}): Promise<CommandResult> {
    const request = this.commandRequest(text, opts);
    const ack = await this.send(request);
    if (ack.status !== 200) throw new Error(`/smv ${text}: the bot answered HTTP ${ack.status}: ${ack.text}`);
    const ackText = replyText(ack.body);
    if (ackText) return { ack, reply: ackText, visibility: visibilityOf(ack.body), request };
    const followUp = await this.slack.waitForResponse(request.responseUrl, 30_000);
    return { ack, followUp, reply: replyText(followUp.body), visibility: visibilityOf(followUp.body), request };
  }

  /** Clicks the Adopt button `index` of a posted announcement, as `user`. */
  async clickAdopt(message: StoredMessage, index: number, user = ADOPTER): Promise<{ ack: BotAnswer; request: BotRequest & { responseUrl: string } }> {
    const button = adoptButtons(message)[index];
    if (!button) throw new Error(`The message has no Adopt button ${index}: ${JSON.stringify(message.blocks)}`);
    const request = this.slack.blockAction({
      actionId: button.action_id,
      value: button.value,
      userId: user,
      channelId: message.channel,
      messageTs: message.ts,
    });
    return { ack: await this.send(request), request };
  }

  /** Delivers `req` as Slack would: signed over HTTP, or as an envelope over the bot's socket. */
  send(req: BotRequest, opts: { secret?: string; timestamp?: number } = {}): Promise<BotAnswer> {
    if (this.transport === 'socket') return this.slack.sendOverSocket(req);
    return sendToBot(this.url, opts.secret ?? SIGNING_SECRET, req, opts.timestamp === undefined ? {} : { timestamp: opts.timestamp });
  }

  /**
   * Opens the Home tab as `user`: the view the bot published for them (blocks as `V` says) and
   * its id (for block actions on it).
   */
  async openHome<V extends object>(user: string): Promise<V & { id: string }> {
    const before = this.slack.calls('views.publish').length;
    const opened = await this.send(this.slack.eventCallback({ type: 'app_home_opened', user, channel: 'D0HOME', tab: 'home' }));
    if (opened.status !== 200) throw new Error(`app_home_opened answered HTTP ${opened.status}`);
    const call = await this.slack.waitFor(
      (r) => r.kind === 'call' && r.method === 'views.publish' && r.args.user_id === user && this.slack.calls('views.publish').indexOf(r) >= before,
      30_000,
      `views.publish for ${user}`,
    );
    if (call.kind !== 'call' || !call.ok) throw new Error(`views.publish for ${user} failed`);
    return { ...(call.args.view as V), id: String((call.response?.view as { id?: unknown } | undefined)?.id) };
  }

  async healthz(): Promise<{ status: number; body: Record<string, unknown> }> {
    return getHealth(this.bot.port);
  }

  async stop(): Promise<void> {
    await this.bot.stop();
    await this.slack.close();
  }
}

export async function getHealth(port: number): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`http://127.0.0.1:${port}/healthz`);
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

export interface AdoptButton {
  action_id: string;
  value: string;
  text: { text: string };
  confirm?: Record<string, unknown>;
}

/** The Adopt buttons of an announcement, in order (every version's, in a combined one). */
export function adoptButtons(message: Pick<StoredMessage, 'blocks'>): AdoptButton[] {
  const actions = (message.blocks ?? []).filter((b) => (b as { type?: string }).type === 'actions') as { elements?: AdoptButton[] }[];
  return actions.flatMap((a) => a.elements ?? []);
}

/** `response_type` of a reply body. */
export function visibilityOf(body: unknown): 'ephemeral' | 'in_channel' | undefined {
  const type = (body as { response_type?: unknown } | null)?.response_type;
  return type === 'ephemeral' || type === 'in_channel' ? type : undefined;
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

/** The top-level `text` of a reply: what notifications and screen readers show. */
export function topText(body: unknown): string {
  return String((body as { text?: unknown } | null)?.text ?? '');
}

/** Commit shas the bot wrote on the remote branch (an `Adopted-by:` trailer). */
export function botCommits(remote: string): string[] {
  return git(['--git-dir', remote, 'log', '--format=%H%x1f%B%x1e', 'main'])
    .split('\x1e')
    .map((e) => e.trim().split('\x1f'))
    .filter(([sha, body]) => sha && /^Adopted-by: /m.test(body ?? ''))
    .map(([sha]) => sha!);
}
