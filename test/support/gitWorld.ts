// A whole adopt world in one temp dir, for integration tests (SPEC §5):
//
//   root/remote.git          bare repo = the consumer's remote; `main` starts with conf/smv-user-conf.props
//                            and conf/smv-app-conf.props (realistic, like the SMV stage-publish case study)
//   root/publish             the publisher's publishDir, versions of com.acme.geo / cms / trial
//   root/consumer-publish    optional: the consumer's synced copy (every version copied, like `rsync -a`)
//   root/data                SMVBOT_DATA_DIR: the SQLite state (complete versions recorded) and repo clones
//   root/home                HOME for every git call, so the developer's global git config plays no part
//
//   const world = await createGitWorld();
//   const outcome = await world.adopt.adopt({ consumer: world.consumer.name, stage: 'geo', version: 'TCD.20160802.geo', userId: ADOPTER.id });
//   expect(world.remoteFile('conf/smv-user-conf.props')).toContain('TCD.20160802.geo');
//   await world.cleanup();
//
// Everything is real: git subprocesses (ConsumerRepo + createGitRunner), scanVersion, SqliteState,
// StateCatalog, AdoptService. Inspection helpers read the bare remote like a user would.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { AdoptService, type AdoptOutcome, type UnpinOutcome } from '../../src/core/adopt.ts';
import { StateCatalog } from '../../src/core/catalog.ts';
import { Topology, type ConsumerSpec, type PublisherSpec } from '../../src/core/topology.ts';
import { propsEncodingOf } from '../../src/core/consumerPins.ts';
import type { Actor } from '../../src/domain/records.ts';
import { RepoPinPublisher } from '../../src/core/pinTransaction.ts';
import { resolveAdoptTarget } from '../../src/slack/commandResolver.ts';
import { ConsumerWorkspaces, type ConsumerRepoPort, type Identity } from '../../src/core/workspaces.ts';
import type { PublishedVersion } from '../../src/domain/types.ts';
import { ConsumerRepo } from '../../src/infra/git/consumerRepo.ts';
import { createGitRunner, type GitRunner } from '../../src/infra/git/gitRunner.ts';
import { scanVersion } from '../../src/infra/publish/publishScanner.ts';
import { SqliteState } from '../../src/infra/state/sqliteState.ts';
import { toNewVersion } from '../../src/core/versionScan.ts';
import { copyVersion, writeVersion, type FixtureModule, type WriteVersionOptions } from '../../dev/world/publishFixtures.ts';
import { commitFiles, createBareRepo, type RunGit } from '../../dev/world/worldParts.ts';
import { countCalls } from './gitSpies.ts';

export { countCalls, failGitCommand, interceptPush, withoutConfigArgs } from './gitSpies.ts';

/** Slack users of the world: `userName` answers with these real names. */
export const ADOPTER = { id: 'U0ADOPTER', name: 'Ada Lovelace' } as const;
export const ADMIN = { id: 'U0ADMIN', name: 'Grace Hopper' } as const;
export const STRANGER = { id: 'U0STRANGER', name: 'Mallory Stranger' } as const;
export const WORLD_USERS = [ADOPTER, ADMIN, STRANGER] as const;

/** What SMVBOT_GIT_NAME / SMVBOT_GIT_EMAIL would be. */
export const TEST_COMMITTER: Identity = { name: 'smvbot', email: 'smvbot@acme.example' };
/** Identity of the world's own setup commits and of "someone else" pushing by hand. */
export const HUMAN_IDENTITY: Identity = { name: 'Team B Dev', email: 'dev@teamb.example' };

export const DEFAULT_STAGES = ['com.acme.geo', 'com.acme.cms', 'com.acme.trial'] as const;
export const USER_CONF_PATH = 'conf/smv-user-conf.props';
export const APP_CONF_PATH = 'conf/smv-app-conf.props';

/** TeamB's user conf as in the case study: geo and cms pinned to July, trial not pinned yet. */
export const DEFAULT_USER_CONF = [
  '# TeamB user conf: local overrides of conf/smv-app-conf.props',
  '# Data synced from TeamA lives under smv.publishDir.',
  'smv.publishDir = /srv/team-b/publish',
  '',
  '# Published stages we build on (TeamA announces new versions in #data-releases)',
  'smv.stages.geo.version = TCD.20160701.geo',
  'smv.stages.cms.version = TCD.20160701.cms',
  '',
  '# Spark settings for the dev cluster',
  'spark.executor.memory = 4g',
  '',
].join('\n');

