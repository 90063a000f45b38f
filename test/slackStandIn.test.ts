import { createHmac } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { WebSocket } from 'ws';
import { WebClient, WebClientEvent, type WebAPIPlatformError } from '@slack/web-api';
import { App, LogLevel, verifySlackRequest } from '@slack/bolt';
import { silentLogger } from '../src/slack/announcementPoster.ts';
import { SlackStandIn, sendToBot, type ApiCall } from '../dev/slack/slackStandIn.ts';
import { signSlackRequest, signedRequest } from '../dev/slack/signing.ts';

const TOKEN = 'xoxb-stand-in-test';
const SECRET = 'stand-in-signing-secret';
// Small, so retries in these tests take milliseconds (the 429 test still waits its Retry-After).
const FAST_RETRIES = { retries: 2, factor: 1, minTimeout: 10, maxTimeout: 20 };

let standIn: SlackStandIn;
let client: WebClient;

beforeEach(async () => {
  standIn = new SlackStandIn({ users: { U0ADMIN: 'Ada Admin' }, channels: { C0ANNOUNCE: 'smv-releases' } });
  const { url } = await standIn.start();
  client = new WebClient(TOKEN, { slackApiUrl: url, retryConfig: FAST_RETRIES, logger: silentLogger() });
});

afterEach(async () => {
  await standIn.close();
});

