// SPEC §4 through the real bot: every announcement says how the schema changed against the
// stage's previous complete version (none / compatible / breaking, also in the metadata payload as
// `schema_change`), and a version with a module that failed its Python-SMV data-quality rules is
// flagged, gets no Adopt button, and only an admin may adopt it.
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { parseMetaDqm } from '../src/domain/publishLayout.ts';
import type { StoredMessage } from '../dev/slack/slackStandIn.ts';
import { ADMIN, ADOPTER, ANNOUNCE_CHANNEL, BotUnderTest, BotWorlds, TEAM_B_CHANNEL, adoptButtons, removeSeededRemotes } from './support/botHarness.ts';
import { SAMPLE_COLUMNS as SAMPLE_COLUMNS_FOR_TESTS } from '../dev/world/publishFixtures.ts';

afterAll(removeSeededRemotes);

const bots = new BotWorlds();
afterEach(() => bots.stopAll());

function announcement(bot: BotUnderTest, version: string): StoredMessage {
  const found = bot.slack.messages(ANNOUNCE_CHANNEL).filter((m) => JSON.stringify(m.metadata ?? {}).includes(version));
  expect(found).toHaveLength(1);
  return found[0]!;
}

function payloadOf(message: StoredMessage): Record<string, unknown> {
  return (message.metadata as { event_payload: Record<string, unknown> }).event_payload;
}

const PYTHON_FAILED_META = (fqn: string) =>
  JSON.stringify({
    _fqn: fqn,
    _columns: SAMPLE_COLUMNS_FOR_TESTS.map((c) => ({ name: c.name, type: c.type })),
    _dqmValidation: {
      passed: false,
      errorMessages: [],
      dqmStateSnapshot: { totalRecords: 3, parseErrors: 0, fixCounts: {}, ruleErrors: { zip_is_5_digits: { total: 2, firstN: ['a', 'b'] }, county_known: { total: 1, firstN: ['c'] } } },
    },
  });

describe('schema change in announcements', () => {
  it('a removed column is breaking: said in the message and in the payload, against the previous version', async () => {
    const { world, bot } = await bots.start();
    const [first, ...rest] = SAMPLE_COLUMNS_FOR_TESTS;
    world.publish('com.acme.geo', 'TCD.20160802.geo', { modules: [{ fqn: 'com.acme.geo.GeoSummary', columns: rest }] });
    await bot.bot.scanNow();

    const message = announcement(bot, 'TCD.20160802.geo');
    const text = JSON.stringify(message.blocks);
    expect(text).toContain(':red_circle: *breaking* against `TCD.20160701.geo`');
    expect(text).toContain(`com.acme.geo.GeoSummary: column ${first!.name} removed`);
    expect(payloadOf(message).schema_change).toMatchObject({
      class: 'breaking',
      stages: [{ stage: 'com.acme.geo', against: 'TCD.20160701.geo', class: 'breaking' }],
    });
    // The SPEC fields are still there.
    expect(payloadOf(message)).toMatchObject({ publisher: 'public-data', version: 'TCD.20160802.geo', stages: ['com.acme.geo'] });
  });

  it('an added column is compatible; the same columns are none', async () => {
    const { world, bot } = await bots.start();
    world.publish('com.acme.geo', 'TCD.20160802.geo', { modules: [{ fqn: 'com.acme.geo.GeoSummary', columns: [...SAMPLE_COLUMNS_FOR_TESTS, { name: 'zip4', type: 'String' }] }] });
    await bot.bot.scanNow();
    world.publish('com.acme.cms', 'TCD.20160803.cms');
    await bot.bot.scanNow();

    const compatible = announcement(bot, 'TCD.20160802.geo');
    expect(JSON.stringify(compatible.blocks)).toContain(':large_blue_circle: compatible against `TCD.20160701.geo`');
    expect(JSON.stringify(compatible.blocks)).toContain('column zip4 (String) added');
    expect((payloadOf(compatible).schema_change as { class: string }).class).toBe('compatible');
    const same = announcement(bot, 'TCD.20160803.cms');
    expect(JSON.stringify(same.blocks)).toContain(':white_circle: no schema change against `TCD.20160701.cms`');
    expect((payloadOf(same).schema_change as { class: string }).class).toBe('none');
  });
});

