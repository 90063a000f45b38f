// What a hostile or broken peer sends must not end or mislead the bot (issue 24, "attacking
// today's main"): Socket Mode frames of any shape. Real bot process, the stand-in as Slack.
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { SlackStandIn } from '../standin/slackStandIn.ts';
import { ADOPTER, APP_TOKEN, BOT_TOKEN, TEAM_B_CHANNEL, USERS, World, removeSeededRemotes, replyText } from './support/botHarness.ts';
import { healthOf, spawnBotProcess, waitUntil, type BotProcess } from './support/botProcess.ts';

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
    const bot: BotProcess = spawnBotProcess(world.env({ SLACK_API_URL: slack.url, SLACK_APP_TOKEN: APP_TOKEN, LOG_LEVEL: 'info' }), world.root);
    cleanups.push(() => bot.kill9());
    const port = await bot.port(60_000);
    await waitUntil('/healthz 200', async () => {
      if (!bot.running()) throw new Error(`the bot exited:\n${bot.output()}`);
      return (await healthOf(port))?.status === 200;
    }, 60_000);
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