describe('Web API through the real @slack/web-api client', () => {
  it('round-trips chat.postMessage with blocks and metadata, parsed back from the form encoding', async () => {
    const blocks = [
      { type: 'section', text: { type: 'mrkdwn', text: '*geo* TCD.20160802.geo is complete' } },
      { type: 'actions', block_id: 'adopt', elements: [{ type: 'button', action_id: 'adopt', text: { type: 'plain_text', text: 'Adopt' }, value: 'geo|TCD.20160802.geo' }] },
    ];
    const metadata = { event_type: 'smv_version_published', event_payload: { publisher: 'public-data', version: 'TCD.20160802.geo', stages: ['com.acme.geo'], modules: 3 } };

    // @slack/types types event_payload values as scalars or arrays of objects, so a string list needs a cast.
    const result = await client.chat.postMessage({ channel: 'C0ANNOUNCE', text: 'geo TCD.20160802.geo', blocks, metadata: metadata as never });

    expect(result.ok).toBe(true);
    expect(result.channel).toBe('C0ANNOUNCE');
    expect(result.ts).toMatch(/^\d{10}\.\d{6}$/);
    const [call] = standIn.calls('chat.postMessage');
    expect(call).toMatchObject({ ok: true, status: 200, token: TOKEN, injected: null, error: null });
    expect(call?.args).toMatchObject({ channel: 'C0ANNOUNCE', text: 'geo TCD.20160802.geo', blocks, metadata });
    expect(call?.args).not.toHaveProperty('token');
    expect(standIn.messages('C0ANNOUNCE')).toEqual([
      expect.objectContaining({ ts: result.ts, text: 'geo TCD.20160802.geo', blocks, metadata, edited: false }),
    ]);
  });

  it('refuses a message past Block Kit limits with invalid_blocks, as Slack does, and stores nothing', async () => {
    const section = (i: number) => ({ type: 'section', text: { type: 'mrkdwn', text: `line ${i}` } });
    const button = (id: string) => ({ type: 'button', action_id: id, text: { type: 'plain_text', text: 'Adopt' }, value: id });
    const refused = [
      Array.from({ length: 51 }, (_, i) => section(i)),
      [{ ...section(1), block_id: 'same' }, { ...section(2), block_id: 'same' }],
      [{ type: 'actions', elements: Array.from({ length: 26 }, (_, i) => button(`b${i}`)) }],
      [{ type: 'actions', elements: [button('b'), button('b')] }],
      [{ type: 'section', text: { type: 'mrkdwn', text: 'x'.repeat(3001) } }],
    ];
    for (const blocks of refused) {
      await expect(client.chat.postMessage({ channel: 'C1', text: 'too much', blocks })).rejects.toMatchObject({ data: { error: 'invalid_blocks' } });
    }
    expect(standIn.messages('C1')).toEqual([]);
    // At the limits it is taken.
    const atLimits = [
      ...Array.from({ length: 48 }, (_, i) => section(i)),
      { type: 'actions', block_id: 'a1', elements: Array.from({ length: 25 }, (_, i) => button(`b${i}`)) },
      { type: 'actions', block_id: 'a2', elements: [button('b0')] },
    ];
    expect((await client.chat.postMessage({ channel: 'C1', text: 'fits', blocks: atLimits })).ok).toBe(true);
  });

  it('gives every message a distinct, increasing ts', async () => {
    const posted: string[] = [];
    for (let i = 0; i < 5; i++) posted.push(String((await client.chat.postMessage({ channel: 'C1', text: `m${i}` })).ts));
    expect(new Set(posted).size).toBe(5);
    expect([...posted].sort()).toEqual(posted);
  });

  it('answers auth.test with the bot identity Bolt needs', async () => {
    const auth = await client.auth.test();
    expect(auth).toMatchObject({ ok: true, team_id: 'T0SMVDEMO', user_id: 'U0SMVBOT', bot_id: 'B0SMVBOT' });
  });

  it('looks users up in the directory, falling back to the id as the name', async () => {
    const known = await client.users.info({ user: 'U0ADMIN' });
    expect(known.user?.real_name).toBe('Ada Admin');
    expect(known.user?.profile?.real_name).toBe('Ada Admin');
    const unknown = await client.users.info({ user: 'U0NOBODY' });
    expect(unknown.user?.real_name).toBe('U0NOBODY');
  });

  it('conversations.history needs the history scope; with it, lists the channel newest first with metadata on request', async () => {
    const metadata = { event_type: 'smv_version_published', event_payload: { publisher: 'p', version: 'v1' } };
    const first = await client.chat.postMessage({ channel: 'C1', text: 'one', metadata });
    await client.chat.postMessage({ channel: 'C1', text: 'two' });
    await client.chat.postEphemeral({ channel: 'C1', user: 'U0ADMIN', text: 'only you' });
    await expect(client.conversations.history({ channel: 'C1' })).rejects.toMatchObject({ data: { error: 'missing_scope' } });

    standIn.setHistoryScope(true);
    const plain = await client.conversations.history({ channel: 'C1' });
    expect(plain.messages?.map((m) => m.text)).toEqual(['two', 'one']);
    expect(plain.messages?.[1]).not.toHaveProperty('metadata');
    const withMetadata = await client.conversations.history({ channel: 'C1', include_all_metadata: true, limit: 1, cursor: '1' });
    expect(withMetadata.messages).toEqual([expect.objectContaining({ ts: first.ts, metadata })]);
    expect(withMetadata.has_more).toBe(false);
    const after = await client.conversations.history({ channel: 'C1', oldest: String(first.ts) });
    expect(after.messages?.map((m) => m.text)).toEqual(['two']);
  });

  it('records ephemeral messages for the one user who sees them', async () => {
    const result = await client.chat.postEphemeral({ channel: 'C1', user: 'U0ADMIN', text: 'only you' });
    expect(result.message_ts).toMatch(/^\d{10}\.\d{6}$/);
    expect(standIn.messages('C1')).toEqual([expect.objectContaining({ text: 'only you', ephemeralTo: 'U0ADMIN' })]);
  });

  it('opens modals and publishes App Home views', async () => {
    const opened = await client.views.open({
      trigger_id: '1.2.3',
      view: { type: 'modal', callback_id: 'pick_consumer', title: { type: 'plain_text', text: 'Adopt' }, blocks: [] },
    });
    const viewId = String(opened.view?.id);
    expect(viewId).toMatch(/^V/);
    await client.views.publish({ user_id: 'U0ADMIN', view: { type: 'home', blocks: [] } });
    expect(standIn.views()).toEqual([
      expect.objectContaining({ id: viewId, view: expect.objectContaining({ title: { type: 'plain_text', text: 'Adopt' } }) }),
      expect.objectContaining({ view: expect.objectContaining({ type: 'home' }) }),
    ]);
  });

  it('answers unknown methods with unknown_method', async () => {
    await expect(client.apiCall('smv.nothing')).rejects.toMatchObject({ data: { ok: false, error: 'unknown_method' } });
    expect(standIn.calls('smv.nothing')).toEqual([expect.objectContaining({ ok: false, error: 'unknown_method', injected: null })]);
  });

  it('checks the token: missing → not_authed; wrong one → invalid_auth when a bot token is configured', async () => {
    const anonymous = new WebClient(undefined, { slackApiUrl: standIn.url, retryConfig: FAST_RETRIES, logger: silentLogger() });
    await expect(anonymous.auth.test()).rejects.toMatchObject({ data: { error: 'not_authed' } });

    const strict = new SlackStandIn({ botToken: TOKEN });
    try {
      const { url } = await strict.start();
      const intruder = new WebClient('xoxb-wrong', { slackApiUrl: url, retryConfig: FAST_RETRIES, logger: silentLogger() });
      await expect(intruder.auth.test()).rejects.toMatchObject({ data: { error: 'invalid_auth' } });
      const owner = new WebClient(TOKEN, { slackApiUrl: url, retryConfig: FAST_RETRIES, logger: silentLogger() });
      await expect(owner.auth.test()).resolves.toMatchObject({ ok: true });
    } finally {
      await strict.close();
    }
  });

  it('accepts JSON bodies with a Bearer token as well as form bodies', async () => {
    const response = await fetch(`${standIn.url}chat.postMessage`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json; charset=utf-8', Authorization: `Bearer ${TOKEN}` },
      body: JSON.stringify({ channel: 'C2', text: 'json', blocks: [{ type: 'divider' }] }),
    });
    expect(await response.json()).toMatchObject({ ok: true, channel: 'C2' });
    expect(standIn.calls('chat.postMessage')[0]).toMatchObject({ token: TOKEN, args: { channel: 'C2', text: 'json', blocks: [{ type: 'divider' }] } });
  });

  it('lets a test replace a method with setHandler, and restore it', async () => {
    standIn.setHandler('users.info', (args) => ({ ok: true, user: { id: args.user, real_name: 'Overridden' } }));
    expect((await client.users.info({ user: 'U0ADMIN' })).user?.real_name).toBe('Overridden');
    standIn.setHandler('users.info', undefined);
    expect((await client.users.info({ user: 'U0ADMIN' })).user?.real_name).toBe('Ada Admin');
  });
});

