// Names the bot did not write cannot become Slack markup (SPEC §4): through the real bot, with
// hostile module file names on disk and a hostile Slack profile name; the stand-in records
// exactly what Slack would have shown.
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { ADOPTER, ANNOUNCE_CHANNEL, BotUnderTest, World, removeSeededRemotes } from './support/botHarness.ts';
import { writeVersion } from '../dev/world/publishFixtures.ts';

let world: World | undefined;
let bot: BotUnderTest | undefined;
afterAll(removeSeededRemotes);
afterEach(async () => {
  await bot?.stop();
  world?.cleanup();
  bot = undefined;
  world = undefined;
});

const HOSTILE = ['<!channel>', '<@U0EVIL>', '<!subteam^S0TEAM>', '<tel:+15550100|Click here to adopt>', '<!here>'];

/** What a person would see of a message: top-level text plus every text in its blocks. */
function shown(args: Record<string, unknown>): string {
  return JSON.stringify({ text: args.text, blocks: args.blocks });
}

describe('escaping what the bot did not write', () => {
  it('module file names cannot mention @channel, a person or a group, or add a link or a line', async () => {
    world = new World();
    bot = await BotUnderTest.start(world);
    writeVersion(world.publishDir, 'TCD.20160802.geo', [
      { fqn: 'com.acme.geo.GeoSummary', layout: 'plain' },
      ...HOSTILE.map((name) => ({ fqn: `com.acme.geo.${name}`, layout: 'plain' as const })),
      { fqn: 'com.acme.geo.Line\n<@U0ADMIN> adopted geo', layout: 'plain' },
    ]);
    expect(await bot.bot.scanNow()).toMatchObject({ announced: 1 });

    const [post] = bot.slack.calls('chat.postMessage');
    expect(post!.args.channel).toBe(ANNOUNCE_CHANNEL);
    const text = shown(post!.args);
    for (const raw of [...HOSTILE, '<@U0ADMIN>']) expect(text).not.toContain(raw);
    expect(text).toContain('&lt;!channel&gt;');
    expect(text).toContain('&lt;tel:+15550100|Click here to adopt&gt;');
    expect(text).toContain('com.acme.geo.Line\uFFFD&lt;@U0ADMIN&gt; adopted geo');
    // The machine-readable payload keeps the names as they are on disk.
    expect((post!.args.metadata as { event_payload: { modules: string[] } }).event_payload.modules).toContain('com.acme.geo.<!channel>');
  });

  it('a Slack profile name is escaped in history, while the bot`s own mention of the user stays live', async () => {
    world = new World();
    bot = await BotUnderTest.start(world);
    bot.slack.setUser(ADOPTER, '<!channel> Mallory');
    world.publish('com.acme.geo', 'TCD.20160802.geo');
    await bot.bot.scanNow();

    const adopted = await bot.command('adopt geo TCD.20160802.geo');
    expect(adopted.reply).toMatch(new RegExp(`^<@${ADOPTER}> adopted geo TCD\\.20160802\\.geo for client-model`));

    const history = await bot.command('history');
    expect(history.reply).toContain(`<@${ADOPTER}> (&lt;!channel&gt; Mallory) adopted geo`);
    expect(history.reply).not.toContain('<!channel>');
  });
});
