// How a failed chat.postMessage is classed, from real failures: a refused connection (nothing
// sent: safe to send again), a reset after Slack stored it or a timeout (unknown), Slack's answers.
import { createServer } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AnnouncementPoster } from '../src/slack/announcementPoster.ts';
import { classifyPostFailure, describeFailure } from '../src/slack/postFailures.ts';
import { SlackStandIn } from '../dev/slack/slackStandIn.ts';

const TOKEN = 'xoxb-post-failures';
let standIn: SlackStandIn;
beforeEach(async () => {
  standIn = new SlackStandIn({ botToken: TOKEN });
  await standIn.start();
});
afterEach(async () => {
  await standIn.close();
});

function poster(apiUrl: string, timeoutMs = 5000): AnnouncementPoster {
  return new AnnouncementPoster({ token: TOKEN, apiUrl, timeoutMs, retry: { retries: 2, minTimeout: 10, factor: 1 }, channelIntervalMs: 0 });
}

/** A loopback port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('classifyPostFailure', () => {
  it('a refused connection never reached Slack: retried with back-off, then classed retry', async () => {
    const error = await poster(`http://127.0.0.1:${await closedPort()}/api/`).post({ channel: 'C1', text: 'x' }).catch((e: unknown) => e);
    expect(classifyPostFailure(error)).toBe('retry');
    expect(describeFailure(error)).toContain('ECONNREFUSED');
  });

  it('a reset after Slack stored the message is unknown, and is not re-sent', async () => {
    standIn.failNext('chat.postMessage', 1, { reset: 'after-store' });
    const error = await poster(standIn.url).post({ channel: 'C1', text: 'x' }).catch((e: unknown) => e);
    expect(classifyPostFailure(error)).toBe('unknown');
    expect(standIn.calls('chat.postMessage')).toHaveLength(1);
    expect(standIn.messages('C1')).toHaveLength(1);
  });

  it('a request that times out is unknown', async () => {
    standIn.failNext('chat.postMessage', 1, { hang: true });
    const error = await poster(standIn.url, 300).post({ channel: 'C1', text: 'x' }).catch((e: unknown) => e);
    expect(classifyPostFailure(error)).toBe('unknown');
    expect(describeFailure(error)).toContain('timed out');
    expect(standIn.calls('chat.postMessage')).toHaveLength(1);
  });

  it("Slack's answers: auth stops, channel errors fail, others retry; 5xx are retried by the poster", async () => {
    for (const [error, kind] of [
      ['token_revoked', 'stop'],
      ['account_inactive', 'stop'],
      ['invalid_auth', 'stop'],
      ['channel_not_found', 'failed'],
      ['is_archived', 'failed'],
      ['internal_error', 'retry'],
    ] as const) {
      standIn.failNext('chat.postMessage', 1, { ok: false, error });
      const failure = await poster(standIn.url).post({ channel: 'C1', text: 'x' }).catch((e: unknown) => e);
      expect([error, classifyPostFailure(failure)]).toEqual([error, kind]);
    }
    standIn.clearRecords();
    standIn.failNext('chat.postMessage', 2, { status: 500 });
    await expect(poster(standIn.url).post({ channel: 'C1', text: 'x' })).resolves.toMatchObject({ ts: expect.any(String) });
    expect(standIn.calls('chat.postMessage').map((c) => c.status)).toEqual([500, 500, 200]);
  });
});