describe('fault injection', () => {
  it('a 429 with Retry-After 1 is waited out and retried by WebClient; both attempts are recorded', async () => {
    standIn.failNext('chat.postMessage', 1, { status: 429, retryAfter: 1 });
    let rateLimitedFor: number | undefined;
    client.on(WebClientEvent.RATE_LIMITED, (seconds: number) => {
      rateLimitedFor = seconds;
    });

    const result = await client.chat.postMessage({ channel: 'C1', text: 'hello' });

    expect(result.ok).toBe(true);
    expect(rateLimitedFor).toBe(1);
    const attempts = standIn.calls('chat.postMessage');
    expect(attempts.map((a) => [a.ok, a.status, a.error])).toEqual([
      [false, 429, 'ratelimited'],
      [true, 200, null],
    ]);
    expect(attempts[0]?.injected).toEqual({ status: 429, retryAfter: 1 });
    expect(attempts[1]?.args).toEqual(attempts[0]?.args);
    expect(standIn.messages('C1')).toHaveLength(1);
  });

  it('a 500 is retried with back-off and then succeeds', async () => {
    standIn.failNext('chat.postMessage', 1, { status: 500 });
    const result = await client.chat.postMessage({ channel: 'C1', text: 'hello' });
    expect(result.ok).toBe(true);
    expect(standIn.calls('chat.postMessage').map((a) => [a.ok, a.status, a.error])).toEqual([
      [false, 500, 'http_500'],
      [true, 200, null],
    ]);
  });

  it('gives up when every retry fails, leaving nothing posted', async () => {
    standIn.failNext('chat.postMessage', 3, { status: 500 });
    await expect(client.chat.postMessage({ channel: 'C1', text: 'hello' })).rejects.toMatchObject({ code: 'slack_webapi_http_error', statusCode: 500 });
    expect(standIn.calls('chat.postMessage')).toHaveLength(3);
    expect(standIn.messages()).toEqual([]);
  });

  it('an ok:false fault is a platform error (not retried) and only applies to the next n calls', async () => {
    standIn.failNext('chat.postMessage', 1, { ok: false, error: 'channel_not_found' });
    const failure = await client.chat.postMessage({ channel: 'C404', text: 'x' }).catch((e: WebAPIPlatformError) => e);
    expect(failure).toMatchObject({ code: 'slack_webapi_platform_error', data: { ok: false, error: 'channel_not_found' } });
    await expect(client.chat.postMessage({ channel: 'C404', text: 'x' })).resolves.toMatchObject({ ok: true });
    expect(standIn.calls('chat.postMessage').map((a) => [a.ok, a.error, a.injected !== null])).toEqual([
      [false, 'channel_not_found', true],
      [true, null, false],
    ]);
  });

  it('a reset after storing keeps the message but the client gets no answer; before storing keeps nothing', async () => {
    const once = new WebClient(TOKEN, { slackApiUrl: standIn.url, retryConfig: { retries: 0 }, logger: silentLogger() });
    standIn.failNext('chat.postMessage', 1, { reset: 'after-store' });
    standIn.failNext('chat.postMessage', 1, { reset: 'before-store' });
    await expect(once.chat.postMessage({ channel: 'C1', text: 'stored' })).rejects.toMatchObject({ code: 'slack_webapi_request_error' });
    await expect(once.chat.postMessage({ channel: 'C1', text: 'lost' })).rejects.toMatchObject({ code: 'slack_webapi_request_error' });
    expect(standIn.messages('C1').map((m) => m.text)).toEqual(['stored']);
    expect(standIn.calls('chat.postMessage').map((c) => [c.ok, c.error])).toEqual([
      [false, 'connection_reset'],
      [false, 'connection_reset'],
    ]);
  });

  it('a hang never answers: only the client\'s own timeout ends the call', async () => {
    const impatient = new WebClient(TOKEN, { slackApiUrl: standIn.url, retryConfig: { retries: 0 }, timeout: 300, logger: silentLogger() });
    standIn.failNext('auth.test', 1, { hang: true });
    await expect(impatient.auth.test()).rejects.toMatchObject({ code: 'slack_webapi_request_error' });
    expect(standIn.calls('auth.test')).toEqual([expect.objectContaining({ ok: false, error: 'hang' })]);
  });
});