/** TeamB's app conf (SMV's enterprise template shape: `smv.stages` with a `\` continuation). */
export const DEFAULT_APP_CONF = [
  '# application name',
  'smv.appName = TeamB Client Model',
  '',
  '# stage definitions',
  'smv.stages = com.acme.client.model, \\',
  '             com.acme.client.score, \\',
  '             com.acme.geo, com.acme.cms, com.acme.trial',
  '# data dir',
  'smv.dataDir = hdfs:///data/teamb',
  '',
].join('\n');

export const DEFAULT_REPO_FILES: Readonly<Record<string, string>> = {
  [USER_CONF_PATH]: DEFAULT_USER_CONF,
  [APP_CONF_PATH]: DEFAULT_APP_CONF,
  'README.md': '# client-model\n\nTeamB scoring model on TeamA published stages.\n',
};

/** The default repo, its app conf listing the world's stages (SMV reads versions of listed stages only). */
function defaultRepoFilesFor(stages: readonly string[] | undefined): Readonly<Record<string, string>> {
  if (stages === undefined) return DEFAULT_REPO_FILES;
  const listing = `smv.stages = com.acme.client.model, com.acme.client.score, ${stages.join(', ')}\n`;
  return { ...DEFAULT_REPO_FILES, [APP_CONF_PATH]: DEFAULT_APP_CONF + listing };
}

/** A version to write into the publisher's publishDir. */
export interface VersionSpec {
  version: string;
  /** Stage FQNs whose modules go in (two modules each), or explicit modules. */
  stages?: readonly string[];
  modules?: readonly FixtureModule[];
  /** When it was written (so when it completed). Default: derived from a `TCD.YYYYMMDD.` name, else 2016-08-02. */
  mtime?: WriteVersionOptions['mtime'];
}

/** Versions every default world has: July and August of each stage. */
export const DEFAULT_VERSIONS: readonly VersionSpec[] = [
  { version: 'TCD.20160701.geo', stages: ['com.acme.geo'] },
  { version: 'TCD.20160802.geo', stages: ['com.acme.geo'] },
  { version: 'TCD.20160701.cms', stages: ['com.acme.cms'] },
  { version: 'TCD.20160802.cms', stages: ['com.acme.cms'] },
  { version: 'TCD.20160802.trial', stages: ['com.acme.trial'] },
];

export interface GitWorldOptions {
  /** Publisher stage FQNs. Default DEFAULT_STAGES. */
  stages?: readonly string[];
  /** Default DEFAULT_VERSIONS. */
  versions?: readonly VersionSpec[];
  /** Files of the remote's initial commit on the consumer branch. Default DEFAULT_REPO_FILES. */
  repoFiles?: Readonly<Record<string, string | Buffer>>;
  /** Overrides of the consumer (name `client-model`, repo = the bare remote, branch `main`, adopters [ADOPTER], mode push). */
  consumer?: Partial<Omit<ConsumerSpec, 'publishDir'>>;
  /** Give the consumer a publishDir holding a synced copy of every version written at creation. */
  consumerPublishDir?: boolean;
  /** Default [ADMIN.id]. */
  admins?: readonly string[];
  /** Wraps the real ConsumerRepo (e.g. to push a foreign commit just before the bot's push). */
  wrapRepo?: (repo: ConsumerRepo, world: GitWorld) => ConsumerRepoPort;
  /** The publisher's bound on push attempts when the remote moves. */
  maxPushAttempts?: number;
  /** Timeout of each git call the bot makes. */
  gitTimeoutMs?: number;
  /** Wraps the bot's git runner (e.g. to make one command fail as a full disk would). */
  wrapGit?: (runner: GitRunner) => GitRunner;
  /** The consumer's `repo` as the bot is given it, from the bare remote's path (e.g. an ssh:// or http:// URL to it). */
  repoUrl?: (remotePath: string) => string;
  /** Environment of the bot's git runner besides PATH and HOME (e.g. GIT_SSH_COMMAND). */
  gitEnv?: Record<string, string>;
  /** The adopt use case's clock (soak times); default the real one. */
  now?: () => Date;
}

export interface CommitInfo {
  sha: string;
  parents: string[];
  author: Identity;
  committer: Identity;
  /** Full message as git stores it (`%B`). */
  message: string;
}

