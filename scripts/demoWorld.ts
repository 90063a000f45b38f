// The sample world `npm run demo` runs in: TeamA's publish dir and app conf, TeamB's consumer
// repo (a bare git remote) and synced publish dir, and the smvbot.yml tying them together.
// Shapes follow SMV's enterprise template and the stage publish case study (TCD.2016… versions).
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { Column } from '../src/domain/types.ts';
import { copyVersion, makeTempDir, removeDir, writeVersion, type FixtureModule } from '../dev/world/publishFixtures.ts';
import { createBareRepo } from '../dev/world/worldParts.ts';

export const ANNOUNCE_CHANNEL = 'C0SMVRELEASES';
export const TEAM_B_CHANNEL = 'C0TEAMB';
/** TeamB's lead: allowed to adopt for client-model. */
export const ADOPTER = { id: 'U0BEALOPEZ', name: 'Bea Lopez' };
/** TeamA's lead: admin. */
export const ADMIN = { id: 'U0ADAKING', name: 'Ada King' };
/** Who made the first commit of TeamB's and TeamC's repos. */
const BEA = { name: 'Bea Lopez', email: 'bea@team-b.example' };
const CY = { name: 'Cy Team C', email: 'cy@team-c.example' };
export const TEAM_C_CHANNEL = 'C0TEAMC';
export const CHANNEL_NAMES: Record<string, string> = { [ANNOUNCE_CHANNEL]: 'smv-releases', [TEAM_B_CHANNEL]: 'team-b', [TEAM_C_CHANNEL]: 'team-c' };

export const PUBLISHER = 'public-data';
export const CONSUMER = 'client-model';
export const BRANCH = 'main';
export const USER_CONF_PATH = 'conf/smv-user-conf.props';
/** TeamC runs SMV 2.4: its input modules read TeamA's data through connections, pinned here. */
export const MODERN = 'modern-model';
export const CONNECTIONS_PATH = 'conf/connections.props';
export const TEAM_C_SMV_PUBLISH_DIR = 'hdfs:///data/team-c/publish';
export const STAGES = ['com.acme.geo', 'com.acme.cms', 'com.acme.trial'] as const;
export type StageFqn = (typeof STAGES)[number];

const str = (name: string): Column => ({ name, type: 'String' });
const dbl = (name: string): Column => ({ name, type: 'Double' });
const int = (name: string): Column => ({ name, type: 'Integer' });
const lng = (name: string): Column => ({ name, type: 'Long' });
const bool = (name: string): Column => ({ name, type: 'Boolean' });

/** TeamA's modules per stage as of a release; August adds a module and a column, like real data work. */
export function modulesOf(stage: StageFqn, release: 'TCD.20160701' | 'TCD.20160802'): FixtureModule[] {
  const august = release === 'TCD.20160802';
  const spark = { parts: 2, rows: 24 } as const;
  switch (stage) {
    case 'com.acme.geo':
      return [
        { fqn: 'com.acme.geo.ZipMaster', columns: [str('zip'), str('city'), str('state'), str('county_fips'), dbl('lat'), dbl('lon')], ...spark },
        {
          fqn: 'com.acme.geo.CountyDemographics',
          columns: [str('county_fips'), lng('population'), dbl('median_income'), bool('urban'), ...(august ? [dbl('poverty_rate')] : [])],
          ...spark,
        },
        { fqn: 'com.acme.geo.ZipToHsa', columns: [str('zip'), str('hsa_id'), str('hrr_id')], ...spark },
        ...(august ? [{ fqn: 'com.acme.geo.ZipToCbsa', columns: [str('zip'), str('cbsa_code'), str('cbsa_title')], ...spark }] : []),
      ];
    case 'com.acme.cms':
      return [
        { fqn: 'com.acme.cms.ProviderRegistry', columns: [str('npi'), str('provider_name'), str('specialty'), str('zip')], ...spark },
        {
          fqn: 'com.acme.cms.InpatientCharges',
          columns: [str('npi'), str('drg_code'), int('discharges'), dbl('avg_covered_charges'), dbl('avg_total_payments')],
          ...spark,
        },
      ];
    case 'com.acme.trial':
      return [
        { fqn: 'com.acme.trial.TrialSites', columns: [str('nct_id'), str('site_name'), str('zip'), str('status')], ...spark },
        { fqn: 'com.acme.trial.TrialOutcomes', columns: [str('nct_id'), str('phase'), int('enrollment'), bool('completed')], ...spark },
      ];
  }
}

export function baseName(stage: string): string {
  return stage.split('.').pop()!;
}

/** `TCD.20160802.geo`: the release prefix plus the stage base name, as in the case study. */
export function versionName(release: string, stage: string): string {
  return `${release}.${baseName(stage)}`;
}

/** When a release's last file was written: 10:00 UTC on the day its name gives (the versions are from 2016). */
function completedAt(release: string): Date {
  return new Date(metaTimestamp(release).replace('T09:30:00Z', 'T10:00:00Z'));
}

