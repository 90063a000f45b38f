// `npm start` as an operator meets it: the real entry point spawned with a controlled
// environment and working directory (SPEC §3, §4 /healthz, §6).
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { exportState } from './support/stateDump.ts';
import { SlackStandIn, sendToBot } from '../dev/slack/slackStandIn.ts';
import { fillDisk, mountTmpfs } from './support/fullDisk.ts';
import { healthBecomes } from './support/botProcess.ts';
import { spawnBot, type Spawned } from './support/spawnBot.ts';
import { BOT_TOKEN, BotUnderTest, SIGNING_SECRET, USERS, World, getHealth, removeSeededRemotes } from './support/botHarness.ts';

const running: ChildProcess[] = [];
const worlds: World[] = [];
function world(opts: ConstructorParameters<typeof World>[0] = {}): World {
  const w = new World(opts);
  worlds.push(w);
  return w;
}
function track(s: Spawned): Spawned {
  running.push(s.child);
  return s;
}

afterAll(() => {
  for (const child of running) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  for (const w of worlds) w.cleanup();
  removeSeededRemotes();
});

/** Neither the bot token nor the signing secret, whatever the process printed. */
function expectNoSecrets(...texts: string[]): void {
  for (const text of texts) {
    expect(text).not.toContain(BOT_TOKEN);
    expect(text).not.toContain(SIGNING_SECRET);
  }
}

