// The files a bot under test works on (see botHarness.ts, which re-exports all of this): a publish
// dir with TeamA's stages, consumer repos as bare git remotes seeded with TeamB's conf, smvbot.yml,
// and the names, users and channels tests refer to.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { stringify } from 'yaml';
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

/** Commit shas the bot wrote on the remote branch (an `Adopted-by:` trailer). */
export function botCommits(remote: string): string[] {
  return git(['--git-dir', remote, 'log', '--format=%H%x1f%B%x1e', 'main'])
    .split('\x1e')
    .map((e) => e.trim().split('\x1f'))
    .filter(([sha, body]) => sha && /^Adopted-by: /m.test(body ?? ''))
    .map(([sha]) => sha!);
}
