// What a hostile or broken peer sends must not end or mislead the bot (issue 24, "attacking
// today's main"): Socket Mode frames of any shape. Real bot process, the stand-in as Slack.
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { SlackStandIn, sendToBot } from '../dev/slack/slackStandIn.ts';
import { createScrubber } from '../src/infra/runtime/logger.ts';
import { ADOPTER, APP_TOKEN, BOT_TOKEN, TEAM_B_CHANNEL, USERS, World, adoptButtons, removeSeededRemotes, replyText } from './support/botHarness.ts';
import { healthOf, readyBotProcess, type BotProcess } from './support/botProcess.ts';
import { spawnBot } from './support/spawnBot.ts';

afterAll(removeSeededRemotes);

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const f of cleanups.splice(0).reverse()) await f();
});

describe('Socket Mode frames', () => {
  it('no frame a peer sends ends the process: malformed ones are dropped and logged, commands keep being answered', { timeout: 120_000 }, async () => {
    const world = new World();
    cleanups.push(() => world.cleanup());
    const slack = new SlackStandIn({ botToken: BOT_TOKEN, appToken: APP_TOKEN, users: USERS });
    await slack.start();
    cleanups.push(() => slack.close());
    const { bot, port } = await readyBot(world.env({ SLACK_API_URL: slack.url, SLACK_APP_TOKEN: APP_TOKEN, LOG_LEVEL: 'info' }), world.root);
    await slack.socketMode.waitForConnections(1);

    const frames = [
      'null',
      '42',
      '"hello"',
      '[]',
      '{}',
      '{"type":null}',
      '{"type":"events_api","envelope_id":"e-1","payload":{"event":null}}',
      '{"type":"events_api","envelope_id":"e-2","payload":null}',
      '{"type":"events_api","envelope_id":"e-3"}',
      '{"type":"events_api","envelope_id":"e-4","payload":{"event":{"type":null}}}',
      '{"type":"events_api","envelope_id":"e-5","payload":{"event":{"type":"close"}}}',
      '{"type":"events_api","envelope_id":"e-6","payload":{"event":{"type":"error"}}}',
      '{"type":"events_api","envelope_id":"e-7","payload":{"event":{"type":"ws_message"}}}',
      '{"type":"slash_commands","envelope_id":"e-8","payload":null}',
      '{"type":"interactive","envelope_id":"e-9","payload":"not an object"}',
      '{"type":"interactive","envelope_id":"e-10","payload":{"payload":"{"}}',
      '{"type":"ws_message"}',
      '{"type":"error"}',
      '{"type":"slack_event","payload":null}',
      '{"type":"disconnected"}',
      '{"envelope_id":{"a":1},"type":"slash_commands","payload":{}}',
    ];
    for (const frame of frames) {
      await slack.socketMode.sendRaw(frame);
      // A command after each frame: answered only by a process that is still alive and connected.
      const request = slack.slashCommand({ text: 'help', userId: ADOPTER, channelId: TEAM_B_CHANNEL });
      const answer = await slack.sendOverSocket(request).catch((error: unknown) => {
        throw new Error(`after the frame ${frame} the bot did not answer (${String(error)}):\n${bot.output()}`);
      });
      expect(replyText(answer.body), `after ${frame}`).toContain('/smv adopt');
      expect(bot.running(), `after ${frame}`).toBe(true);
    }
    expect((await healthOf(port))?.status).toBe(200);
    // No frame made the bot drop its connection (an event typed `close` once did).
    expect(slack.socketMode.openedCount).toBe(1);
    expect(bot.output()).toContain('ignored a malformed Socket Mode frame');
  });
});

/** A spawned bot with /healthz 200, or the reason it is not; killed at the end. */
function readyBot(env: Record<string, string>, cwd: string): Promise<{ bot: BotProcess; port: number }> {
  return readyBotProcess(env, cwd, (bot) => cleanups.push(() => bot.kill9()));
}

