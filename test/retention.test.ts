// GET /retention/<publisher> (SPEC §4, issue 28): which complete versions no consumer pins (safe
// to delete) and which are pinned, by whom, read from each consumer's repo; a repo that cannot be
// read is named and withholds "safe" for the stages that consumer could pin.
import fs from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { BotUnderTest, World, removeSeededRemotes } from './support/botHarness.ts';

const TOKEN = 'retention-api-token-0123456789';

const worlds: World[] = [];
const bots: BotUnderTest[] = [];
afterAll(async () => {
  for (const b of bots) await b.stop();
  for (const w of worlds) w.cleanup();
  removeSeededRemotes();
});

async function retention(port: number, publisher: string, auth: string | null = `Bearer ${TOKEN}`): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`http://127.0.0.1:${port}/retention/${encodeURIComponent(publisher)}`, { headers: auth === null ? {} : { authorization: auth } });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

describe('GET /retention/<publisher>', () => {
  it('lists pinned versions with who pins them, calls the rest safe, and withholds safe while a consumer repo cannot be read', async () => {
    const world = new World({ initialVersions: ['TCD.20160701', 'TCD.20160702'], extraConsumers: [{ name: 'other-model', channels: ['C0OTHER'] }] });
    worlds.push(world);
    const harness = await BotUnderTest.start(world, undefined, { env: { SMVBOT_API_TOKEN: TOKEN } });
    bots.push(harness);
    const port = harness.bot.port;

    expect((await retention(port, 'public-data', null)).status).toBe(401);
    expect((await retention(port, 'public-data', 'Bearer not-the-token-0000000000')).status).toBe(401);
    const unknown = await retention(port, 'no-such-team');
    expect(unknown.status).toBe(404);
    expect(unknown.body.error).toMatch(/unknown publisher "no-such-team"; configured: public-data/);

    const read = await retention(port, 'public-data');
    expect(read.status).toBe(200);
    const both = [
      { consumer: 'client-model', file: 'conf/smv-user-conf.props', key: 'smv.stages.geo.version' },
      { consumer: 'other-model', file: 'conf/smv-user-conf.props', key: 'smv.stages.geo.version' },
    ];
    expect(read.body).toEqual({
      publisher: 'public-data',
      versions: expect.arrayContaining([
        { stage: 'com.acme.geo', version: 'TCD.20160701.geo', safe: false, pinnedBy: both },
        { stage: 'com.acme.geo', version: 'TCD.20160702.geo', safe: true, pinnedBy: [] },
        { stage: 'com.acme.cms', version: 'TCD.20160701.cms', safe: false, pinnedBy: both.map((p) => ({ ...p, key: 'smv.stages.cms.version' })) },
        { stage: 'com.acme.trial', version: 'TCD.20160701.trial', safe: true, pinnedBy: [] },
        { stage: 'com.acme.trial', version: 'TCD.20160702.trial', safe: true, pinnedBy: [] },
      ]),
      unread: [],
    });
    expect(read.body.versions).toHaveLength(6);
    // The same answer in Slack.
    const said = await harness.command('retention public-data');
    expect(said.visibility).toBe('ephemeral');
    expect(said.reply).toContain('*Retention for public-data*');
    expect(said.reply).toContain(
      '• *geo*: safe to delete (1): TCD.20160702.geo; TCD.20160701.geo pinned by client-model (`smv.stages.geo.version` in conf/smv-user-conf.props), other-model (`smv.stages.geo.version` in conf/smv-user-conf.props)',
    );
    expect(said.reply).toContain('• *trial*: safe to delete (2): TCD.20160702.trial, TCD.20160701.trial');
    expect(said.reply).toContain('`~/.smv/smv-user-conf.props`');

    // other-model's repo is gone: it is named, and nothing it could pin is called safe.
    fs.rmSync(world.remoteOf('other-model'), { recursive: true, force: true });
    const blind = await retention(port, 'public-data');
    expect(blind.status).toBe(200);
    expect(blind.body.unread).toEqual(['other-model']);
    const versions = blind.body.versions as { stage: string; version: string; safe: boolean; pinnedBy: unknown[] }[];
    expect(versions.filter((v) => v.safe)).toEqual([]);
    expect(versions.find((v) => v.version === 'TCD.20160701.geo')?.pinnedBy).toEqual([both[0]]);
    const warned = await harness.command('retention');
    expect(warned.reply).toMatch(/:warning: Could not read other-model's repo \(.+\): no version of a stage it could pin is called safe\./);
    expect(warned.reply).toContain('• *trial*: nothing safe to delete; 2 not called safe: a consumer repo could not be read');
  });

  it('is off (404) without SMVBOT_API_TOKEN', async () => {
    const world = new World();
    worlds.push(world);
    const harness = await BotUnderTest.start(world);
    bots.push(harness);
    expect((await fetch(`http://127.0.0.1:${harness.bot.port}/retention/public-data`, { headers: { authorization: `Bearer ${TOKEN}` } })).status).toBe(404);
  });
});