export interface GitWorld {
  root: string;
  /** Path of the bare remote (the consumer's `repo`). */
  remote: string;
  publishDir: string;
  consumerPublishDir: string | undefined;
  dataDir: string;
  /** Where the bot keeps its clone of the consumer repo. */
  cloneDir: string;
  publisher: PublisherSpec;
  consumer: ConsumerSpec;
  topology: Topology;
  state: SqliteState;
  catalog: StateCatalog;
  workspaces: ConsumerWorkspaces;
  adopt: AdoptService;
  /**
   * `/smv adopt` as the Slack edge runs it: names resolved (a refusal when they do not), the
   * user's name looked up, then the use case. The consumer defaults to the world's.
   */
  adoptAs(req: { stage: string; version: string; userId: string; consumer?: string }): Promise<AdoptOutcome>;
  /** `/smv unpin`, the same way. */
  unpinAs(req: { stage: string; userId: string; consumer?: string }): Promise<UnpinOutcome>;
  inspectVersion(publishDir: string, version: string, opts: { stages: string[]; settleSeconds: number }): Promise<PublishedVersion | undefined>;
  /**
   * Every git command the bot's clones ran, oldest first, without the leading `-c key=value`
   * pairs (e.g. `['fetch', '-q', '--no-tags', '--', remote, refspec]`). Tests may empty it.
   */
  botGitCalls: string[][];

  /** Writes a version into the publisher's publishDir and, if complete, records it (as the scanner would). */
  publish(spec: VersionSpec): Promise<PublishedVersion>;
  /** Copies a version into the consumer's publishDir (`rsync -a`). */
  syncVersion(version: string): void;

  /** Runs git with the world's environment (isolated HOME, fixed identity); returns stdout. */
  git(args: readonly string[], opts?: { cwd?: string; input?: string }): string;
  /** `git --git-dir <remote> …` */
  remoteGit(args: readonly string[]): string;
  /** Full sha of a remote branch, or null when the branch does not exist. */
  remoteHead(branch?: string): string | null;
  /** All remote branches with their shas (to prove "remote untouched"). */
  remoteRefs(): Record<string, string>;
  /** A file's text on a remote branch, or null when absent. */
  remoteFile(relPath: string, branch?: string): string | null;
  remoteFileBytes(relPath: string, branch?: string): Buffer | null;
  /** Commits reachable from a remote branch, newest first. */
  remoteLog(branch?: string): CommitInfo[];
  /** Commits files (null deletes one) on top of a remote branch, as a teammate's push would; returns the sha. */
  commitToRemote(files: Readonly<Record<string, string | Buffer | null>>, message: string, branch?: string): string;
  /** Installs an executable hook (e.g. `pre-receive`) in the bare remote. */
  installRemoteHook(name: string, script: string): void;

  cleanup(): Promise<void>;
}

const GIT_ENV_PASSTHROUGH = ['PATH', 'TMPDIR'] as const;

/** `TCD.20160802.geo` completed on 2016-08-02 at noon; other names on 2016-08-02. */
function defaultMtime(version: string): Date {
  const m = /(?:^|\.)(\d{4})(\d{2})(\d{2})(?:\.|$)/.exec(version);
  return new Date(m ? `${m[1]}-${m[2]}-${m[3]}T12:00:00Z` : '2016-08-02T12:00:00Z');
}

/** Two modules per stage, e.g. com.acme.geo.ZipMaster and com.acme.geo.CountyDaily. */
export function modulesForStage(stageFqn: string): FixtureModule[] {
  const base = stageFqn.slice(stageFqn.lastIndexOf('.') + 1);
  const cap = base.charAt(0).toUpperCase() + base.slice(1);
  return [
    { fqn: `${stageFqn}.${cap}Master`, columns: [{ name: `${base}_id`, type: 'String' }, { name: 'amt', type: 'Double' }] },
    { fqn: `${stageFqn}.${cap}Daily`, columns: [{ name: `${base}_id`, type: 'String' }, { name: 'n', type: 'Integer' }], metaStyle: 'python' },
  ];
}

