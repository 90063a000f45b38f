// The benchmark's world on disk: a publish dir of S stages × V versions (Spark layout), a bare
// consumer repo pinning every stage, smvbot.yml, and a separate clone for the git floor.
// Everything lives under one temp dir that `cleanup()` removes.
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { stringify } from 'yaml';
import { makeTempDir, writeVersion, type FixtureModule } from '../../dev/world/publishFixtures.ts';
import { botConfig, botEnv, createBareRepo } from '../../dev/world/worldParts.ts';
import { timeMs } from './stats.ts';

export const SIGNING_SECRET = 'bench-signing-secret-0123456789abcdef';
export const BOT_TOKEN = 'xoxb-bench-0000-bot-token';
export const ANNOUNCE_CHANNEL = 'C0ANNOUNCE';
export const TEAM_CHANNEL = 'C0TEAMB';
export const ADOPTER = 'U0ADOPTER';
export const ADMIN = 'U0ADMIN';
export const CONSUMER = 'client-model';
export const CONF_PATH = 'conf/smv-user-conf.props';

const COLUMNS = [
  { name: 'id', type: 'String' },
  { name: 'zip', type: 'String' },
  { name: 'amt', type: 'Double' },
] as const;

/** Git for the bench's own set-up and checks: no system config, fixed identity. */
export const GIT_ENV: Record<string, string> = {
  PATH: process.env.PATH ?? '/usr/bin:/bin',
  HOME: process.env.HOME ?? '/tmp',
  GIT_CONFIG_NOSYSTEM: '1',
  GIT_AUTHOR_NAME: 'TeamB',
  GIT_AUTHOR_EMAIL: 'teamb@example.test',
  GIT_COMMITTER_NAME: 'TeamB',
  GIT_COMMITTER_EMAIL: 'teamb@example.test',
};

function git(args: readonly string[], input?: Buffer): string {
  return execFileSync('git', args, { encoding: 'utf8', env: GIT_ENV, input });
}

export interface WorldSize {
  stages: number;
  versionsPerStage: number;
}

export class BenchWorld {
  readonly root = makeTempDir('smvbot-bench-');
  readonly publishDir = path.join(this.root, 'publish');
  readonly remote = path.join(this.root, 'client-model.git');
  readonly floorClone = path.join(this.root, 'floor-clone');
  readonly configPath = path.join(this.root, 'smvbot.yml');
  /** Stage FQNs: com.acme.s00 … */
  readonly stages: string[];
  buildMs = 0;
  private dataDirs = 0;
  private freshVersions = 0;

  constructor(readonly size: WorldSize) {
    this.stages = Array.from({ length: size.stages }, (_, i) => `com.acme.s${String(i).padStart(2, '0')}`);
  }

  /** Writes the whole world; the publish tree is the slow part (~10 s for 10,000 versions). */
  async build(): Promise<void> {
    this.buildMs = await timeMs(() => {
      fs.mkdirSync(this.publishDir);
      for (let s = 0; s < this.stages.length; s++) {
        for (let v = 0; v < this.size.versionsPerStage; v++) this.publish(s, this.versionName(s, v));
      }
      this.makeRemote();
      git(['clone', '-q', this.remote, this.floorClone]);
      fs.writeFileSync(this.configPath, stringify(this.topology()));
    });
  }

  baseName(stageIndex: number): string {
    return this.stages[stageIndex]!.split('.').pop()!;
  }

  /** `TCD.<yyyymmdd>.<base>`, one day apart, like SMV publish versions. */
  versionName(stageIndex: number, v: number): string {
    const day = new Date(Date.UTC(2016, 0, 1) + v * 86_400_000).toISOString().slice(0, 10).replaceAll('-', '');
    return `TCD.${day}.${this.baseName(stageIndex)}`;
  }

  /** A version name not used yet (dated 2099+, so it sorts as the newest). */
  freshVersionName(stageIndex: number): string {
    const day = new Date(Date.UTC(2099, 0, 1) + this.freshVersions++ * 86_400_000).toISOString().slice(0, 10).replaceAll('-', '');
    return `TCD.${day}.${this.baseName(stageIndex)}`;
  }

