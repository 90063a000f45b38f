// Slack's limits, said not silent (SPEC §4): option text <= 75 characters, at most 100 options,
// "… and N more" wherever a list is cut. The stand-in refuses a select over Slack's limits
// with invalid_arguments, as Slack does.
import { afterAll, describe, expect, it } from 'vitest';
import { ADOPTER, ANNOUNCE_CHANNEL, BotUnderTest, World, removeSeededRemotes, type ExtraConsumer } from './support/botHarness.ts';

afterAll(removeSeededRemotes);

describe('the "which consumer?" modal', () => {
  it('with an 80-character consumer name and 102 consumers: opens, shows 100 with short texts, says how to reach the rest', async () => {
    const longName = `team-${'x'.repeat(70)}-model`.slice(0, 80);
    expect(longName).toHaveLength(80);
    const extra: ExtraConsumer[] = [{ name: longName, channels: ['C0LONG'] }];
    for (let i = 0; i < 100; i++) extra.push({ name: `consumer-${String(i).padStart(3, '0')}`, channels: [`C0X${i}`] });
    const world = new World({ extraConsumers: extra });
    const bot = await BotUnderTest.start(world);
    try {
      world.publish('com.acme.geo', 'TCD.20160802.geo');
      await bot.bot.scanNow();
      const announcement = bot.slack.messages(ANNOUNCE_CHANNEL)[0]!;
      const click = await bot.clickAdopt(announcement, 0);
      expect(click.ack.status).toBe(200);
      const opened = await bot.slack.waitForCall('views.open', (c) => c.ok, 30_000);
      const view = opened.args.view as { blocks: { type: string; element?: { options: { text: { text: string }; value: string }[] }; elements?: { text: string }[] }[] };
      const options = view.blocks.find((b) => b.type === 'input')!.element!.options;
      expect(options).toHaveLength(100);
      for (const o of options) expect(o.text.text.length).toBeLessThanOrEqual(75);
      const long = options.find((o) => o.value === longName)!;
      expect(long.text.text).toBe(`${longName.slice(0, 74)}…`);
      const hint = view.blocks.find((b) => b.type === 'context')!.elements![0]!.text;
      expect(hint).toContain('… and 2 more');
      expect(hint).toContain('/smv adopt com.acme.geo TCD.20160802.geo &lt;consumer&gt;');

      // Choosing the long-named consumer adopts for it (the value carries the whole name).
      const submitted = await bot.send(
        bot.slack.viewSubmission({ userId: ADOPTER, callbackId: 'smv_adopt_consumer', values: { consumer: { consumer: { type: 'static_select', selected_option: { value: longName } } } } }),
      );
      expect(submitted.status).toBe(200);
      const answer = await bot.slack.waitForResponse(click.request.responseUrl, 30_000);
      expect(JSON.stringify(answer.body)).toContain(`for ${longName}`);
      expect(world.remoteFile(undefined, undefined, longName)).toContain('smv.stages.geo.version = TCD.20160802.geo');
    } finally {
      await bot.stop();
      world.cleanup();
    }
  });
});

describe('long answers', () => {
  it('`/smv pins` with 53 stages lists every one, or says how many more there are', async () => {
    const extraStages = Array.from({ length: 50 }, (_, i) => `com.big.area${String(i).padStart(2, '0')}.stage${String(i).padStart(2, '0')}`);
    const world = new World({ extraStages });
    const bot = await BotUnderTest.start(world);
    try {
      const { reply } = await bot.command('pins');
      const listed = reply.split('\n').filter((line) => line.startsWith('• *')).length;
      const more = Number(/… and (\d+) more/.exec(reply)?.[1] ?? 0);
      // The top-level text and the blocks both list them; count the blocks' part.
      const blockLines = reply.slice(reply.indexOf('*Pins of')).split('\n').filter((line) => line.startsWith('• *')).length;
      expect(listed).toBeGreaterThan(0);
      expect(blockLines + more).toBe(53);
      expect(reply).toContain('*stage49*');
    } finally {
      await bot.stop();
      world.cleanup();
    }
  });
});