export async function createGitWorld(options: GitWorldOptions = {}): Promise<GitWorld> {
  const root = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'smvbot-gitworld-')));
  const dirs = {
    remote: path.join(root, 'remote.git'),
    publish: path.join(root, 'publish'),
    consumerPublish: options.consumerPublishDir ? path.join(root, 'consumer-publish') : undefined,
    data: path.join(root, 'data'),
    home: path.join(root, 'home'),
  };
  for (const dir of [dirs.publish, dirs.data, dirs.home, dirs.consumerPublish]) if (dir) fs.mkdirSync(dir, { recursive: true });
  // The only global config any git here sees. No automatic gc/maintenance: they add processes
  // to every fetch, commit and push, and these repos never grow big enough to need them.
  fs.writeFileSync(path.join(dirs.home, '.gitconfig'), '[gc]\n\tauto = 0\n[maintenance]\n\tauto = false\n[receive]\n\tautogc = false\n');

  const gitEnv: Record<string, string> = { HOME: dirs.home, LC_ALL: 'C', GIT_CONFIG_NOSYSTEM: '1', GIT_TERMINAL_PROMPT: '0' };
  for (const name of GIT_ENV_PASSTHROUGH) if (process.env[name] !== undefined) gitEnv[name] = process.env[name]!;
  const identityArgs = ['-c', `user.name=${HUMAN_IDENTITY.name}`, '-c', `user.email=${HUMAN_IDENTITY.email}`, '-c', 'core.autocrlf=false', '-c', 'init.defaultBranch=main'];

  const gitRaw = (args: readonly string[], opts: { cwd?: string; input?: string | Buffer } = {}): Buffer =>
    execFileSync('git', [...identityArgs, ...args], {
      cwd: opts.cwd ?? root,
      env: gitEnv,
      input: opts.input ?? '',
      stdio: ['pipe', 'pipe', 'pipe'],
      maxBuffer: 64 * 1024 * 1024,
    });
  const git = (args: readonly string[], opts?: { cwd?: string; input?: string | Buffer }): string => gitRaw(args, opts).toString('utf8');
  const remoteGit = (args: readonly string[]): string => git(['--git-dir', dirs.remote, ...args]);

  const stages = [...(options.stages ?? DEFAULT_STAGES)];
  const publisher: PublisherSpec = { name: 'public-data', publishDir: dirs.publish, stages, channels: ['C0ANNOUNCE'], settleSeconds: 30 };
  const consumer: ConsumerSpec = {
    name: 'client-model',
    repo: dirs.remote,
    branch: 'main',
    confPath: USER_CONF_PATH,
    channels: ['C0TEAMB'],
    adopters: [ADOPTER.id],
    mode: 'push',
    ...(options.repoUrl ? { repo: options.repoUrl(dirs.remote) } : {}),
    ...options.consumer,
    ...(dirs.consumerPublish ? { publishDir: dirs.consumerPublish } : {}),
  };
  const topology = new Topology([publisher], [consumer], [...(options.admins ?? [ADMIN.id])]);
  const { store: state } = await SqliteState.open(dirs.data);
  const catalog = new StateCatalog(state);
  const inspectVersion: GitWorld['inspectVersion'] = (publishDir, version, o) => scanVersion(publishDir, version, o);

  const cloneDir = path.join(dirs.data, 'repos', consumer.name);
  const botGitCalls: string[][] = [];
  const realRunner = createGitRunner({ ...process.env, HOME: dirs.home, ...options.gitEnv }, options.gitTimeoutMs ? { timeoutMs: options.gitTimeoutMs } : {});
  const runner = countCalls(options.wrapGit ? options.wrapGit(realRunner) : realRunner, botGitCalls);
  const repos = new Map<string, ConsumerRepoPort>();
  // Filled in below; wrapRepo gets the finished world.
  let world!: GitWorld;
  const workspaces = new ConsumerWorkspaces((c) => {
    let repo = repos.get(c.name);
    if (!repo) {
      const real = new ConsumerRepo(runner, path.join(dirs.data, 'repos', c.name), c.repo, c.branch, { propsEncoding: propsEncodingOf(c) });
      repo = options.wrapRepo ? options.wrapRepo(real, world) : real;
      repos.set(c.name, repo);
    }
    return repo;
  });
  const names = new Map<string, string>(WORLD_USERS.map((u) => [u.id, u.name]));
  const adopt = new AdoptService({
    topology,
    catalog,
    inspectVersion,
    workspaces,
    ...(options.now ? { now: options.now } : {}),
    publisher: new RepoPinPublisher({
      state,
      committer: TEST_COMMITTER,
      sleep: async () => undefined,
      ...(options.maxPushAttempts !== undefined ? { maxPushAttempts: options.maxPushAttempts } : {}),
    }),
  });
  const actor = (id: string): Actor => ({ id, name: names.get(id) ?? id });
  const adoptAs: GitWorld['adoptAs'] = async (req) => {
    const target = resolveAdoptTarget(topology, req.stage, req.consumer ?? consumer.name, undefined);
    if (!target.ok) return target;
    return adopt.adopt({ consumer: target.consumer, stage: target.stage, version: req.version, actor: actor(req.userId) });
  };
  const unpinAs: GitWorld['unpinAs'] = async (req) => {
    const target = resolveAdoptTarget(topology, req.stage, req.consumer ?? consumer.name, undefined);
    if (!target.ok) return target;
    return adopt.unpin({ consumer: target.consumer, stage: target.stage, actor: actor(req.userId) });
  };

  const remoteFileBytes = (relPath: string, branch = consumer.branch): Buffer | null => {
    try {
      return gitRaw(['--git-dir', dirs.remote, 'show', `refs/heads/${branch}:${relPath}`]);
    } catch {
      return null;
    }
  };

  const runGit: RunGit = (args, input) => git(args, { input });
  const commitToRemote: GitWorld['commitToRemote'] = (files, message, branch = consumer.branch) =>
    commitFiles(runGit, dirs.remote, files, { branch, message, author: HUMAN_IDENTITY });

  const publish = async (spec: VersionSpec): Promise<PublishedVersion> => {
    const modules = spec.modules ?? (spec.stages ?? []).flatMap(modulesForStage);
    writeVersion(dirs.publish, spec.version, modules, { mtime: spec.mtime ?? defaultMtime(spec.version) });
    const scanned = await scanVersion(dirs.publish, spec.version, { stages, settleSeconds: publisher.settleSeconds });
    if (!scanned) throw new Error(`gitWorld: ${spec.version} was written but cannot be scanned`);
    if (scanned.complete) {
      await state.recordVersions(publisher.name, [toNewVersion(scanned)], { channels: publisher.channels, silent: true, at: new Date().toISOString() });
      catalog.invalidate();
    }
    return scanned;
  };

  world = {
    root,
    remote: dirs.remote,
    publishDir: dirs.publish,
    consumerPublishDir: dirs.consumerPublish,
    dataDir: dirs.data,
    cloneDir,
    publisher,
    consumer,
    topology,
    state,
    catalog,
    workspaces,
    adopt,
    adoptAs,
    unpinAs,
    inspectVersion,
    botGitCalls,
    publish,
    syncVersion(version) {
      if (!dirs.consumerPublish) throw new Error('gitWorld: create the world with consumerPublishDir: true to sync versions');
      copyVersion(dirs.publish, dirs.consumerPublish, version);
    },
    git,
    remoteGit,
    remoteHead(branch = consumer.branch) {
      const line = remoteGit(['for-each-ref', '--format=%(objectname)', `refs/heads/${branch}`]).trim();
      return line === '' ? null : line;
    },
    remoteRefs() {
      const refs: Record<string, string> = {};
      for (const line of remoteGit(['for-each-ref', '--format=%(refname) %(objectname)']).split('\n')) {
        const [ref, sha] = line.split(' ');
        if (ref && sha) refs[ref] = sha;
      }
      return refs;
    },
    remoteFile(relPath, branch) {
      return remoteFileBytes(relPath, branch)?.toString('utf8') ?? null;
    },
    remoteFileBytes,
    remoteLog(branch = consumer.branch) {
      const out = remoteGit(['log', '--format=%H%x00%P%x00%an%x00%ae%x00%cn%x00%ce%x00%B%x1e', `refs/heads/${branch}`]);
      return out
        .split('\x1e')
        .map((record) => record.replace(/^\n/, ''))
        .filter((record) => record !== '')
        .map((record) => {
          const [sha, parents, an, ae, cn, ce, message] = record.split('\x00') as [string, string, string, string, string, string, string];
          return {
            sha,
            parents: parents === '' ? [] : parents.split(' '),
            author: { name: an, email: ae },
            committer: { name: cn, email: ce },
            message,
          };
        });
    },
    commitToRemote,
    installRemoteHook(name, script) {
      const hook = path.join(dirs.remote, 'hooks', name);
      fs.writeFileSync(hook, script);
      fs.chmodSync(hook, 0o755);
    },
    async cleanup() {
      await workspaces.drain();
      await state.close();
      fs.rmSync(root, { recursive: true, force: true });
    },
  };

  try {
    createBareRepo(runGit, dirs.remote, options.repoFiles ?? defaultRepoFilesFor(options.stages), { branch: consumer.branch, message: 'Initial commit\n', author: HUMAN_IDENTITY });
    for (const spec of options.versions ?? DEFAULT_VERSIONS) {
      await publish(spec);
      if (dirs.consumerPublish) world.syncVersion(spec.version);
    }
  } catch (error) {
    await world.cleanup();
    throw error;
  }
  return world;
}