describe('start-up refusals', () => {
  it.concurrent('without SLACK_BOT_TOKEN: exit 2, saying how to configure it or to try `npm run demo`', async () => {
    const w = world();
    const { SLACK_BOT_TOKEN: _unset, ...env } = w.env();
    const bot = track(spawnBot(env, w.root));
    const { code } = await bot.exited;
    expect(code).toBe(2);
    expect(bot.stderr()).toContain('smvbot cannot start: 1 configuration problem to fix.');
    expect(bot.stderr()).toContain('SLACK_BOT_TOKEN is not set');
    expect(bot.stderr()).toContain('copy .env.example to .env');
    expect(bot.stderr()).toContain('`npm run demo`');
    expectNoSecrets(bot.stdout(), bot.stderr());
  });

  it.concurrent('an invalid smvbot.yml: exit 2 and one message listing every problem', async () => {
    const w = world();
    const bad = path.join(w.root, 'bad.yml');
    fs.writeFileSync(
      bad,
      [
        'scan:',
        '  schedule: "every minute"',
        'publishers:',
        '  - name: public-data',
        '    publishDir: no-such-dir',
        '    stages: [com.acme.geo]',
        '    channels: [C0ANNOUNCE]',
        '  - name: other-data',
        '    publishDir: publish',
        '    channels: [C0ANNOUNCE]',
        'consumers:',
        '  - name: client-model',
        '    repo: client-model.git',
        '    brnch: main',
        '  - name: client-model',
        '    repo: client-model.git',
        '',
      ].join('\n'),
    );
    const bot = track(spawnBot(w.env({ SMVBOT_CONFIG: bad }), w.root));
    const { code } = await bot.exited;
    expect(code).toBe(2);
    const stderr = bot.stderr();
    expect(stderr.match(/cannot start/g)).toHaveLength(1);
    const listed = stderr.split('\n').filter((l) => l.startsWith('  - '));
    const count = Number(/(\d+) configuration problems to fix/.exec(stderr)?.[1]);
    expect(count).toBe(listed.length);
    expect(stderr).toMatch(/scan\.schedule: "every minute" is not a valid cron expression/);
    expect(stderr).toMatch(/publishers\[0\]\.publishDir: .*no-such-dir does not exist/);
    expect(stderr).toMatch(/publishers\[1\]: has no stages/);
    expect(stderr).toMatch(/consumers\[0\]\.brnch: unknown key \(did you mean branch\?\)/);
    expect(stderr).toMatch(/the consumer name "client-model" is used more than once/);
    expect(bot.stdout()).toBe('');
  });

  it.concurrent('a bot token Slack rejects: a clear refusal naming SLACK_BOT_TOKEN, never the token', async () => {
    const w = world();
    const slack = new SlackStandIn({ botToken: BOT_TOKEN });
    await slack.start();
    try {
      const rejected = 'xoxb-revoked-1111-2222';
      const bot = track(spawnBot(w.env({ SLACK_API_URL: slack.url, SLACK_BOT_TOKEN: rejected, LOG_LEVEL: 'debug' }), w.root));
      const { code } = await bot.exited;
      expect(code).not.toBe(0);
      expect(code).not.toBeNull();
      expect(bot.stderr()).toContain('smvbot cannot start:');
      expect(bot.stderr()).toContain('SLACK_BOT_TOKEN');
      expect(bot.stderr()).toContain('invalid_auth');
      expect(fs.existsSync(path.join(w.dataDir, 'smvbot.lock'))).toBe(false);
      for (const text of [bot.stdout(), bot.stderr()]) {
        expect(text).not.toContain(rejected);
        expect(text).not.toContain(SIGNING_SECRET);
      }
    } finally {
      await slack.close();
    }
  });

  it.concurrent('a data dir on a full disk: exit 1 with one line naming it, no stack trace', async () => {
    const w = world();
    const unmount = mountTmpfs(w.dataDir, '1m');
    try {
      fillDisk(w.dataDir);
      const bot = track(spawnBot(w.env(), w.root));
      const { code } = await bot.exited;
      expect(code).toBe(1);
      const lines = bot.stderr().trim().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(new RegExp(`^smvbot cannot start: Cannot write the (data dir|state in) ${w.dataDir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}.*`));
      expect(lines[0]).toMatch(/ENOSPC|SQLITE_FULL|full/i);
    } finally {
      unmount();
    }
  });

  it.concurrent('a corrupt state file: non-zero exit, naming the file, which is left byte for byte', async () => {
    const w = world();
    fs.mkdirSync(w.dataDir);
    const stateFile = path.join(w.dataDir, 'smvbot.db');
    // A database cut short and overwritten at its start, as a bad copy or a broken disk leaves it.
    const corrupt = Buffer.concat([Buffer.from('SQLite format 2\u0000'), Buffer.alloc(8192, 7)]);
    fs.writeFileSync(stateFile, corrupt);
    const bot = track(spawnBot(w.env(), w.root));
    const { code } = await bot.exited;
    expect(code).not.toBe(0);
    expect(code).not.toBeNull();
    expect(bot.stderr()).toContain(`The state file ${stateFile} cannot be used: it is not a usable SQLite database`);
    expect(bot.stderr()).toContain('smvbot has not changed it');
    expect(bot.stderr()).not.toMatch(/\n\s+at /); // one message, no stack trace
    expect(fs.readFileSync(stateFile).equals(corrupt)).toBe(true);
    expect(fs.readdirSync(w.dataDir).sort()).toEqual(['smvbot.db']);
    expectNoSecrets(bot.stdout(), bot.stderr());
  });
});

/** Slack receives the next chat.postMessage but answers only on `release()`: the bot stays mid-post. */
function holdPosts(slack: SlackStandIn): { postArrived: Promise<void>; release: () => void } {
  let release!: () => void;
  const held = new Promise<void>((resolve) => (release = resolve));
  let posting!: () => void;
  const postArrived = new Promise<void>((resolve) => (posting = resolve));
  slack.setHandler('chat.postMessage', async (args, { standIn }) => {
    posting();
    await held;
    return { ok: true, channel: args.channel, ts: standIn.nextTs() };
  });
  return { postArrived, release };
}