describe('response_url', () => {
  it('hands out unique URLs and records what is posted to each', async () => {
    const first = standIn.responseUrl();
    const second = standIn.responseUrl();
    expect(first).not.toBe(second);
    expect(first.startsWith(`${standIn.baseUrl}/response/`)).toBe(true);

    const waiting = standIn.waitForResponse(second);
    const posted = await fetch(second, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ response_type: 'ephemeral', text: 'Adopting…' }) });
    expect(posted.status).toBe(200);

    const received = await waiting;
    expect(received.body).toEqual({ response_type: 'ephemeral', text: 'Adopting…' });
    expect(standIn.responses(second)).toEqual([received]);
    expect(standIn.responses(first)).toEqual([]);
  });

  it('refuses URLs it never issued with 404', async () => {
    const response = await fetch(`${standIn.baseUrl}/response/Rbogus`, { method: 'POST', body: '{}' });
    expect(response.status).toBe(404);
    expect(standIn.responses()).toEqual([]);
  });

  it('can fail a response_url post too', async () => {
    const url = standIn.responseUrl();
    standIn.failNext('response_url', 1, { status: 500 });
    expect((await fetch(url, { method: 'POST', body: '{"text":"a"}' })).status).toBe(500);
    expect((await fetch(url, { method: 'POST', body: '{"text":"b"}' })).status).toBe(200);
    expect(standIn.responses(url).map((r) => [r.ok, r.body])).toEqual([
      [false, { text: 'a' }],
      [true, { text: 'b' }],
    ]);
  });
});

describe('waiting', () => {
  it('waitForCall resolves on a call that has not happened yet, and on one already recorded', async () => {
    const waiting = standIn.waitForCall('chat.postMessage', (c) => c.ok && c.args.channel === 'C9');
    await client.chat.postMessage({ channel: 'C1', text: 'not this one' });
    await client.chat.postMessage({ channel: 'C9', text: 'this one' });
    expect((await waiting).args.text).toBe('this one');
    expect((await standIn.waitForCall('chat.postMessage')).args.text).toBe('not this one');
  });

  it('by default waits for a successful call, skipping injected failures', async () => {
    standIn.failNext('chat.postMessage', 1, { status: 500 });
    const waiting = standIn.waitForCall('chat.postMessage');
    await client.chat.postMessage({ channel: 'C1', text: 'x' });
    const call: ApiCall = await waiting;
    expect(call.ok).toBe(true);
    expect(standIn.calls('chat.postMessage')).toHaveLength(2);
  });

  it('times out with a message saying what it waited for and what it saw', async () => {
    await client.auth.test();
    await expect(standIn.waitForCall('chat.postMessage', undefined, 50)).rejects.toThrow(
      /Timed out after 50 ms waiting for a chat\.postMessage call\. Recorded so far: auth\.test/,
    );
  });

  it('rejects pending waits when the stand-in closes', async () => {
    const waiting = standIn.waitForCall('chat.postMessage');
    await standIn.close();
    await expect(waiting).rejects.toThrow(/closed while waiting for a chat\.postMessage call/);
  });
});

