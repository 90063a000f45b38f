// Interactive payloads are untrusted too (issue 11): a modal's private_metadata must be the
// bot's own, and a response_url is only posted to when it is Slack's (here: the stand-in's host).
// Secrets never leave in a reply or a log line.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../src/infra/runtime/logger.ts';
import { ADOPTER, ANNOUNCE_CHANNEL, BOT_TOKEN, BotUnderTest, SIGNING_SECRET, TEAM_B_CHANNEL, World, removeSeededRemotes } from './support/botHarness.ts';

const OTHER = 'other-model';

/** Somewhere that is not Slack: records every request it gets. */
async function elsewhere(): Promise<{ url: string; hits: string[]; server: Server }> {
  const hits: string[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      hits.push(body);
      res.end('ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/steal`, hits, server };
}

describe('interactive payloads', () => {
  let world: World;
  let bot: BotUnderTest;
  let thief: Awaited<ReturnType<typeof elsewhere>>;
  const lines: string[] = [];

  beforeAll(async () => {
    world = new World({ publisherChannels: [ANNOUNCE_CHANNEL, TEAM_B_CHANNEL], extraConsumers: [{ name: OTHER, channels: ['C0OTHER'] }] });
    bot = await BotUnderTest.start(world, undefined, { logger: createLogger({ level: 'info', destination: { write: (line: string) => void lines.push(line) } }) });
    thief = await elsewhere();
    world.publish('com.acme.geo', 'TCD.20160802.geo');
    await bot.bot.scanNow();
  });
  afterAll(async () => {
    await bot.stop();
    thief.server.close();
    world.cleanup();
    removeSeededRemotes();
  });

  it('a modal submission carrying state the bot did not sign is refused in the modal and adopts nothing', async () => {
    const before = world.remoteLog();
    const forged = JSON.stringify({ stage: 'com.acme.geo', version: 'TCD.20160802.geo', channelId: TEAM_B_CHANNEL, responseUrl: thief.url });
    const submitted = await bot.send(
      bot.slack.viewSubmission({
        userId: ADOPTER,
        callbackId: 'smv_adopt_consumer',
        privateMetadata: forged,
        values: { consumer: { consumer: { type: 'static_select', selected_option: { value: 'client-model' } } } },
      }),
    );
    expect(submitted.status).toBe(200);
    expect(submitted.body).toMatchObject({ response_action: 'errors', errors: { consumer: expect.stringContaining('could not be verified') } });
    await new Promise((r) => setTimeout(r, 300));
    expect(world.remoteLog()).toEqual(before);
    expect(thief.hits).toEqual([]);
    // Logged once, at warn, for the operator.
    const ignored = lines.map((l) => JSON.parse(l) as { level: number; msg: string }).filter((l) => l.msg.includes('did not sign'));
    expect(ignored.map((l) => [l.level, l.msg])).toEqual([[40, 'adopt modal submitted with state the bot did not sign; ignored']]);
  });

  it('the modal the bot opened still works: its signed state comes back and is acted on', async () => {
    const announcement = bot.slack.messages(ANNOUNCE_CHANNEL)[0]!;
    const click = await bot.clickAdopt(announcement, 0);
    const opened = await bot.slack.waitForCall('views.open');
    expect(String((opened.args.view as { private_metadata: string }).private_metadata)).toContain('"mac"');
    await bot.send(bot.slack.viewSubmission({ userId: ADOPTER, callbackId: 'smv_adopt_consumer', values: { consumer: { consumer: { type: 'static_select', selected_option: { value: OTHER } } } } }));
    const answer = await bot.slack.waitForResponse(click.request.responseUrl);
    expect(JSON.stringify(answer.body)).toContain(`adopted geo TCD.20160802.geo for ${OTHER}`);
  });

  it('a button payload whose response_url is not Slack`s is never posted to: the answer goes to the channel', async () => {
    const inTeam = bot.slack.messages(TEAM_B_CHANNEL)[0]!;
    const request = bot.slack.blockAction({ actionId: 'smv_adopt:0', value: JSON.stringify({ stage: 'com.acme.geo', version: 'TCD.20160701.geo' }), userId: 'U0STRANGER', channelId: TEAM_B_CHANNEL, messageTs: inTeam.ts });
    request.body.response_url = thief.url;
    const ack = await bot.send(request);
    expect(ack.status).toBe(200);
    const posted = await bot.slack.waitForCall('chat.postEphemeral');
    expect(posted.args).toMatchObject({ channel: TEAM_B_CHANNEL, user: 'U0STRANGER' });
    expect(String(posted.args.text)).toContain('You are not allowed to change pins');
    expect(thief.hits).toEqual([]);
  });
});

describe('log lines', () => {
  it('never carry the tokens, the signing secret or credentials in a URL, wherever they appear', () => {
    let out = '';
    const sink = new Writable({ write: (chunk, _enc, done) => ((out += String(chunk)), done()) });
    const log = createLogger({ level: 'info', destination: sink, secrets: [BOT_TOKEN, SIGNING_SECRET] });
    log.info({ detail: `signing with ${SIGNING_SECRET}` }, `token ${BOT_TOKEN} and https://bot:hunter2@git.example.com/x.git`);
    log.error({ err: new Error(`boom ${SIGNING_SECRET}`) }, 'failed');
    expect(out).toContain('[redacted]');
    expect(out).not.toContain(BOT_TOKEN);
    expect(out).not.toContain(SIGNING_SECRET);
    expect(out).not.toContain('hunter2');
  });
});
