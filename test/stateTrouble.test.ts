// The state store failing under a running bot (issue 24): PostgreSQL unreachable mid-command, the
// SQLite file deleted or its pages corrupted. The bot says what is wrong and that nothing changed,
// /healthz turns 503 naming the store, and nothing is pushed. Real bot processes, real PostgreSQL
// behind a TCP proxy the test cuts (the shared server stays up), real SQLite files.
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { SlackStandIn, sendToBot } from '../dev/slack/slackStandIn.ts';
import { ADOPTER, BOT_TOKEN, SIGNING_SECRET, TEAM_B_CHANNEL, USERS, World, removeSeededRemotes, replyText } from './support/botHarness.ts';
import { healthOf, readyBotProcess, waitUntil, type BotProcess } from './support/botProcess.ts';
import { createSchema, requirePostgres } from '../dev/world/postgres.ts';

afterAll(removeSeededRemotes);

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const f of cleanups.splice(0).reverse()) await f();
});

/** A TCP proxy to `target` on loopback that the test can cut (every connection dropped, new ones refused at once) and restore. */
async function tcpProxy(target: { host: string; port: number }): Promise<{ port: number; cut(): void; restore(): void; close(): Promise<void> }> {
  let open = true;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    if (!open) return void client.destroy();
    const upstream = net.connect(target.port, target.host);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('error', () => undefined);
      s.on('close', () => {
        sockets.delete(s);
        client.destroy();
        upstream.destroy();
      });
    }
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    cut() {
      open = false;
      for (const s of sockets) s.destroy();
    },
    restore() {
      open = true;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** A spawned bot with /healthz 200, or the reason it is not; killed at the end. */
function readyBot(env: Record<string, string>, cwd: string): Promise<{ bot: BotProcess; port: number }> {
  return readyBotProcess(env, cwd, (bot) => cleanups.push(() => bot.kill9()));
}

/** `/smv <text>` to a spawned bot over signed HTTP: the answer a person reads (ack, else response_url). */
async function command(slack: SlackStandIn, port: number, text: string): Promise<string> {
  const request = slack.slashCommand({ text, userId: ADOPTER, channelId: TEAM_B_CHANNEL });
  const ack = await sendToBot(`http://127.0.0.1:${port}/slack/events`, SIGNING_SECRET, request);
  expect(ack.status).toBe(200);
  return replyText(ack.body) || replyText((await slack.waitForResponse(request.responseUrl, 90_000)).body);
}

async function standIn(): Promise<SlackStandIn> {
  const slack = new SlackStandIn({ botToken: BOT_TOKEN, users: USERS });
  await slack.start();
  cleanups.push(() => slack.close());
  return slack;
}

describe('PostgreSQL unreachable', () => {
  it('an adopt while the database is cut off says the state is unavailable and nothing changed; nothing is pushed', { timeout: 180_000 }, async () => {
    const server = await requirePostgres();
    const schema = await createSchema(server);
    cleanups.push(() => schema.drop());
    const serverUrl = new URL(server);
    const proxy = await tcpProxy({ host: serverUrl.hostname, port: Number(serverUrl.port || 5432) });
    cleanups.push(() => proxy.close());
    const viaProxy = new URL(schema.url);
    viaProxy.port = String(proxy.port);

    const world = new World({ initialVersions: ['TCD.20160701', 'TCD.20160802'] });
    cleanups.push(() => world.cleanup());
    const slack = await standIn();
    const { bot, port } = await readyBot(world.env({ SLACK_API_URL: slack.url, SMVBOT_DATABASE_URL: viaProxy.href, LOG_LEVEL: 'info' }), world.root);
    const before = world.remoteLog();

    proxy.cut();
    const reply = await command(slack, port, 'adopt geo TCD.20160802.geo');
    expect(reply, bot.output()).not.toMatch(/unexpected error/i);
    // The command is written to the store before its ack (issue 24), so the write is what fails first.
    expect(reply).toMatch(/state store .*(unavailable|cannot be reached|cannot be written)/i);
    expect(reply).toContain('Nothing was changed');
    expect(world.remoteLog()).toEqual(before);

    // Back: the same command works.
    proxy.restore();
    const again = await command(slack, port, 'adopt geo TCD.20160802.geo');
    expect(again).toContain('adopted geo TCD.20160802.geo for client-model');
    expect(world.remoteFile()).toContain('smv.stages.geo.version = TCD.20160802.geo');
  });
});

describe('the SQLite state file under a running bot', () => {
  async function runningOnSqlite() {
    const world = new World({ initialVersions: ['TCD.20160701', 'TCD.20160802'] });
    cleanups.push(() => world.cleanup());
    const slack = await standIn();
    const { bot, port } = await readyBot(world.env({ SLACK_API_URL: slack.url, LOG_LEVEL: 'info' }), world.root);
    // Something in the adoption log, so history has rows to read.
    expect(await command(slack, port, 'adopt trial TCD.20160701.trial')).toContain('adopted trial TCD.20160701.trial');
    return { world, slack, bot, port, file: path.join(world.dataDir, 'smvbot.db') };
  }

  it('deleted: /healthz turns 503 naming the file, and commands say what is wrong and what to do', { timeout: 180_000 }, async () => {
    const { world, slack, bot, port, file } = await runningOnSqlite();
    fs.rmSync(file);

    const health = await waitUntil('/healthz 503', async () => {
      const h = await healthOf(port);
      return h?.status === 503 ? h : undefined;
    }, 30_000).catch(async (error: unknown) => {
      throw new Error(`${String(error)}; last: ${JSON.stringify(await healthOf(port))}`);
    });
    expect(health.body.ok).toBe(false);
    const problems = health.body.problems as { kind: string; detail: string }[];
    expect(problems).toContainEqual({ kind: 'state-unavailable', detail: expect.stringContaining(file) });
    expect(problems.find((p) => p.kind === 'state-unavailable')!.detail).toMatch(/deleted or replaced/);

    const before = world.remoteLog();
    for (const text of ['history', 'releases', 'adopt geo TCD.20160802.geo']) {
      const reply = await command(slack, port, text);
      expect(reply, `/smv ${text}\n${bot.output()}`).toMatch(/state store .* is unavailable right now/);
      expect(reply).toContain(file);
      expect(reply).toContain('Nothing was changed');
    }
    expect(world.remoteLog()).toEqual(before);
    expect(bot.running()).toBe(true);
  });

  it('pages corrupted: /healthz turns 503 naming the file, and commands say what is wrong and what to do', { timeout: 180_000 }, async () => {
    const { world, slack, bot, port, file } = await runningOnSqlite();
    // What the bot's own checkpoint does after enough writes: the pages move from the WAL into smvbot.db.
    const other = new Database(file);
    other.pragma('wal_checkpoint(TRUNCATE)');
    other.close();
    // Garbage over every page but the header page: what a bad disk or a stray writer leaves.
    const size = fs.statSync(file).size;
    expect(size).toBeGreaterThan(8192);
    const fd = fs.openSync(file, 'r+');
    fs.writeSync(fd, Buffer.alloc(size - 4096, 0xa5), 0, size - 4096, 4096);
    fs.fsyncSync(fd);
    fs.closeSync(fd);

    const before = world.remoteLog();
    const replies: string[] = [];
    for (const text of ['history', 'releases', 'adopt geo TCD.20160802.geo']) replies.push(await command(slack, port, text));
    const health = await waitUntil('/healthz 503', async () => {
      const h = await healthOf(port);
      return h?.status === 503 ? h : undefined;
    }, 30_000).catch(async (error: unknown) => {
      throw new Error(`${String(error)}; last: ${JSON.stringify(await healthOf(port))}; replies: ${replies.join(' | ')}`);
    });
    const problems = health.body.problems as { kind: string; detail: string }[];
    expect(problems).toContainEqual({ kind: 'state-unavailable', detail: expect.stringContaining(file) });
    expect(problems.find((p) => p.kind === 'state-unavailable')!.detail).toMatch(/corrupt/);
    for (const reply of replies) {
      expect(reply, bot.output()).toMatch(/state store .* is unavailable right now/);
      expect(reply).toContain('restore');
    }
    expect(world.remoteLog()).toEqual(before);
    expect(bot.running()).toBe(true);
  });
});