describe('request signing', () => {
  it('matches the example from Slack’s documentation', () => {
    const body =
      'token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar' +
      '&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=' +
      '&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN' +
      '&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c';
    expect(signSlackRequest('8f742231b10e8888abcd99yyyzzz85a5', 1531420618, body)).toBe(
      'v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503',
    );
  });

  it('signs the exact raw body with an independently computed HMAC', () => {
    const request = signedRequest('http://127.0.0.1:1/slack/events', { signingSecret: SECRET, kind: 'event', body: { type: 'event_callback', event: { type: 'app_home_opened' } }, timestamp: 1700000000 });
    const expected = 'v0=' + createHmac('sha256', SECRET).update(`v0:1700000000:${request.body}`).digest('hex');
    expect(request.headers).toMatchObject({ 'Content-Type': 'application/json', 'X-Slack-Request-Timestamp': '1700000000', 'X-Slack-Signature': expected });
    expect(JSON.parse(request.body)).toEqual({ type: 'event_callback', event: { type: 'app_home_opened' } });
  });

  it('passes Bolt’s own verifySlackRequest for every kind, and fails it with the wrong secret or a stale timestamp', () => {
    const bodies = [
      { kind: 'command', body: standIn.slashCommand({ text: 'releases', userId: 'U1', channelId: 'C1' }).body },
      { kind: 'interaction', body: standIn.blockAction({ actionId: 'adopt', value: 'v', userId: 'U1', channelId: 'C1', messageTs: '1.000001' }).body },
      { kind: 'event', body: standIn.eventCallback({ type: 'app_home_opened', user: 'U1', tab: 'home' }).body },
    ] as const;
    for (const { kind, body } of bodies) {
      const request = signedRequest('http://127.0.0.1:1/slack/events', { signingSecret: SECRET, kind, body });
      const headers = { 'x-slack-signature': request.headers['X-Slack-Signature'] ?? '', 'x-slack-request-timestamp': Number(request.headers['X-Slack-Request-Timestamp']) };
      expect(() => verifySlackRequest({ signingSecret: SECRET, body: request.body, headers })).not.toThrow();
      expect(() => verifySlackRequest({ signingSecret: 'other', body: request.body, headers })).toThrow(/signature mismatch/);
    }
    const stale = signedRequest('http://x', { signingSecret: SECRET, kind: 'command', body: 'text=x', timestamp: Math.floor(Date.now() / 1000) - 600 });
    expect(() =>
      verifySlackRequest({ signingSecret: SECRET, body: stale.body, headers: { 'x-slack-signature': stale.headers['X-Slack-Signature'] ?? '', 'x-slack-request-timestamp': Number(stale.headers['X-Slack-Request-Timestamp']) } }),
    ).toThrow(/stale/);
  });

  it('builds slash-command fields exactly as Slack sends them', () => {
    const request = standIn.slashCommand({ text: 'adopt geo latest', userId: 'U0ADMIN', channelId: 'C0ANNOUNCE' });
    expect(request.kind).toBe('command');
    expect(Object.keys(request.body).sort()).toEqual(
      ['api_app_id', 'channel_id', 'channel_name', 'command', 'is_enterprise_install', 'response_url', 'team_domain', 'team_id', 'text', 'token', 'trigger_id', 'user_id', 'user_name'].sort(),
    );
    expect(request.body).toMatchObject({ command: '/smv', text: 'adopt geo latest', user_id: 'U0ADMIN', user_name: 'ada.admin', channel_name: 'smv-releases', response_url: request.responseUrl });
    const encoded = new URLSearchParams(signedRequest('http://x', { signingSecret: SECRET, kind: 'command', body: request.body }).body);
    expect(encoded.get('text')).toBe('adopt geo latest');
    expect(encoded.get('command')).toBe('/smv');
  });
});

