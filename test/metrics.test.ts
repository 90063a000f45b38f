// GET /metrics (SPEC §4, issue 28): scraped from the real bot and read by a Prometheus text
// parser; the values move when a scan, an announcement, a Slack 429, an adopt and its git push happen.
import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import { afterAll, describe, expect, it } from 'vitest';
import { ADOPTER, BotUnderTest, World, removeSeededRemotes } from './support/botHarness.ts';

type Labels = Record<string, string>;

/**
 * One scrape. The whole text must parse as Prometheus text format (the parser package also gives
 * each family's type); sample values are read line by line, because that parser folds a labelled
 * histogram's series into one and drops their labels. A histogram's value here is its `_count`.
 */
async function scrape(port: number): Promise<{ value(name: string, labels?: Labels): number; families: string[]; type(name: string): string | undefined }> {
  const res = await fetch(`http://127.0.0.1:${port}/metrics`);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
  const text = await res.text();
  const families = parsePrometheusTextFormat(text);
  const samples = text
    .split('\n')
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((line) => {
      const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
      if (m === null) throw new Error(`not a sample line: ${line}`);
      const labels: Labels = {};
      for (const pair of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[pair[1]!] = pair[2]!;
      return { name: m[1]!, labels, value: Number(m[3]) };
    });
  return {
    families: families.map((f) => f.name),
    type: (name) => families.find((f) => f.name === name)?.type,
    value(name, labels = {}) {
      const series = families.find((f) => f.name === name)?.type === 'HISTOGRAM' ? `${name}_count` : name;
      return samples
        .filter((s) => s.name === series && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
        .reduce((sum, s) => sum + s.value, 0);
    },
  };
}

const worlds: World[] = [];
const bots: BotUnderTest[] = [];
afterAll(async () => {
  for (const b of bots) await b.stop();
  for (const w of worlds) w.cleanup();
  removeSeededRemotes();
});

async function start(env: Record<string, string> = {}): Promise<{ world: World; harness: BotUnderTest }> {
  const world = new World();
  worlds.push(world);
  const harness = await BotUnderTest.start(world, undefined, { env });
  bots.push(harness);
  return { world, harness };
}

describe('GET /metrics', () => {
  it('counts scans, versions, announcements with their lag, Slack calls and 429s, commands and git operations', async () => {
    const { world, harness } = await start();
    const port = harness.bot.port;
    const first = await scrape(port);
    expect(first.families).toEqual(
      expect.arrayContaining([
        'smvbot_scan_duration_seconds',
        'smvbot_scans_total',
        'smvbot_versions_known',
        'smvbot_versions_pending',
        'smvbot_announcement_lag_seconds',
        'smvbot_slack_api_calls_total',
        'smvbot_git_operation_seconds',
        'smvbot_command_seconds',
        'smvbot_leader',
        'smvbot_commands_pending',
      ]),
    );
    expect(first.type('smvbot_announcement_lag_seconds')).toBe('HISTOGRAM');
    expect(first.type('smvbot_scans_total')).toBe('COUNTER');
    expect(first.value('smvbot_scans_total', { publisher: 'public-data', outcome: 'ok' })).toBe(1);
    expect(first.value('smvbot_versions_known', { publisher: 'public-data' })).toBe(3);
    expect(first.value('smvbot_leader')).toBe(1);
    expect(first.value('smvbot_commands_pending')).toBe(0);
    expect(first.value('smvbot_announcement_lag_seconds')).toBe(0);

    // A new version, and Slack answers its first post with 429: counted, then posted after Retry-After.
    world.publish('com.acme.geo', 'TCD.20160802.geo');
    harness.slack.failNext('chat.postMessage', 1, { status: 429, retryAfter: 1 });
    await harness.bot.scanNow();
    const posted = await scrape(port);
    expect(posted.value('smvbot_scans_total', { publisher: 'public-data' })).toBe(2);
    expect(posted.value('smvbot_versions_known', { publisher: 'public-data' })).toBe(4);
    expect(posted.value('smvbot_slack_api_calls_total', { method: 'chat.postMessage', outcome: 'rate_limited' })).toBe(1);
    expect(posted.value('smvbot_slack_api_calls_total', { method: 'chat.postMessage', outcome: 'ok' })).toBe(1);
    expect(posted.value('smvbot_announcement_lag_seconds', { publisher: 'public-data' })).toBe(1);

    // An adopt: one command answered, a push that worked.
    const adopt = await harness.command('adopt geo TCD.20160802.geo', { user: ADOPTER });
    expect(adopt.reply).toMatch(/adopted geo TCD\.20160802\.geo/);
    const adopted = await scrape(port);
    expect(adopted.value('smvbot_command_seconds', { command: 'adopt', outcome: 'answered' })).toBe(1);
    expect(adopted.value('smvbot_git_operation_seconds', { kind: 'push', outcome: 'ok' })).toBe(1);
    expect(adopted.value('smvbot_slack_api_calls_total', { method: 'users.info', outcome: 'ok' })).toBeGreaterThanOrEqual(1);

    // Reads are counted when answered, refusals too.
    await harness.command('releases geo');
    await harness.command('adopt nosuchstage latest');
    const read = await scrape(port);
    expect(read.value('smvbot_command_seconds', { command: 'releases', outcome: 'answered' })).toBe(1);
    expect(read.value('smvbot_command_seconds', { command: 'adopt', outcome: 'refused' })).toBe(1);
  });

  it('is hidden (404) with SMVBOT_METRICS=off', async () => {
    const { harness } = await start({ SMVBOT_METRICS: 'off' });
    const res = await fetch(`http://127.0.0.1:${harness.bot.port}/metrics`);
    expect(res.status).toBe(404);
  });
});
