// POST /hooks/published (SPEC §4, issue 27): a publisher's wrapper says "just published" and the
// bot scans at once. The bot here never scans by itself (no schedule, no watching), so an
// announcement can only come from the hook. Refused requests answer 401/404 and scan nothing.
import { createHmac } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { createLogger } from '../src/infra/runtime/logger.ts';
import { SlackStandIn } from '../dev/slack/slackStandIn.ts';
import { createSchema, requirePostgres, type TestSchema } from '../dev/world/postgres.ts';
import { ANNOUNCE_CHANNEL, APP_TOKEN, BOT_TOKEN, BotUnderTest, USERS, World, removeSeededRemotes } from './support/botHarness.ts';

const SECRET = 'hook-secret-0123456789abcdef';

function sign(body: string, opts: { secret?: string; timestamp?: number } = {}): Record<string, string> {
  const ts = String(opts.timestamp ?? Math.floor(Date.now() / 1000));
  const signature = 'v0=' + createHmac('sha256', opts.secret ?? SECRET).update(`v0:${ts}:${body}`).digest('hex');
  return { 'content-type': 'application/json', 'x-smvbot-request-timestamp': ts, 'x-smvbot-signature': signature };
}

async function post(port: number, body: string, headers: Record<string, string>): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(`http://127.0.0.1:${port}/hooks/published`, { method: 'POST', body, headers });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

const worlds: World[] = [];
const bots: BotUnderTest[] = [];
const schemas: TestSchema[] = [];
afterAll(async () => {
  for (const b of bots) await b.stop();
  for (const s of schemas) await s.drop();
  for (const w of worlds) w.cleanup();
  removeSeededRemotes();
});

describe('POST /hooks/published', () => {
  it('scans at once on a signed request; refuses bad signatures, old timestamps and unknown publishers without scanning', async () => {
    const world = new World();
    worlds.push(world);
    const lines: string[] = [];
    const logger = createLogger({ level: 'info', destination: { write: (line: string) => void lines.push(line) } });
    const harness = await BotUnderTest.start(world, undefined, { env: { SMVBOT_HOOK_SECRET: SECRET }, logger });
    bots.push(harness);
    const port = harness.bot.port;
    world.publish('com.acme.geo', 'TCD.20160802.geo');
    const body = JSON.stringify({ publisher: 'public-data', version: 'TCD.20160802.geo' });

    const forged = await post(port, body, sign(body, { secret: 'not-the-secret-000000' }));
    expect(forged.status).toBe(401);
    expect(forged.json.error).toMatch(/bad signature/);
    const stale = await post(port, body, sign(body, { timestamp: Math.floor(Date.now() / 1000) - 301 }));
    expect(stale.status).toBe(401);
    const unsigned = await post(port, body, { 'content-type': 'application/json' });
    expect(unsigned.status).toBe(401);
    const otherBody = JSON.stringify({ publisher: 'no-such-team', version: 'TCD.20160802.geo' });
    const unknown = await post(port, otherBody, sign(otherBody));
    expect(unknown.status).toBe(404);
    expect(unknown.json.error).toMatch(/unknown publisher "no-such-team"; configured: public-data/);
    // A body changed after signing is refused like a forgery.
    const headers = sign(body);
    const tampered = await post(port, body.replace('public-data', 'public-datb'), headers);
    expect(tampered.status).toBe(401);
    expect(lines.filter((l) => l.includes('publish hook: scanning now'))).toHaveLength(0);
    expect(harness.slack.messages(ANNOUNCE_CHANNEL).filter((m) => m.text?.includes('TCD.20160802.geo'))).toHaveLength(0);

    const accepted = await post(port, body, headers);
    expect(accepted).toEqual({ status: 202, json: { ok: true, publisher: 'public-data', scan: 'started' } });
    // The same signed request again (a retried delivery) is not a second scan.
    const again = await post(port, body, headers);
    expect(again.status).toBe(202);
    expect(again.json.scan).toMatch(/already requested/);
    const announced = await harness.slack.waitFor(
      (r) => r.kind === 'call' && r.method === 'chat.postMessage' && r.ok && String(r.args.text).includes('TCD.20160802.geo'),
      30_000,
      'the announcement of TCD.20160802.geo',
    );
    expect(announced.kind === 'call' && announced.args.channel).toBe(ANNOUNCE_CHANNEL);
    expect(lines.filter((l) => l.includes('publish hook: scanning now'))).toHaveLength(1);
    expect(lines.filter((l) => l.includes('refused a publish hook'))).toHaveLength(4);
    expect(lines.join('\n')).not.toContain(SECRET);
  });

  it('is off (404) when SMVBOT_HOOK_SECRET is not set', async () => {
    const world = new World();
    worlds.push(world);
    const harness = await BotUnderTest.start(world);
    bots.push(harness);
    const body = JSON.stringify({ publisher: 'public-data', version: 'TCD.20160802.geo' });
    const res = await fetch(`http://127.0.0.1:${harness.bot.port}/hooks/published`, { method: 'POST', body, headers: sign(body) });
    expect(res.status).toBe(404);
  });

  it('reaching a follower (PostgreSQL replicas), it is passed on: the leader scans and announces once', async () => {
    const schema = await createSchema(await requirePostgres());
    schemas.push(schema);
    const world = new World();
    worlds.push(world);
    const slack = new SlackStandIn({ botToken: BOT_TOKEN, appToken: APP_TOKEN, users: USERS });
    const env = { SMVBOT_HOOK_SECRET: SECRET, SMVBOT_DATABASE_URL: schema.url };
    const leader = await BotUnderTest.start(world, slack, { env });
    bots.push(leader);
    // Each replica has its own data dir (repo clones, lock); the state is shared in PostgreSQL.
    const follower = new BotUnderTest(world, slack, { env: { ...env, SMVBOT_DATA_DIR: `${world.root}/data-follower` } });
    await follower.startBot();
    bots.push({ stop: () => follower.bot.stop() } as BotUnderTest);
    expect(leader.bot.role()).toBe('leader');
    expect(follower.bot.role()).toBe('follower');

    world.publish('com.acme.geo', 'TCD.20160802.geo');
    const body = JSON.stringify({ publisher: 'public-data', version: 'TCD.20160802.geo' });
    expect((await post(follower.bot.port, body, sign(body))).status).toBe(202);
    await slack.waitFor((r) => r.kind === 'call' && r.method === 'chat.postMessage' && r.ok && String(r.args.text).includes('TCD.20160802.geo'), 30_000, 'the announcement');
    expect(slack.calls('chat.postMessage').filter((c) => c.ok && String(c.args.text).includes('TCD.20160802.geo'))).toHaveLength(1);
  });
});