describe('data-quality gate', () => {
  it('a module that failed its DQM rules is flagged, has no Adopt button, and only an admin may adopt the version', async () => {
    const { world, bot } = await bots.start();
    world.publish('com.acme.geo', 'TCD.20160802.geo', { modules: [{ fqn: 'com.acme.geo.GeoSummary', metaText: PYTHON_FAILED_META('com.acme.geo.GeoSummary') }] });
    world.publish('com.acme.cms', 'TCD.20160802.cms');
    await bot.bot.scanNow();

    const message = bot.slack.messages(ANNOUNCE_CHANNEL).find((m) => JSON.stringify(m.metadata ?? {}).includes('TCD.20160802.geo'))!;
    const text = JSON.stringify(message.blocks);
    expect(text).toContain('Failed its data-quality rules');
    expect(text).toContain('zip_is_5_digits (2), county_known (1)');
    const buttons = adoptButtons(message).map((b) => JSON.parse(b.value) as { version: string });
    expect(buttons.map((b) => b.version)).not.toContain('TCD.20160802.geo');
    expect(buttons.map((b) => b.version)).toContain('TCD.20160802.cms');

    const before = world.remoteLog();
    const refused = await bot.command('adopt geo TCD.20160802.geo', { user: ADOPTER, channel: TEAM_B_CHANNEL });
    expect(refused.reply).toContain('failed its data-quality rules in com.acme.geo.GeoSummary (zip_is_5_digits, county_known), so only an admin may adopt it');
    expect(world.remoteLog()).toEqual(before);

    const admin = await bot.command('adopt geo TCD.20160802.geo', { user: ADMIN, channel: TEAM_B_CHANNEL });
    expect(admin.reply).toContain('adopted geo TCD.20160802.geo for client-model');
    expect(admin.reply).toContain('Adopted by an admin although `com.acme.geo.GeoSummary` failed its data-quality rules');
    expect(world.remoteFile()).toContain('smv.stages.geo.version = TCD.20160802.geo');
  });
});

describe('data-quality section cut to Slack\'s limit', () => {
  it('never ends inside an escape, in the post nor in the chat.update that follows', async () => {
    const { world, bot } = await bots.start();
    // One failed rule whose escaped name (`&lt;` × many) runs past the section's 2,900 characters;
    // the padding puts the cut (the first 2,899 characters) right after `&l`.
    const prefix = ':x: *Failed its data-quality rules*: `com.acme.geo.GeoSummary` — ';
    const pad = 'r'.repeat(4 + ((((2899 - prefix.length - 2) % 4) + 4) % 4));
    const rule = `${pad}${'<'.repeat(1000)}`;
    expect((prefix + pad + '&lt;'.repeat(1000)).slice(0, 2899)).toMatch(/&l$/);
    const meta = JSON.parse(PYTHON_FAILED_META('com.acme.geo.GeoSummary')) as { _dqmValidation: { dqmStateSnapshot: { ruleErrors: unknown } } };
    meta._dqmValidation.dqmStateSnapshot.ruleErrors = { [rule]: { total: 2, firstN: ['a'] } };
    world.publish('com.acme.geo', 'TCD.20160802.geo', { modules: [{ fqn: 'com.acme.geo.GeoSummary', metaText: JSON.stringify(meta) }] });
    await bot.bot.scanNow();
    const admin = await bot.command('adopt geo TCD.20160802.geo', { user: ADMIN, channel: TEAM_B_CHANNEL });
    expect(admin.reply).toContain('adopted geo TCD.20160802.geo for client-model');
    await bot.slack.waitFor((r) => r.kind === 'call' && r.method === 'chat.update', 10_000, 'the announcement updated after the adopt');

    const sections = ['chat.postMessage', 'chat.update'].map((method) => {
      const call = bot.slack.calls(method).find((c) => JSON.stringify(c.args).includes('smv_dqm'));
      expect(call, method).toBeDefined();
      const blocks = call!.args.blocks as { block_id?: string; text?: { text: string } }[];
      return blocks.find((b) => b.block_id?.startsWith('smv_dqm'))!.text!.text;
    });
    for (const text of sections) {
      expect(text.length).toBeLessThanOrEqual(2900);
      expect(text.startsWith(prefix + pad + '&lt;')).toBe(true);
      expect(text.endsWith('&lt;…')).toBe(true);
      // Every `&` starts a whole entity: nothing shows as a stray `&l`.
      expect(text).not.toMatch(/&(?!(?:amp|lt|gt);)/);
    }
  });
});