function metaTimestamp(release: string): string {
  const day = /(\d{4})(\d{2})(\d{2})$/.exec(release);
  return day ? `${day[1]}-${day[2]}-${day[3]}T09:30:00Z` : '2016-08-02T09:30:00Z';
}

// Real SMV enterprise template shape: `smv.stages` continued over lines with `\`.
const TEAM_A_APP_CONF = `# application name
smv.appName = Public Data

# stage definitions: published to smv.publishDir with smv-run --publish <version> -s <stage>
smv.stages = com.acme.geo, \\
    com.acme.cms, com.acme.trial
`;

const TEAM_B_APP_CONF = `# application name
smv.appName = Client Model

# stage definitions: our own, and TeamA's published stages we read (pinned in the user conf)
smv.stages = com.client.model.input, \\
             com.client.model.score, \\
             com.acme.geo, com.acme.cms, com.acme.trial
`;

function teamBUserConf(syncedPublishDir: string): string {
  return `# TeamB user config: where SMV finds data, and the TeamA stage versions we build on.
# The smv.stages.*.version pins below are changed through smvbot (/smv adopt), so every
# change is a commit saying who adopted what and why.

# data dir
smv.dataDir = file:///srv/team-b/data

# TeamA's published stages, rsynced from TeamA's server
smv.publishDir = ${syncedPublishDir}

# published versions of TeamA's stages (directory names under smv.publishDir)
smv.stages.geo.version = TCD.20160701.geo
smv.stages.cms.version = TCD.20160701.cms
smv.stages.trial.version = TCD.20160701.trial
`;
}

const TEAM_C_APP_CONF = `# application name
smv.appName = Modern Model

# stage definitions
smv.stages = com.teamc.model
`;

// SMV 2.4 merges conf/connections.props over the app conf (and under the user conf, which the
// template git-ignores). TeamC's input modules name these connections.
const TEAM_C_CONNECTIONS = `# Connections of the modern-model app (SMV 2.4): input modules name a connection and a file.
smv.conn.myinput.type = hdfs
smv.conn.myinput.path = hdfs:///data/team-c/input

# TeamA's published stages, synced to TeamC's cluster; the paths are pinned through smvbot.
smv.conn.pdd_geo.type = hdfs
smv.conn.pdd_geo.path = ${TEAM_C_SMV_PUBLISH_DIR}/TCD.20160701.geo
smv.conn.pdd_cms.type = hdfs
smv.conn.pdd_cms.path = ${TEAM_C_SMV_PUBLISH_DIR}/TCD.20160701.cms
`;

// The start of SMV's project template .gitignore: the user conf is private; connections.props is tracked.
const SMV_TEMPLATE_GITIGNORE = `conf/smv-user-conf.props
.smv_shell_all_args

data/output
data/history

*.class
*.log
*.pyc
`;

// SMV's template ignores conf/smv-user-conf.props; a team that pins through smvbot tracks it.
const TEAM_B_GITIGNORE = `# conf/smv-user-conf.props is tracked on purpose: it holds the stage pins smvbot commits.
.smv_shell_all_args

data/output
data/history

target/
*.class
*.log
*.pyc
`;

function smvbotYml(): string {
  return `# smvbot topology for the demo (paths are relative to this file).
scan:
  schedule: "*/2 * * * * *"   # every 2 seconds, so the demo does not wait; file changes also trigger scans
publishers:
  - name: ${PUBLISHER}
    publishDir: teamA/publish
    appConf: teamA/conf/smv-app-conf.props
    channels: [${ANNOUNCE_CHANNEL}]
    settleSeconds: 1
consumers:
  - name: ${CONSUMER}
    repo: teamB/client-model.git
    branch: ${BRANCH}
    confPath: ${USER_CONF_PATH}
    publishDir: teamB/publish
    channels: [${TEAM_B_CHANNEL}]
    adopters: [${ADOPTER.id}]
    mode: push
  - name: ${MODERN}
    repo: teamC/modern-model.git
    branch: ${BRANCH}
    smvVersion: 2.4r1
    connectionsPath: ${CONNECTIONS_PATH}
    connections: { geo: pdd_geo, cms: pdd_cms, trial: pdd_trial }
    smvPublishDir: ${TEAM_C_SMV_PUBLISH_DIR}
    channels: [${TEAM_C_CHANNEL}]
    adopters: ["*"]
admins: [${ADMIN.id}]
`;
}

/** A git call of the demo itself failed; the message says which and why. */
export class GitCommandError extends Error {
  /** Set when a signal (Ctrl-C) ended git. */
  readonly signal: string | null;

  private constructor(message: string, signal: string | null) {
    super(message);
    this.name = 'GitCommandError';
    this.signal = signal;
  }

  static from(args: readonly string[], error: unknown): GitCommandError {
    const e = error as { code?: unknown; signal?: string | null; stderr?: unknown; message?: string };
    if (e.code === 'ENOENT') {
      return new GitCommandError('git is not installed or not on PATH. smvbot and its demo need git: install it, then run `npm run demo` again.', null);
    }
    const stderr = typeof e.stderr === 'string' ? e.stderr.trim() : '';
    return new GitCommandError(`\`git ${args.join(' ')}\` failed: ${stderr || e.message || String(error)}`, e.signal ?? null);
  }
}