describe('a secret that is also ordinary text', () => {
  it('is redacted where it appears as a secret, never inside stage names, versions, metadata or button values', () => {
    const scrub = createScrubber(['geo', 'a-long-signing-secret-0123']);
    // Ordinary text keeps the short secret's letters.
    for (const text of ['com.acme.geo', 'TCD.20160802.geo', '{"stage":"com.acme.geo","version":"TCD.20160802.geo"}', 'geography/geo.csv']) expect(scrub(text)).toBe(text);
    // Where it is a secret, it goes.
    expect(scrub('connect postgres://postgres:geo@db:5432/smvbot failed')).toBe('connect postgres://***@db:5432/smvbot failed');
    expect(scrub('host=db user=postgres password=geo dbname=smvbot')).toBe('host=db user=postgres password=[redacted] dbname=smvbot');
    expect(scrub('Authorization: Bearer geo')).toBe('Authorization: [redacted]');
    expect(scrub('authorization=Basic Z2VvOmdlbw==')).toBe('authorization=[redacted]');
    // A secret long enough to be told apart from ordinary text is removed wherever it is.
    expect(scrub('signed with a-long-signing-secret-0123.')).toBe('signed with [redacted].');
  });

  it('a signing secret equal to a stage base name: announcements, buttons, replies and logs keep com.acme.geo; start-up warns, naming the setting only', { timeout: 180_000 }, async () => {
    const world = new World({ publisherChannels: [TEAM_B_CHANNEL] });
    cleanups.push(() => world.cleanup());
    const slack = new SlackStandIn({ botToken: BOT_TOKEN, users: USERS });
    await slack.start();
    cleanups.push(() => slack.close());
    const env = world.env({ SLACK_API_URL: slack.url, SLACK_SIGNING_SECRET: 'geo', LOG_LEVEL: 'info' });
    // The first start records what is there silently; the second announces what came meanwhile.
    const first = await readyBot(env, world.root);
    first.bot.child.kill('SIGTERM');
    await first.bot.exited;
    world.publish('com.acme.geo', 'TCD.20160802.geo');
    const { bot, port } = await readyBot(env, world.root);

    const [message] = slack.messages(TEAM_B_CHANNEL);
    expect(message, bot.output()).toBeDefined();
    const sent = JSON.stringify([message!.text, message!.blocks, message!.metadata]);
    expect(sent).not.toContain('[redacted]');
    expect(message!.metadata).toMatchObject({ event_type: 'smv_version_published', event_payload: { version: 'TCD.20160802.geo', stages: ['com.acme.geo'] } });
    const [button] = adoptButtons(message!);
    expect(button!.value).toContain('com.acme.geo');

    // The button works: its value names the stage as it is.
    const url = `http://127.0.0.1:${port}/slack/events`;
    const click = slack.blockAction({ actionId: button!.action_id, value: button!.value, userId: ADOPTER, channelId: TEAM_B_CHANNEL, messageTs: message!.ts });
    expect((await sendToBot(url, 'geo', click)).status).toBe(200);
    const answered = await slack.waitForResponse(click.responseUrl, 60_000);
    expect(replyText(answered.body)).toContain('adopted geo TCD.20160802.geo for client-model');
    expect(world.remoteFile()).toContain('smv.stages.geo.version = TCD.20160802.geo');

    const releases = slack.slashCommand({ text: 'releases geo', userId: ADOPTER, channelId: TEAM_B_CHANNEL });
    const ack = await sendToBot(url, 'geo', releases);
    const reply = replyText(ack.body) || replyText((await slack.waitForResponse(releases.responseUrl, 60_000)).body);
    expect(reply).toContain('TCD.20160802.geo');
    expect(reply).not.toContain('[redacted]');

    expect(bot.output()).not.toContain('[redacted]');
    expect(bot.output()).toMatch(/SLACK_SIGNING_SECRET is too short \(3 characters\) to be redacted safely/);
  });

  it('a database password equal to a stage base name never appears in the connection error', { timeout: 60_000 }, async () => {
    const world = new World();
    cleanups.push(() => world.cleanup());
    const spawned = spawnBot(world.env({ SMVBOT_DATABASE_URL: 'postgres://smvbot:geo@127.0.0.1:1/smvbot', LOG_LEVEL: 'info' }), world.root);
    cleanups.push(async () => {
      spawned.child.kill('SIGKILL');
      await spawned.exited;
    });
    expect((await spawned.exited).code).toBe(1);
    const output = spawned.stdout() + spawned.stderr();
    expect(output).toContain('Cannot use the PostgreSQL state at');
    expect(output).not.toMatch(/:geo@|password=geo/);
    expect(output).toMatch(/the password in SMVBOT_DATABASE_URL is too short \(3 characters\) to be redacted safely/);
  });
});