describe('.meta files written to hurt', () => {
  it('a .meta over the 4 MB read cap is reported as unread, never as passed: no Adopt button, and adopt says why', async () => {
    const { world, bot } = await bots.start();
    // A failed data-quality check, padded past the cap: not read, so the verdict is unknown.
    const padded = PYTHON_FAILED_META('com.acme.geo.GeoSummary').replace(/}$/, `, "_userMetadata": {"pad": "${'x'.repeat(4 * 1024 * 1024 + 10)}"}}`);
    world.publish('com.acme.geo', 'TCD.20160802.geo', { modules: [{ fqn: 'com.acme.geo.GeoSummary', metaText: padded }] });
    world.publish('com.acme.cms', 'TCD.20160802.cms');
    await bot.bot.scanNow();

    const message = bot.slack.messages(ANNOUNCE_CHANNEL).find((m) => JSON.stringify(m.metadata ?? {}).includes('TCD.20160802.geo'))!;
    const text = JSON.stringify(message.blocks);
    expect(text).toContain('com.acme.geo.GeoSummary.meta could not be read: over the 4 MB limit');
    const buttons = adoptButtons(message).map((b) => JSON.parse(b.value) as { version: string });
    expect(buttons.map((b) => b.version)).not.toContain('TCD.20160802.geo');
    expect(buttons.map((b) => b.version)).toContain('TCD.20160802.cms');

    const before = world.remoteLog();
    const refused = await bot.command('adopt geo TCD.20160802.geo', { user: ADOPTER, channel: TEAM_B_CHANNEL });
    expect(refused.reply).toContain('com.acme.geo.GeoSummary.meta could not be read: over the 4 MB limit');
    expect(refused.reply).toContain('only an admin may adopt it');
    expect(refused.reply).not.toContain('not complete');
    expect(world.remoteLog()).toEqual(before);
  });

  it('a column type nested 50,000 levels deep: /smv diff answers with what is wrong, not "unexpected error"', async () => {
    const { world, bot } = await bots.start();
    let type = '"int"';
    for (let i = 0; i < 50_000; i++) type = `{"type":"array","elementType":${type},"containsNull":true}`;
    const meta = `{"fqn":"com.acme.geo.GeoSummary","columns":[{"name":"deep","type":${type}}],"inputs":[]}`;
    world.publish('com.acme.geo', 'TCD.20160802.geo', { modules: [{ fqn: 'com.acme.geo.GeoSummary', metaText: meta, schema: false }] });
    await bot.bot.scanNow();

    const { reply } = await bot.command('diff geo TCD.20160701.geo TCD.20160802.geo');
    expect(reply).not.toMatch(/unexpected error/i);
    expect(reply).toContain('com.acme.geo.GeoSummary.meta has a column type (deep) nested deeper than 64 levels');
    // The announcement was made, and says the columns are unknown rather than "no schema change".
    const message = announcement(bot, 'TCD.20160802.geo');
    expect(JSON.stringify(message.blocks)).not.toContain('no schema change');
  });
});

describe('parseMetaDqm', () => {
  it('reads Python SMV failures with rule counts; a pass, a Scala .meta without the field, or bad JSON is not flagged', () => {
    expect(parseMetaDqm(PYTHON_FAILED_META('a.b.C'))).toEqual({ rules: [{ name: 'zip_is_5_digits', count: 2 }, { name: 'county_known', count: 1 }] });
    expect(parseMetaDqm(JSON.stringify({ _fqn: 'a', _dqmValidation: { passed: true, dqmStateSnapshot: { ruleErrors: {} } } }))).toBeNull();
    expect(parseMetaDqm(JSON.stringify({ fqn: 'a', columns: [] }))).toBeNull();
    expect(parseMetaDqm('{not json')).toBeNull();
    expect(parseMetaDqm(JSON.stringify({ _dqmValidation: { passed: false } }))).toEqual({ rules: [] });
  });
});