  modules(stageIndex: number): FixtureModule[] {
    const fqn = this.stages[stageIndex]!;
    return [
      { fqn: `${fqn}.Accounts`, columns: COLUMNS, rows: 5 },
      { fqn: `${fqn}.Summary`, columns: COLUMNS, rows: 2 },
    ];
  }

  /** A complete version of one stage, written now. */
  publish(stageIndex: number, version: string): void {
    writeVersion(this.publishDir, version, this.modules(stageIndex), { mtime: 'now' });
  }

  /** Everything of a version except the last `_SUCCESS` (the Summary csv's): Spark still running. */
  publishAllButLastSuccess(stageIndex: number, version: string): string {
    const mods = this.modules(stageIndex);
    writeVersion(this.publishDir, version, [mods[0]!, { ...mods[1]!, incomplete: 'no-success' }], { mtime: 'now' });
    return path.join(this.publishDir, version, `${mods[1]!.fqn}.csv`, '_SUCCESS');
  }

  /** A fresh, empty data dir (a first start). */
  newDataDir(): string {
    const dir = path.join(this.root, `data-${++this.dataDirs}`);
    fs.mkdirSync(dir);
    return dir;
  }

  /** Environment for the bot (in-process through its config, or as a child process). */
  env(dataDir: string, apiUrl: string, port: number): Record<string, string> {
    const world = { home: process.env.HOME ?? this.root, configPath: this.configPath, dataDir, botToken: BOT_TOKEN, signingSecret: SIGNING_SECRET };
    return botEnv(world, { SLACK_API_URL: apiUrl, PORT: String(port), LOG_LEVEL: 'warn' });
  }

  config(dataDir: string, apiUrl: string) {
    return botConfig(this.root, this.env(dataDir, apiUrl, 0));
  }

  remoteFile(): string {
    return git(['--git-dir', this.remote, 'show', `main:${CONF_PATH}`]);
  }

  remoteCommitCount(): number {
    return Number(git(['--git-dir', this.remote, 'rev-list', '--count', 'main']).trim());
  }

  removeDir(dir: string): void {
    fs.rmSync(dir, { recursive: true, force: true });
  }

  /** `rm -rf` is several times faster than fs.rmSync on a tree of ~200,000 entries. */
  cleanup(): void {
    const rm = spawnSync('rm', ['-rf', '--', this.root], { stdio: 'ignore' });
    if (rm.status !== 0) fs.rmSync(this.root, { recursive: true, force: true });
  }

  private topology(): object {
    return {
      // Every minute, as in production: the file watcher is what makes announcements quick.
      scan: { schedule: '*/1 * * * *' },
      publishers: [
        { name: 'public-data', publishDir: 'publish', stages: this.stages, channels: [ANNOUNCE_CHANNEL], settleSeconds: 0 },
      ],
      consumers: [
        {
          name: CONSUMER,
          repo: 'client-model.git',
          branch: 'main',
          confPath: CONF_PATH,
          channels: [TEAM_CHANNEL],
          adopters: [ADOPTER],
          mode: 'push',
        },
      ],
      admins: [ADMIN],
    };
  }

  /** Bare remote whose user conf pins every stage to its oldest version. */
  private makeRemote(): void {
    const pins = this.stages.map((_, s) => `smv.stages.${this.baseName(s)}.version = ${this.versionName(s, 0)}`);
    const files = {
      // SMV reads a stage's pin only when the consumer lists the stage: the app lists every one it pins.
      'conf/smv-app-conf.props': `smv.appName = Client Model\nsmv.stages = com.acme.client, ${this.stages.join(', ')}\n`,
      [CONF_PATH]: ['# TeamB pins the stage versions it builds on', ...pins, ''].join('\n'),
    };
    createBareRepo(git, this.remote, files, { branch: 'main', message: 'Initial TeamB project\n', author: { name: 'TeamB', email: 'teamb@example.test' } });
  }
}