describe('driving a real Bolt app', () => {
  let app: App;
  let botUrl: string;
  const seen: { commands: string[]; actions: string[]; submissions: unknown[] } = { commands: [], actions: [], submissions: [] };

  beforeEach(async () => {
    seen.commands = [];
    seen.actions = [];
    seen.submissions = [];
    app = new App({ token: TOKEN, signingSecret: SECRET, logLevel: LogLevel.ERROR, clientOptions: { slackApiUrl: standIn.url, retryConfig: FAST_RETRIES } });
    app.command('/smv', async ({ command, ack, respond }) => {
      seen.commands.push(command.text);
      await ack({ response_type: 'ephemeral', text: `Working on \`${command.text}\`…` });
      await respond({ response_type: 'in_channel', text: `done: ${command.text}` });
    });
    app.action('adopt', async ({ ack, body, respond }) => {
      await ack();
      seen.actions.push(body.type === 'block_actions' ? String((body.actions[0] as { value?: string }).value) : '?');
      await respond({ replace_original: false, text: 'adopting' });
    });
    app.view('pick_consumer', async ({ ack, view }) => {
      seen.submissions.push(view.state.values);
      await ack();
    });
    const server = await app.start({ port: 0, host: '127.0.0.1' });
    botUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/slack/events`;
  });

  afterEach(async () => {
    await app.stop();
  });

  it('runs a slash command: the bot acks in the HTTP answer and follows up on response_url', async () => {
    const request = standIn.slashCommand({ text: 'releases geo', userId: 'U0ADMIN', channelId: 'C0ANNOUNCE' });
    const answer = await sendToBot(botUrl, SECRET, request);
    expect(answer).toMatchObject({ status: 200, body: { response_type: 'ephemeral', text: 'Working on `releases geo`…' } });
    const followUp = await standIn.waitForResponse(request.responseUrl);
    expect(followUp.body).toEqual({ response_type: 'in_channel', text: 'done: releases geo' });
    expect(seen.commands).toEqual(['releases geo']);
    expect(standIn.calls('auth.test').length).toBeGreaterThan(0);
  });

  it('clicks a button on a message the bot posted', async () => {
    const blocks = [{ type: 'actions', block_id: 'adopt-geo', elements: [{ type: 'button', action_id: 'adopt', text: { type: 'plain_text', text: 'Adopt geo' }, value: 'geo|TCD.20160802.geo' }] }];
    const posted = await app.client.chat.postMessage({ channel: 'C0ANNOUNCE', text: 'geo TCD.20160802.geo', blocks });
    const request = standIn.blockAction({ actionId: 'adopt', value: 'geo|TCD.20160802.geo', userId: 'U0ADMIN', channelId: 'C0ANNOUNCE', messageTs: String(posted.ts) });
    expect(request.body).toMatchObject({
      type: 'block_actions',
      container: { type: 'message', message_ts: posted.ts, channel_id: 'C0ANNOUNCE' },
      message: { ts: posted.ts, blocks },
      actions: [{ action_id: 'adopt', block_id: 'adopt-geo', type: 'button', value: 'geo|TCD.20160802.geo', text: { text: 'Adopt geo' } }],
    });

    expect((await sendToBot(botUrl, SECRET, request)).status).toBe(200);
    expect((await standIn.waitForResponse(request.responseUrl)).body).toEqual({ replace_original: false, text: 'adopting' });
    expect(seen.actions).toEqual(['geo|TCD.20160802.geo']);
  });

  it('submits a modal the bot opened', async () => {
    const opened = await app.client.views.open({ trigger_id: '1.2.3', view: { type: 'modal', callback_id: 'pick_consumer', title: { type: 'plain_text', text: 'Pick' }, blocks: [] } });
    const values = { consumer: { choice: { type: 'static_select', selected_option: { value: 'client-model' } } } };
    const request = standIn.viewSubmission({ userId: 'U0ADMIN', viewId: String(opened.view?.id), values });
    expect(request.body).toMatchObject({ type: 'view_submission', view: { id: opened.view?.id, callback_id: 'pick_consumer', state: { values } } });
    expect((await sendToBot(botUrl, SECRET, request)).status).toBe(200);
    expect(seen.submissions).toEqual([values]);
  });

  it('gets 401 and runs nothing when the signature is wrong or stale', async () => {
    const request = standIn.slashCommand({ text: 'releases', userId: 'U0ADMIN', channelId: 'C0ANNOUNCE' });
    expect((await sendToBot(botUrl, 'not-the-secret', request)).status).toBe(401);
    expect((await sendToBot(botUrl, SECRET, request, { timestamp: Math.floor(Date.now() / 1000) - 600 })).status).toBe(401);
    expect(seen.commands).toEqual([]);
    expect(standIn.responses()).toEqual([]);
  });
});

describe('Socket Mode with several connections (one per replica)', () => {
  /** A raw Socket Mode client: opens a URL through apps.connections.open, records and acks envelopes. */
  interface RawClient {
    ws: WebSocket;
    got: string[];
    localPort: number;
  }

  const connect = async (opts: { ack?: boolean } = {}): Promise<RawClient> => {
    const opened = await new WebClient('xapp-1-stand-in-test', { slackApiUrl: standIn.url, logger: silentLogger() }).apiCall('apps.connections.open');
    const ws = new WebSocket(String((opened as { url?: string }).url));
    const client: RawClient = { ws, got: [], localPort: 0 };
    ws.on('message', (data) => {
      const message = JSON.parse(String(data)) as { type: string; envelope_id?: string; payload?: { text?: string } };
      if (!message.envelope_id) return;
      client.got.push(message.envelope_id);
      if (opts.ack !== false) ws.send(JSON.stringify({ envelope_id: message.envelope_id, payload: { text: `ack ${client.got.length}` } }));
    });
    await new Promise<void>((resolve, reject) => {
      ws.once('message', () => resolve()); // hello
      ws.once('error', reject);
    });
    client.localPort = (ws as unknown as { _socket: { localPort: number } })._socket.localPort;
    return client;
  };

  const command = (text: string) => standIn.slashCommand({ text, userId: 'U0ADMIN', channelId: 'C0ANNOUNCE' });

  it('gives each envelope to exactly one connection, taking them in turn, and says which', async () => {
    const [a, b] = [await connect(), await connect()];
    expect(standIn.socketMode.openConnections().map((c) => c.clientPort)).toEqual([a.localPort, b.localPort]);
    const requests = [command('one'), command('two'), standIn.eventCallback({ type: 'app_home_opened', user: 'U0ADMIN', tab: 'home' }), command('three')];
    const answers = [];
    for (const request of requests) answers.push(await standIn.sendOverSocket(request));

    const [first, second] = standIn.socketMode.openConnections().map((c) => c.id);
    expect(answers.map((x) => x.delivery.connectionId)).toEqual([first, second, first, second]);
    expect(a.got).toEqual([answers[0]!.delivery.envelopeId, answers[2]!.delivery.envelopeId]);
    expect(b.got).toEqual([answers[1]!.delivery.envelopeId, answers[3]!.delivery.envelopeId]);
    expect(answers.map((x) => x.body)).toEqual([{ text: 'ack 1' }, { text: 'ack 1' }, { text: 'ack 2' }, { text: 'ack 2' }]);
    expect(standIn.socketMode.deliveries().map((d) => d.acks)).toEqual([1, 1, 1, 1]);
    a.ws.close();
    b.ws.close();
  });

  it('a closed connection gets nothing more; one asked to reconnect neither; one that closes before acking fails the delivery', async () => {
    const [a, b] = [await connect(), await connect()];
    b.ws.close();
    await vi.waitFor(() => expect(standIn.socketMode.openCount).toBe(1));
    for (const text of ['x', 'y', 'z']) expect((await standIn.sendOverSocket(command(text))).status).toBe(200);
    expect(a.got).toHaveLength(3);
    expect(b.got).toEqual([]);

    // Slack asks `a` to go away (a refresh): until it does, the next envelopes go to the newer connection.
    standIn.socketMode.requestReconnect();
    const c = await connect();
    const answered = await standIn.sendOverSocket(command('after refresh'));
    expect(c.got).toEqual([answered.delivery.envelopeId]);
    expect(a.got).toHaveLength(3);

    // A connection that dies holding an unacked envelope fails that delivery, naming the connection.
    const d = await connect({ ack: false });
    c.ws.close();
    await vi.waitFor(() => expect(standIn.socketMode.openCount).toBe(2)); // a (retiring) and d
    const pending = standIn.sendOverSocket(command('lost'), { timeoutMs: 30_000 });
    await vi.waitFor(() => expect(d.got).toHaveLength(1));
    d.ws.terminate();
    await expect(pending).rejects.toThrow(/closed before it acked envelope/);
    expect(a.got).toHaveLength(3);
    a.ws.close();
  });
});
