import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CONFIG_EXIT_CODE, formatConfigProblems, loadConfig, type AppConfig } from '../src/infra/config/index.ts';

const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

const BOT_TOKEN = 'xoxb-1111-2222-SeCrEtBoTtOkEn';
const SIGNING_SECRET = '8f742231b10e8888abcd99yyyzzz85a5';
const slackEnv = { SLACK_BOT_TOKEN: BOT_TOKEN, SLACK_SIGNING_SECRET: SIGNING_SECRET };

const APP_CONF = [
  '# application name',
  'smv.appName = Example App',
  '',
  '# stage definitions',
  'smv.stages = com.acme.geo, \\',
  '             com.acme.cms',
  '',
].join('\n');

const VALID_YAML = `
scan:
  schedule: "*/5 * * * *"
publishers:
  - name: public-data
    publishDir: publish
    appConf: app/conf/smv-app-conf.props
    stages: [com.acme.trial, com.acme.geo]
    channels: [C0ANNOUNCE]
consumers:
  - name: client-model
    repo: repos/client-model
    publishDir: ../synced
    channels: [C0TEAMB]
    adopters: [U0ADMIN, "*"]
  - name: remote-model
    repo: git@git.example.com:team-b/client-model.git
    branch: release/2024
    confPath: conf/my-user-conf.props
    mode: branch
admins: [U0ADMIN]
`;

function expectOk(result: ReturnType<typeof loadConfig>): AppConfig {
  if (!result.ok) throw new Error(`expected a valid config, got:\n${formatConfigProblems(result.problems)}`);
  return result.config;
}

function expectProblems(result: ReturnType<typeof loadConfig>): string {
  if (result.ok) throw new Error('expected configuration problems, got a valid config');
  return formatConfigProblems(result.problems);
}

