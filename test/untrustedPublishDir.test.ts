// Issue 11, as a user met it: the real bot (spawned like `npm start`, same node flags) reading a
// publish dir that holds links to its own environment and config, loops, and a version linked
// to `/`. The Slack stand-in records everything Slack would have been sent.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SlackStandIn, sendToBot } from '../dev/slack/slackStandIn.ts';
import { BOT_TOKEN, SIGNING_SECRET, TEAM_B_CHANNEL, ADOPTER, USERS, World, removeSeededRemotes, replyText } from './support/botHarness.ts';
import { setMtimes, writeVersion } from '../dev/world/publishFixtures.ts';
import { healthBecomes } from './support/botProcess.ts';
import { spawnBot, startScriptNodeFlags, type Spawned } from './support/spawnBot.ts';

const WAIT_MS = 30_000;
const GEO = 'com.acme.geo';

let world: World | undefined;
let slack: SlackStandIn | undefined;
let bot: Spawned | undefined;
afterAll(async () => {
  if (bot && bot.child.exitCode === null && bot.child.signalCode === null) bot.child.kill('SIGKILL');
  await slack?.close();
  world?.cleanup();
  removeSeededRemotes();
});

/** Everything the stand-in recorded, as one text (the bot token itself only in the auth header). */
function everythingSlackSaw(standIn: SlackStandIn): string {
  return JSON.stringify([...standIn.calls().map((c) => c.args), ...standIn.responses().map((r) => r.body)]);
}

describe('a publish dir with links to the bot`s secrets, loops and a version linked to /', () => {
  it('keeps answering, shows no secret, lists the skipped versions in /healthz and stops on SIGTERM', async () => {
    world = new World();
    const pub = world.publishDir;
    // Links to what the bot process itself can read: its environment and its config.
    writeVersion(pub, 'TCD.20160802.geo', [{ fqn: `${GEO}.GeoSummary`, metaStyle: 'none', schema: false, layout: 'plain' }]);
    fs.symlinkSync('/proc/self/environ', path.join(pub, 'TCD.20160802.geo', `${GEO}.GeoSummary.schema`));
    fs.symlinkSync('/proc/self/cwd/smvbot.yml', path.join(pub, 'TCD.20160802.geo', `${GEO}.Config.schema`));
    // Four links back to a module dir: 4^16 paths when links are followed 16 levels deep.
    writeVersion(pub, 'TCD.20160803.geo', [{ fqn: `${GEO}.GeoSummary` }]);
    for (const l of ['l1', 'l2', 'l3', 'l4']) fs.symlinkSync('.', path.join(pub, 'TCD.20160803.geo', `${GEO}.GeoSummary.csv`, l));
    setMtimes(path.join(pub, 'TCD.20160803.geo'), Date.now() - 3_600_000);
    fs.symlinkSync('/', path.join(pub, 'TCD.20160804.geo'));

    slack = new SlackStandIn({ botToken: BOT_TOKEN, users: USERS });
    await slack.start();
    bot = spawnBot(world.env({ SLACK_API_URL: slack.url, LOG_LEVEL: 'info' }), world.root, startScriptNodeFlags());
    const port = Number((await bot.waitFor('stdout', /"port":(\d+)[^\n]*"msg":"smvbot starting: first scan"/))[1]);
    const health = await healthBecomes(port, 200, WAIT_MS);
    const problems = health.body.problems as { kind: string; detail: string }[];
    const unsafe = problems.filter((p) => p.kind === 'version-skipped-unsafe').map((p) => p.detail);
    expect(unsafe.find((d) => d.includes('TCD.20160802.geo'))).toMatch(/GeoSummary\.schema is a symbolic link leading outside the publish dir/);
    expect(unsafe.find((d) => d.includes('TCD.20160803.geo'))).toMatch(/symlink loop/);
    expect(unsafe.find((d) => d.includes('TCD.20160804.geo'))).toMatch(/outside the publish dir/);

    // A user asks for the columns that were added: nothing from the environment or the config.
    const url = `http://127.0.0.1:${port}/slack/events`;
    const diff = slack.slashCommand({ text: 'diff geo TCD.20160701.geo TCD.20160802.geo', userId: ADOPTER, channelId: TEAM_B_CHANNEL });
    const diffAck = await sendToBot(url, SIGNING_SECRET, diff);
    expect(diffAck.status).toBe(200);
    const answer = replyText((await slack.waitForResponse(diff.responseUrl, WAIT_MS)).body);
    expect(answer).toContain('TCD.20160701.geo → TCD.20160802.geo');
    expect(answer).not.toMatch(/SLACK_|publishers|PATH=/);

    const help = slack.slashCommand({ text: 'help', userId: ADOPTER, channelId: TEAM_B_CHANNEL });
    const helpAck = await sendToBot(url, SIGNING_SECRET, help);
    expect(helpAck.status).toBe(200);
    expect(replyText(helpAck.body)).toContain('/smv adopt');

    // None of the three versions was announced.
    expect(slack.calls('chat.postMessage')).toEqual([]);
    for (const text of [everythingSlackSaw(slack), bot.stdout(), bot.stderr()]) {
      expect(text).not.toContain(BOT_TOKEN);
      expect(text).not.toContain(SIGNING_SECRET);
    }

    bot.child.kill('SIGTERM');
    expect((await bot.exited).code).toBe(0);
  });
});