/** Files on disk for one demo run, all under one temp dir. */
export class DemoWorld {
  readonly root: string;
  readonly teamAPublishDir: string;
  readonly teamAAppConf: string;
  readonly teamBPublishDir: string;
  readonly remote: string;
  /** TeamC's repo (SMV 2.4, connection pins). */
  readonly remoteC: string;
  readonly dataDir: string;
  readonly configPath: string;
  /** HOME for git and the bot: keeps the user's global git config (signing, hooks) out of the demo. */
  readonly home: string;

  constructor() {
    this.root = makeTempDir('smvbot-demo-');
    this.teamAPublishDir = path.join(this.root, 'teamA', 'publish');
    this.teamAAppConf = path.join(this.root, 'teamA', 'conf', 'smv-app-conf.props');
    this.teamBPublishDir = path.join(this.root, 'teamB', 'publish');
    this.remote = path.join(this.root, 'teamB', 'client-model.git');
    this.remoteC = path.join(this.root, 'teamC', 'modern-model.git');
    this.dataDir = path.join(this.root, 'data');
    this.configPath = path.join(this.root, 'smvbot.yml');
    this.home = path.join(this.root, 'home');
  }

  /** TeamA's July release everywhere (published and synced), TeamB's repo, smvbot.yml. */
  build(): void {
    for (const dir of [this.teamAPublishDir, this.teamBPublishDir, path.dirname(this.teamAAppConf), this.home]) {
      fs.mkdirSync(dir, { recursive: true });
    }
    fs.writeFileSync(this.teamAAppConf, TEAM_A_APP_CONF);
    for (const stage of STAGES) {
      const version = versionName('TCD.20160701', stage);
      writeVersion(this.teamAPublishDir, version, modulesOf(stage, 'TCD.20160701'), { mtime: completedAt('TCD.20160701'), crc: true, timestamp: metaTimestamp('TCD.20160701') });
      this.sync(version);
    }
    const git = (args: readonly string[], input?: Buffer) => this.git(args, input);
    const teamB = {
      'conf/smv-app-conf.props': TEAM_B_APP_CONF,
      [USER_CONF_PATH]: teamBUserConf(this.teamBPublishDir),
      '.gitignore': TEAM_B_GITIGNORE,
    };
    createBareRepo(git, this.remote, teamB, { branch: BRANCH, message: 'Client model: pin TeamA stages to TCD.20160701\n', author: BEA });
    const teamC = {
      'conf/smv-app-conf.props': TEAM_C_APP_CONF,
      [CONNECTIONS_PATH]: TEAM_C_CONNECTIONS,
      '.gitignore': SMV_TEMPLATE_GITIGNORE,
    };
    createBareRepo(git, this.remoteC, teamC, { branch: BRANCH, message: 'Modern model: read TeamA stages through connections\n', author: CY });
    fs.writeFileSync(this.configPath, smvbotYml());
  }

  /** Step 1 of a Spark write: task attempts under `_temporary`, no `_SUCCESS` yet. */
  startPublish(release: 'TCD.20160802', stage: StageFqn): string {
    const modules = modulesOf(stage, release).map((m) => ({ ...m, incomplete: 'temporary' as const }));
    return writeVersion(this.teamAPublishDir, versionName(release, stage), modules, { mtime: 'now', crc: true, timestamp: metaTimestamp(release) });
  }

  /** Step 2: the job commits: attempts move into place as part files, `_SUCCESS` is written last. */
  finishPublish(release: 'TCD.20160802', stage: StageFqn): string {
    const version = versionName(release, stage);
    const modules = modulesOf(stage, release);
    for (const m of modules) removeDir(path.join(this.teamAPublishDir, version, `${m.fqn}.csv`, '_temporary'));
    // Dated as the release it replays (its files' times are what the announcement calls completed).
    return writeVersion(this.teamAPublishDir, version, modules, { mtime: completedAt(release), crc: true, timestamp: metaTimestamp(release) });
  }

  /** TeamB's `rsync -a teamA:publish/<version> teamB/publish/`. */
  sync(version: string): void {
    copyVersion(this.teamAPublishDir, this.teamBPublishDir, version);
  }

  /** Runs git with the demo's HOME and no system config; returns stdout. */
  git(args: readonly string[], input?: Buffer): string {
    try {
      return execFileSync('git', args, {
        encoding: 'utf8',
        env: { PATH: process.env.PATH ?? '', HOME: this.home, GIT_CONFIG_NOSYSTEM: '1', LC_ALL: 'C' },
        input,
        stdio: 'pipe',
      });
    } catch (error) {
      throw GitCommandError.from(args, error);
    }
  }

  /** Commits on a remote's branch (TeamB's by default), newest first: `<sha> <subject>`. */
  remoteLog(remote = this.remote): string[] {
    return this.git(['--git-dir', remote, 'log', '--format=%H %s', BRANCH]).trim().split('\n');
  }

  relative(p: string): string {
    return path.relative(this.root, p) || '.';
  }

  remove(): void {
    fs.rmSync(this.root, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
  }
}
