// Consumer repos are other people's files (issue 11): a confPath committed as a symlink, a
// symlinked conf dir, or a huge props file is refused with a reason, and nothing outside the
// clone changes. Through the real bot; the oversized case also in the spawned bot with the
// `start` script's heap limits.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { SlackStandIn, sendToBot } from '../dev/slack/slackStandIn.ts';
import { ADOPTER, BOT_TOKEN, BotUnderTest, SIGNING_SECRET, TEAM_B_CHANNEL, USERS, World, getHealth, git, removeSeededRemotes, replyText } from './support/botHarness.ts';
import { makeTempDir, removeDir } from '../dev/world/publishFixtures.ts';
import { spawnBot, startScriptNodeFlags } from './support/spawnBot.ts';

let world: World | undefined;
let bot: BotUnderTest | undefined;
afterAll(removeSeededRemotes);
afterEach(async () => {
  await bot?.stop();
  world?.cleanup();
  bot = undefined;
  world = undefined;
});

/** Commits a change to the consumer remote's main, made by `change(workTree)`. */
function pushToRemote(w: World, change: (work: string) => void): void {
  const work = makeTempDir('smvbot-teamb-work-');
  try {
    git(['clone', '-q', w.remote, work]);
    change(work);
    git(['-C', work, 'add', '-A']);
    git(['-C', work, '-c', 'user.name=Mallory', '-c', 'user.email=m@example.test', 'commit', '-q', '-m', 'change conf']);
    git(['-C', work, 'push', '-q', 'origin', 'main']);
  } finally {
    removeDir(work);
  }
}

/** The state the symlink pointed at is still a SQLite database, and no pin text was written into it. */
function stateUntouchedByPin(world: World): void {
  for (const file of ['smvbot.db', 'smvbot.db-wal']) {
    const p = path.join(world.dataDir, file);
    if (!fs.existsSync(p)) continue;
    const bytes = fs.readFileSync(p);
    expect(bytes.includes('smv.stages.geo.version = TCD.20160802.geo'), file).toBe(false);
  }
  expect(fs.readFileSync(path.join(world.dataDir, 'smvbot.db')).subarray(0, 16).toString('latin1')).toBe('SQLite format 3\0');
}

/**
 * Every file under dir (but the clones) with a hash of its content: what "nothing changed" means.
 * Not the bot's own state (`data/smvbot.db*`): it records each command before its ack (issue 24), so
 * it changes by design; `stateUntouchedByPin` checks that no pin text reached it instead.
 */
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory() && e.name !== 'repos' && e.name !== '.git') walk(p);
      else if (e.isFile() && !/^smvbot\.db(-wal|-shm)?$/.test(e.name)) out[path.relative(dir, p)] = createHash('sha1').update(fs.readFileSync(p)).digest('hex');
    }
  };
  walk(dir);
  return out;
}

const NO_INTERNALS = /git -c|Command failed|core\.hooksPath|\/data\/repos\//;

describe('files in the consumer repo', () => {
  it('a confPath committed as a symlink to the bot`s own state is refused, and nothing outside the clone changes', async () => {
    world = new World();
    bot = await BotUnderTest.start(world);
    world.publish('com.acme.geo', 'TCD.20160802.geo');
    await bot.bot.scanNow();
    pushToRemote(world, (work) => {
      fs.rmSync(path.join(work, 'conf', 'smv-user-conf.props'));
      fs.symlinkSync('../../../smvbot.db', path.join(work, 'conf', 'smv-user-conf.props'));
    });
    const remoteBefore = world.remoteLog();
    const outside = snapshot(world.root);

    const adopted = await bot.command('adopt geo TCD.20160802.geo');
    expect(adopted.visibility).toBe('ephemeral');
    expect(adopted.reply).toContain('`conf/smv-user-conf.props` in the consumer repo is a symbolic link');
    expect(adopted.reply).toContain('Nothing was changed.');
    expect(adopted.reply).not.toMatch(NO_INTERNALS);
    expect(snapshot(world.root)).toEqual(outside);
    stateUntouchedByPin(world);
    expect(world.remoteLog()).toEqual(remoteBefore);

    const pins = await bot.command('pins');
    expect(pins.reply).toContain('is a symbolic link');
  });

  it('a conf dir committed as a symlink out of the repo is refused the same way', async () => {
    world = new World();
    bot = await BotUnderTest.start(world);
    world.publish('com.acme.geo', 'TCD.20160802.geo');
    await bot.bot.scanNow();
    const target = path.join(world.root, 'elsewhere');
    fs.mkdirSync(target);
    pushToRemote(world, (work) => {
      fs.rmSync(path.join(work, 'conf'), { recursive: true });
      fs.symlinkSync(target, path.join(work, 'conf'));
    });
    const outside = snapshot(world.root);
    const adopted = await bot.command('adopt geo TCD.20160802.geo');
    expect(adopted.reply).toContain('lies under `conf`, which is a symbolic link');
    expect(fs.readdirSync(target)).toEqual([]);
    expect(snapshot(world.root)).toEqual(outside);
  });

  it('an oversized props file is refused with its size, and the spawned bot (start flags) keeps running', async () => {
    world = new World();
    pushToRemote(world, (work) => {
      fs.writeFileSync(path.join(work, 'conf', 'smv-user-conf.props'), `smv.big = ${'x'.repeat(1_500_000)}\n`);
      fs.writeFileSync(path.join(work, 'conf', 'smv-app-conf.props'), Array.from({ length: 400_000 }, (_, i) => `k${i}=v`).join('\n'));
    });
    const slack = new SlackStandIn({ botToken: BOT_TOKEN, users: USERS });
    await slack.start();
    const spawned = spawnBot(world.env({ SLACK_API_URL: slack.url, LOG_LEVEL: 'info' }), world.root, startScriptNodeFlags());
    try {
      const port = Number((await spawned.waitFor('stdout', /"port":(\d+)[^\n]*"msg":"smvbot starting: first scan"/))[1]);
      await spawned.waitFor('stdout', /"msg":"smvbot ready"/);
      const url = `http://127.0.0.1:${port}/slack/events`;
      for (const text of ['pins', 'adopt geo TCD.20160701.geo']) {
        const request = slack.slashCommand({ text, userId: ADOPTER, channelId: TEAM_B_CHANNEL });
        expect((await sendToBot(url, SIGNING_SECRET, request)).status).toBe(200);
        const answer = replyText((await slack.waitForResponse(request.responseUrl, 30_000)).body);
        expect(answer).toMatch(/`conf\/smv-(user|app)-conf\.props` in the consumer repo is \d+ bytes; props files over 1048576 bytes are not read/);
      }
      expect((await getHealth(port)).status).toBe(200);
      expect(spawned.child.exitCode).toBeNull();
    } finally {
      spawned.child.kill('SIGTERM');
      await spawned.exited;
      await slack.close();
    }
  });
});