describe('loadConfig', () => {
  let tmp: string;
  let cfgDir: string;

  beforeEach(async () => {
    tmp = await mkdtemp(path.join(os.tmpdir(), 'smvbot-config-'));
    cfgDir = path.join(tmp, 'cfg');
    await mkdir(path.join(cfgDir, 'publish'), { recursive: true });
    await mkdir(path.join(cfgDir, 'app', 'conf'), { recursive: true });
    await mkdir(path.join(cfgDir, 'repos', 'client-model'), { recursive: true });
    await mkdir(path.join(tmp, 'synced'), { recursive: true });
    await writeFile(path.join(cfgDir, 'app', 'conf', 'smv-app-conf.props'), APP_CONF);
  });
  afterEach(async () => {
    await rm(tmp, { recursive: true, force: true });
  });

  async function writeYaml(text: string, file = path.join(cfgDir, 'smvbot.yml')): Promise<string> {
    await writeFile(file, text);
    return file;
  }

  it('loads a valid config with defaults, resolved paths and stages from the app conf', async () => {
    await writeYaml(VALID_YAML);
    const config = expectOk(loadConfig({ env: { ...slackEnv, SMVBOT_CONFIG: 'cfg/smvbot.yml' }, cwd: tmp }));

    expect(config.slack).toEqual({
      botToken: BOT_TOKEN,
      signingSecret: SIGNING_SECRET,
      apiUrl: 'https://slack.com/api/',
      port: 3000,
    });
    expect(config.configPath).toBe(path.join(cfgDir, 'smvbot.yml'));
    expect(config.dataDir).toBe(path.join(tmp, 'data'));
    expect(config.git).toMatchObject({ name: 'smvbot', email: 'smvbot@localhost' });
    expect(config.logLevel).toBe('info');
    expect(config.scan).toEqual({ schedule: '*/5 * * * *' });
    expect(config.admins).toEqual(['U0ADMIN']);
    expect(config.publishers).toEqual([
      {
        name: 'public-data',
        publishDir: path.join(cfgDir, 'publish'),
        appConf: path.join(cfgDir, 'app', 'conf', 'smv-app-conf.props'),
        // listed stages first, then smv.stages (with its `\` continuation), without duplicates
        stages: ['com.acme.trial', 'com.acme.geo', 'com.acme.cms'],
        channels: ['C0ANNOUNCE'],
        settleSeconds: 30,
        owners: [],
      },
    ]);
    expect(config.consumers).toEqual([
      {
        name: 'client-model',
        repo: path.join(cfgDir, 'repos', 'client-model'),
        branch: 'main',
        confPath: 'conf/smv-user-conf.props',
        publishDir: path.join(tmp, 'synced'),
        channels: ['C0TEAMB'],
        adopters: ['U0ADMIN', '*'],
        mode: 'push',
        minAgeHours: 0,
        smvVersion: '2.1.1.3',
      },
      {
        name: 'remote-model',
        repo: 'git@git.example.com:team-b/client-model.git',
        branch: 'release/2024',
        confPath: 'conf/my-user-conf.props',
        channels: [],
        adopters: [],
        mode: 'branch',
        minAgeHours: 0,
        smvVersion: '2.1.1.3',
      },
    ]);
  });

  it('reads every environment setting, resolving paths against cwd', async () => {
    await mkdir(path.join(tmp, 'elsewhere'));
    await writeYaml(
      VALID_YAML.replace('publishDir: publish', 'publishDir: ../cfg/publish')
        .replace('appConf: app/', 'appConf: ../cfg/app/')
        .replace('repo: repos/client-model', `repo: ${path.join(cfgDir, 'repos', 'client-model')}`),
      path.join(tmp, 'elsewhere', 'topology.yml'),
    );
    const config = expectOk(
      loadConfig({
        env: {
          SLACK_BOT_TOKEN: BOT_TOKEN,
          SLACK_APP_TOKEN: 'xapp-1-A0-secretapp',
          SLACK_API_URL: 'http://127.0.0.1:4567/api',
          PORT: '0',
          SMVBOT_CONFIG: 'elsewhere/topology.yml',
          SMVBOT_DATA_DIR: 'state',
          SMVBOT_GIT_NAME: 'Bot',
          SMVBOT_GIT_EMAIL: 'bot@example.com',
          LOG_LEVEL: 'DEBUG',
          PATH: '/usr/bin:/bin',
          HOME: '/home/bot',
          SSH_AUTH_SOCK: '/tmp/agent.sock',
          GIT_DIR: '/elsewhere/.git',
          AWS_SECRET_ACCESS_KEY: 'not-for-git',
        },
        cwd: tmp,
      }),
    );
    // Socket Mode (app token): no signing secret needed.
    expect(config.slack).toEqual({
      botToken: BOT_TOKEN,
      appToken: 'xapp-1-A0-secretapp',
      apiUrl: 'http://127.0.0.1:4567/api/',
      port: 0,
    });
    expect(config.configPath).toBe(path.join(tmp, 'elsewhere', 'topology.yml'));
    expect(config.dataDir).toBe(path.join(tmp, 'state'));
    // git subprocesses see only what they need to reach remotes, never GIT_DIR or unrelated secrets.
    expect(config.git).toEqual({
      name: 'Bot',
      email: 'bot@example.com',
      env: { PATH: '/usr/bin:/bin', HOME: '/home/bot', SSH_AUTH_SOCK: '/tmp/agent.sock' },
      timeoutSeconds: 60,
    });
    expect(config.logLevel).toBe('debug');
    expect(config.publishers[0]?.publishDir).toBe(path.join(cfgDir, 'publish'));
    expect(config.consumers[0]?.publishDir).toBe(path.join(tmp, 'synced'));
  });

  it('reads .env from cwd, lets the real environment win, and leaves process.env alone', async () => {
    await writeYaml(VALID_YAML);
    await writeFile(
      path.join(tmp, '.env'),
      [
        '# copied from .env.example',
        `SLACK_BOT_TOKEN=${BOT_TOKEN}`,
        `SLACK_SIGNING_SECRET="${SIGNING_SECRET}"`,
        'SLACK_APP_TOKEN=',
        'SMVBOT_CONFIG=cfg/smvbot.yml',
        'PORT=4000',
        'LOG_LEVEL=warn',
        'SMVBOT_GIT_NAME=from-dotenv',
      ].join('\n'),
    );
    const env = { PORT: '5000', SMVBOT_GIT_NAME: '' };
    const config = expectOk(loadConfig({ env, cwd: tmp }));
    expect(config.slack.botToken).toBe(BOT_TOKEN);
    expect(config.slack.signingSecret).toBe(SIGNING_SECRET);
    expect(config.slack.appToken).toBeUndefined(); // empty means unset: HTTP mode
    expect(config.slack.port).toBe(5000); // real env wins
    expect(config.logLevel).toBe('warn'); // .env fills what the real env lacks
    expect(config.git.name).toBe('from-dotenv'); // an empty real value counts as unset
    expect(env).toEqual({ PORT: '5000', SMVBOT_GIT_NAME: '' });
    expect(process.env['SMVBOT_GIT_NAME']).toBeUndefined();
  });

  it('without SLACK_BOT_TOKEN, says how to configure Slack or to try the demo', async () => {
    await writeYaml(VALID_YAML);
    const result = loadConfig({ env: { SMVBOT_CONFIG: 'cfg/smvbot.yml' }, cwd: tmp });
    const message = expectProblems(result);
    expect(result.ok ? [] : result.problems).toHaveLength(1);
    expect(message).toContain('SLACK_BOT_TOKEN is not set');
    expect(message).toContain('copy .env.example to .env');
    expect(message).toContain('SLACK_SIGNING_SECRET');
    expect(message).toContain('README "Installing the Slack app"');
    expect(message).toContain('npm run demo');
    expect(CONFIG_EXIT_CODE).toBe(2);

    // Tools and the demo don't need Slack credentials.
    expectOk(loadConfig({ env: { SMVBOT_CONFIG: 'cfg/smvbot.yml' }, cwd: tmp, requireSlack: false }));
  });

  it('asks for the signing secret in HTTP mode', async () => {
    await writeYaml(VALID_YAML);
    const message = expectProblems(loadConfig({ env: { SLACK_BOT_TOKEN: BOT_TOKEN, SMVBOT_CONFIG: 'cfg/smvbot.yml' }, cwd: tmp }));
    expect(message).toContain('SLACK_SIGNING_SECRET is not set');
    expect(message).toContain('Basic Information');
  });

  it('never puts token or secret values in messages', async () => {
    await writeYaml('publishers: nope\n');
    const badBot = 'xoxp-9999-LEAKEDuserTOKEN';
    const badApp = 'xoxb-LEAKEDinAppSlot';
    const result = loadConfig({
      env: { SLACK_BOT_TOKEN: badBot, SLACK_APP_TOKEN: badApp, SLACK_SIGNING_SECRET: SIGNING_SECRET, SMVBOT_CONFIG: 'cfg/smvbot.yml' },
      cwd: tmp,
    });
    const message = expectProblems(result);
    expect(message).toContain('SLACK_BOT_TOKEN does not look like a bot token: it must start with xoxb-');
    expect(message).toContain('SLACK_APP_TOKEN does not look like an app-level token: it must start with xapp-');
    for (const secret of [badBot, badApp, SIGNING_SECRET, 'LEAKED']) expect(message).not.toContain(secret);
  });

  it('reads SMVBOT_GIT_TIMEOUT_SECONDS, and refuses a value that is not a positive number of seconds', async () => {
    await writeYaml(VALID_YAML);
    const env = { ...slackEnv, SMVBOT_CONFIG: 'cfg/smvbot.yml' };
    expect(expectOk(loadConfig({ env: { ...env, SMVBOT_GIT_TIMEOUT_SECONDS: '90' }, cwd: tmp })).git.timeoutSeconds).toBe(90);
    expect(expectOk(loadConfig({ env: { ...env, SMVBOT_GIT_TIMEOUT_SECONDS: '2.5' }, cwd: tmp })).git.timeoutSeconds).toBe(2.5);
    for (const bad of ['0', '-5', 'soon', '1e3']) {
      const message = expectProblems(loadConfig({ env: { ...env, SMVBOT_GIT_TIMEOUT_SECONDS: bad }, cwd: tmp }));
      expect(message).toContain(`SMVBOT_GIT_TIMEOUT_SECONDS must be a number of seconds above 0 and at most 86400 (got "${bad}"); leave it unset for 60.`);
    }
  });

  it('SMVBOT_DATABASE_URL selects PostgreSQL with a credential-free location; a bad one is refused without echoing it', async () => {
    await writeYaml(VALID_YAML);
    const env = { ...slackEnv, SMVBOT_CONFIG: 'cfg/smvbot.yml' };
    expect(expectOk(loadConfig({ env, cwd: tmp })).database).toEqual({ kind: 'sqlite' });
    const url = 'postgres://smvbot:s3cr%40t-pw@db.example.com:6543/smvbot?options=-c%20search_path%3Dbot';
    expect(expectOk(loadConfig({ env: { ...env, SMVBOT_DATABASE_URL: url }, cwd: tmp })).database).toEqual({
      kind: 'postgresql',
      url,
      location: 'postgresql://db.example.com:6543/smvbot (schema bot)',
      password: 's3cr@t-pw',
    });
    const cases: [string, RegExp][] = [
      ['mysql://smvbot:s3cr3t-pw@db/smvbot', /must be a PostgreSQL URL starting with postgres:\/\/ \(got mysql:\/\/…\)/],
      ['postgres://smvbot:s3cr3t-pw@db.example.com', /SMVBOT_DATABASE_URL names no database name; write it as postgres:/],
      ['not a url s3cr3t-pw', /SMVBOT_DATABASE_URL is not a URL; write it as postgres:\/\/host:5432\/database with user:password@ before the host/],
    ];
    for (const [bad, expected] of cases) {
      const message = expectProblems(loadConfig({ env: { ...env, SMVBOT_DATABASE_URL: bad }, cwd: tmp }));
      expect(message).toMatch(expected);
      expect(message).toContain('or leave it unset to keep the state in SQLite in SMVBOT_DATA_DIR');
      expect(message).not.toContain('s3cr3t');
    }
  });

  it('refuses a GIT_SSH_COMMAND that turns ssh batch mode off, saying what to do instead', async () => {
    await writeYaml(VALID_YAML);
    const env = { ...slackEnv, SMVBOT_CONFIG: 'cfg/smvbot.yml', GIT_SSH_COMMAND: 'ssh -i /keys/bot -o BatchMode=no' };
    const message = expectProblems(loadConfig({ env, cwd: tmp }));
    expect(message).toContain('GIT_SSH_COMMAND turns off ssh batch mode (BatchMode=no)');
    expect(message).toContain('README "Giving smvbot access to the consumer repo"');
  });

  it('never echoes credentials from a repo URL in a config problem', async () => {
    // The URL pasted into the wrong key: the problem quotes the value, with the token masked.
    await writeYaml(VALID_YAML.replace('branch: release/2024', 'branch: https://bot:s3cr3t-token@git.example.com/team-b/client-model.git'));
    const message = expectProblems(loadConfig({ env: { ...slackEnv, SMVBOT_CONFIG: 'cfg/smvbot.yml' }, cwd: tmp }));
    expect(message).toContain('"https://***@git.example.com/team-b/client-model.git" is not a valid git branch name');
    expect(message).not.toContain('s3cr3t-token');
  });

  it('refuses an ssh:// repo URL with a password, without echoing it', async () => {
    await writeYaml(VALID_YAML.replace('git@git.example.com:team-b/client-model.git', 'ssh://git:hunter2-secret@git.example.com/team-b/client-model.git'));
    const message = expectProblems(loadConfig({ env: { ...slackEnv, SMVBOT_CONFIG: 'cfg/smvbot.yml' }, cwd: tmp }));
    expect(message).toContain('consumers[1].repo: an ssh:// URL cannot carry a password; remove it and give the bot an SSH key');
    expect(message).not.toContain('hunter2-secret');
  });

  it('names a missing topology file and points to smvbot.example.yml', () => {
    const message = expectProblems(loadConfig({ env: slackEnv, cwd: tmp }));
    expect(message).toContain(`The topology file ${path.join(tmp, 'smvbot.yml')} does not exist`);
    expect(message).toContain('Copy smvbot.example.yml to smvbot.yml');
    expect(message).toContain('SMVBOT_CONFIG');
  });

  it('reports invalid YAML with its line', async () => {
    await writeYaml('scan:\n  schedule: "*/1 * * * *"\npublishers: [\n  - name: x\n');
    const message = expectProblems(loadConfig({ env: { ...slackEnv, SMVBOT_CONFIG: 'cfg/smvbot.yml' }, cwd: tmp }));
    expect(message).toMatch(/cfg\/smvbot\.yml: invalid YAML: .* at line \d+, column \d+/);
  });

  it('reports an empty topology file as missing publishers', async () => {
    await writeYaml('# nothing yet\n');
    const message = expectProblems(loadConfig({ env: { ...slackEnv, SMVBOT_CONFIG: 'cfg/smvbot.yml' }, cwd: tmp }));
    expect(message).toContain('cfg/smvbot.yml: publishers: is required but missing');
  });

  it('lists every problem of a broken config in one message', async () => {
    await mkdir(path.join(cfgDir, 'empty-publish'));
    await writeFile(path.join(cfgDir, 'no-stages.props'), 'smv.appName = Nothing\n');
    await writeYaml(`
scan:
  schedule: "61 * * * *"
  every: 5
publishers:
  - name: public-data
    publishDir: publish
    stages: [com.acme.geo]
    channels: [C0ANNOUNCE, general]
    settleSecs: 10
  - name: public-data
    publishDir: missing-publish
    appConf: missing/smv-app-conf.props
    channels: [C0ANNOUNCE]
  - name: stageless
    publishDir: empty-publish
    appConf: no-stages.props
    channels: []
  - name: other-data
    publishDir: publish
    stages: [com.acme.geo]
    channels: [C0OTHER]
    settleSeconds: "thirty"
    owners: [alice]
consumers:
  - name: client-model
    repo: ""
    publishDir: not-synced
    adopters: [bob]
    mode: pull
    minAgeHours: -2
  - name: client-model
    repo: git@git.example.com:b/c.git
    confPath: ../outside.props
admins: [U0ADMIN, "@alice"]
extra: true
`);
    const result = loadConfig({ env: { SMVBOT_CONFIG: 'cfg/smvbot.yml', PORT: 'http', LOG_LEVEL: 'loud' }, cwd: tmp });
    const message = expectProblems(result);
    const expected = [
      'SLACK_BOT_TOKEN is not set',
      'PORT must be a port number from 0 to 65535 (got "http")',
      'LOG_LEVEL must be one of debug, info, warn, error (got "loud")',
      'cfg/smvbot.yml: extra: unknown key',
      'cfg/smvbot.yml: scan.every: unknown key',
      'cfg/smvbot.yml: scan.schedule: "61 * * * *" is not a valid cron expression',
      'cfg/smvbot.yml: admins[1]: "@alice" is not a Slack user id',
      'cfg/smvbot.yml: publishers[0].settleSecs: unknown key (did you mean settleSeconds?)',
      'cfg/smvbot.yml: publishers[0].channels[1]: "general" is not a Slack channel id',
      `cfg/smvbot.yml: publishers[1].publishDir: ${path.join(cfgDir, 'missing-publish')} does not exist`,
      `cfg/smvbot.yml: publishers[1].appConf: ${path.join(cfgDir, 'missing', 'smv-app-conf.props')} does not exist`,
      `cfg/smvbot.yml: publishers[2]: has no stages: ${path.join(cfgDir, 'no-stages.props')} defines no smv.stages`,
      'cfg/smvbot.yml: publishers[3].settleSeconds: must be a number, not text "thirty"',
      'cfg/smvbot.yml: consumers[0].repo: must not be empty',
      'cfg/smvbot.yml: consumers[0].adopters[0]: "bob" is not a Slack user id (like U0123ABCD) or "*"',
      'cfg/smvbot.yml: consumers[0].mode: must be one of "push", "branch" (got text "pull")',
      'cfg/smvbot.yml: consumers[0].minAgeHours: must be at least 0 (got number -2)',
      'cfg/smvbot.yml: publishers[3].owners[0]: "alice" is not a Slack user id',
      'cfg/smvbot.yml: consumers[1].confPath: "../outside.props" must be a relative path inside the repo',
      'cfg/smvbot.yml: publishers: the publisher name "public-data" is used more than once',
      'cfg/smvbot.yml: consumers: the consumer name "client-model" is used more than once',
    ];
    for (const line of expected) expect(message).toContain(line);
    expect(message).toContain('smvbot cannot start:');
    expect(message).toContain('.env.example');
    expect(message).toContain('smvbot.example.yml');
  });

  it('reports a stage claimed by two publishers, a missing consumer publishDir and a missing local repo', async () => {
    await writeYaml(`
publishers:
  - name: a
    publishDir: publish
    appConf: app/conf/smv-app-conf.props
    channels: [C0A]
  - name: b
    publishDir: publish
    stages: [com.acme.cms]
    channels: [C0B]
consumers:
  - name: c
    repo: repos/missing
    publishDir: not-synced
`);
    const result = loadConfig({ env: { ...slackEnv, SMVBOT_CONFIG: 'cfg/smvbot.yml' }, cwd: tmp });
    const message = expectProblems(result);
    expect(result.ok ? [] : result.problems).toHaveLength(3);
    expect(message).toContain('publishers: stage com.acme.cms belongs to more than one publisher (a, b)');
    expect(message).toContain(`consumers[0].repo: ${path.join(cfgDir, 'repos', 'missing')} does not exist`);
    expect(message).toContain(`consumers[0].publishDir: ${path.join(cfgDir, 'not-synced')} does not exist`);
  });

  it('reports a publisher with neither stages nor appConf', async () => {
    await writeYaml('publishers:\n  - name: a\n    publishDir: publish\n    channels: [C0A]\n');
    const message = expectProblems(loadConfig({ env: { ...slackEnv, SMVBOT_CONFIG: 'cfg/smvbot.yml' }, cwd: tmp }));
    expect(message).toContain('publishers[0]: has no stages: list them under `stages:`');
  });

  it('accepts the shipped smvbot.example.yml apart from its example paths', () => {
    const result = loadConfig({ env: { ...slackEnv, SMVBOT_CONFIG: 'smvbot.example.yml' }, cwd: projectRoot });
    const problems = result.ok ? [] : result.problems;
    expect(problems.length).toBeGreaterThan(0);
    for (const problem of problems) expect(problem).toMatch(/\/srv\/\S+ does not exist/);
  });

  it('documents every environment variable in .env.example', async () => {
    const example = await readFile(path.join(projectRoot, '.env.example'), 'utf8');
    for (const name of [
      'SLACK_BOT_TOKEN',
      'SLACK_SIGNING_SECRET',
      'SLACK_APP_TOKEN',
      'SLACK_API_URL',
      'PORT',
      'SMVBOT_CONFIG',
      'SMVBOT_DATA_DIR',
      'SMVBOT_GIT_NAME',
      'SMVBOT_GIT_EMAIL',
      'LOG_LEVEL',
      'SMVBOT_GIT_TIMEOUT_SECONDS',
    ]) {
      expect(example).toMatch(new RegExp(`^${name}=`, 'm'));
    }
  });
});