describe('a running bot', () => {
  it('serves /healthz 503 until the start-up scan is done, then 200; keeps a second process off its data dir; stops on SIGTERM', async () => {
    const w = world();
    const slack = new SlackStandIn({ botToken: BOT_TOKEN, users: USERS });
    await slack.start();
    try {
      // A first run records the published versions, so the spawned run's start-up scan has one new version to announce.
      const first = await BotUnderTest.start(w, slack);
      await first.bot.stop();
      w.publish('com.acme.geo', 'TCD.20160802.geo');

      // Slack holds that announcement: the start-up scan cannot finish until the test lets it.
      const { postArrived, release } = holdPosts(slack);

      const env = w.env({ SLACK_API_URL: slack.url, LOG_LEVEL: 'debug' });
      const bot = track(spawnBot(env, w.root));
      const port = Number((await bot.waitFor('stdout', /"port":(\d+)[^\n]*"msg":"smvbot starting: first scan"/))[1]);
      await postArrived;

      const starting = await getHealth(port);
      expect(starting.status).toBe(503);
      expect(starting.body.ok).toBe(false);

      release();
      const ready = await healthBecomes(port, 200);
      expect(ready.body).toMatchObject({ ok: true, scans: 1, versions: 4, publishers: 1, consumers: 1 });
      // One process on SQLite: it leads (it scans), and says where its state is.
      expect(ready.body).toMatchObject({ role: 'leader', database: { kind: 'sqlite', location: path.join(w.dataDir, 'smvbot.db') } });
      expect(typeof ready.body.lastScanAt).toBe('string');
      expect(slack.calls('chat.postMessage')).toHaveLength(1);

      // A second bot on the same data dir is turned away while this one runs.
      const second = track(spawnBot(env, w.root));
      const refused = await second.exited;
      expect(refused.code).not.toBe(0);
      expect(refused.code).not.toBeNull();
      expect(second.stderr()).toContain(`Another smvbot (pid ${bot.child.pid}`);
      expect(second.stderr()).toContain(`is using the data dir ${w.dataDir}`);
      expect(second.stderr()).toContain('SMVBOT_DATA_DIR');
      expect((await getHealth(port)).status).toBe(200);

      // A forged request is refused (and logged about at debug level) without any secret showing.
      const forged = slack.slashCommand({ text: 'help', userId: 'U0ADOPTER', channelId: 'C0TEAMB' });
      expect((await sendToBot(`http://127.0.0.1:${port}/slack/events`, 'forged-secret', forged)).status).toBe(401);
      const signed = await sendToBot(`http://127.0.0.1:${port}/slack/events`, SIGNING_SECRET, forged);
      expect(signed.text).toContain('/smv adopt');
      bot.child.kill('SIGTERM');
      const stopped = await bot.exited;
      expect(stopped).toEqual({ code: 0, signal: null });
      expect(fs.existsSync(path.join(w.dataDir, 'smvbot.lock'))).toBe(false);
      expectNoSecrets(bot.stdout(), bot.stderr(), second.stdout(), second.stderr());
    } finally {
      await slack.close();
    }
  });

  it('SIGTERM during the start-up scan lets the in-flight announcement finish, then exits 0 and frees the data dir', async () => {
    const w = world();
    const slack = new SlackStandIn({ botToken: BOT_TOKEN, users: USERS });
    await slack.start();
    try {
      const first = await BotUnderTest.start(w, slack);
      await first.bot.stop();
      w.publish('com.acme.geo', 'TCD.20160802.geo');
      const { postArrived, release } = holdPosts(slack);

      const bot = track(spawnBot(w.env({ SLACK_API_URL: slack.url, LOG_LEVEL: 'info' }), w.root));
      await postArrived;
      bot.child.kill('SIGTERM');
      // The signal is handled (not fatal) while the post is still out; once Slack answers, the bot stops.
      await bot.waitFor('stderr', /SIGTERM received/);
      expect(fs.existsSync(path.join(w.dataDir, 'smvbot.lock'))).toBe(true);
      release();
      const stopped = await bot.exited;
      expect(stopped).toEqual({ code: 0, signal: null });
      expect(fs.existsSync(path.join(w.dataDir, 'smvbot.lock'))).toBe(false);
      const version = exportState(w.dataDir).versions.find((v) => v.version === 'TCD.20160802.geo');
      expect(version!.announcements['C0ANNOUNCE']!.status).toBe('posted');
    } finally {
      await slack.close();
    }
  });
});
