import { afterEach, describe, expect, it } from 'vitest';
import { ADMIN, BotUnderTest, World } from './support/botHarness.ts';

describe('bot smoke', () => {
  let harness: BotUnderTest | undefined;
  let world: World | undefined;
  afterEach(async () => {
    await harness?.stop();
    world?.cleanup();
  });

  it('answers help, releases and adopt', async () => {
    world = new World();
    harness = await BotUnderTest.start(world);
    const help = await harness.command('help');
    expect(help.reply).toContain('/smv adopt');
    world.publishAll('TCD.20160802');
    const summary = await harness.bot.scanNow();
    expect(summary.recorded).toBe(3);
    const releases = await harness.command('releases');
    console.log(releases.reply);
    const adopt = await harness.command('adopt geo TCD.20160802.geo', { user: ADMIN });
    console.log(adopt.reply);
    console.log(world.remoteFile());
    console.log(harness.slack.calls('chat.postMessage').map((c) => JSON.stringify(c.args).slice(0, 300)));
  });
});
