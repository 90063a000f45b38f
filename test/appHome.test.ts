// Issue 17 (SPEC §4 App Home): the dashboard the real bot publishes (`views.publish`) when a user
// opens its Home tab, for an adopter, an admin and a stranger; its Adopt latest button; and
// Slack's limits (100 blocks, 3000 characters a text) with many stages.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  ADMIN,
  ADOPTER,
  BotUnderTest,
  CONSUMER,
  STRANGER,
  TEAM_B_CHANNEL,
  World,
  removeSeededRemotes,
} from './support/botHarness.ts';
import { readableBlocks, type Block, type Button } from './support/blockKit.ts';

afterAll(removeSeededRemotes);
const stopAfterTest: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const stop of stopAfterTest.splice(0)) await stop();
});

const OTHER = 'other-model';
const OTHER_ADOPTER = 'U0OTHER';

interface View {
  id: string;
  type: string;
  blocks: Block[];
}

/** Opens the Home tab as `user` and returns the view the bot published for them. */
function openHome(bot: BotUnderTest, user: string): Promise<View> {
  return bot.openHome<View>(user);
}

/** Every text a person reads on the tab, one block per paragraph. */
function readable(view: View): string {
  return readableBlocks(view.blocks);
}

function buttons(view: View): Button[] {
  return view.blocks.flatMap((b) => [...(b.accessory ? [b.accessory] : []), ...((b.elements ?? []).filter((e) => e.type === 'button') as Button[])]);
}

/** The line of the tab about `stage` (the row starts with its name in bold). */
function row(view: View, stage: string): { text: string; button: Button | undefined } {
  for (const b of view.blocks) {
    const line = b.text?.text.split('\n').find((l) => l.startsWith(`*${stage}* ·`));
    if (line) return { text: b.accessory ? b.text!.text : line, button: b.accessory };
  }
  throw new Error(`No row for ${stage} in:\n${readable(view)}`);
}

/** Slack's limits for a Home tab: 100 blocks, 3000 characters of section text, 150 of a header, 75 of a button. */
function expectWithinLimits(view: View): void {
  expect(view.blocks.length).toBeLessThanOrEqual(100);
  for (const b of view.blocks) {
    if (b.type === 'header') expect(b.text!.text.length).toBeLessThanOrEqual(150);
    if (b.type === 'section') expect(b.text!.text.length).toBeLessThanOrEqual(3000);
    if (b.type === 'context') for (const e of b.elements ?? []) expect(String(e.text).length).toBeLessThanOrEqual(2000);
  }
  const all = buttons(view);
  for (const button of all) {
    expect(button.text.text.length).toBeLessThanOrEqual(75);
    expect(button.value.length).toBeLessThanOrEqual(2000);
  }
  expect(new Set(all.map((b) => b.action_id)).size).toBe(all.length);
}

/** Two consumers pinning TCD.20160701.*, with TCD.20160802.geo published since. */
async function dashboardWorld(): Promise<{ world: World; bot: BotUnderTest }> {
  const world = new World({ extraConsumers: [{ name: OTHER, channels: ['C0OTHER'], adopters: [OTHER_ADOPTER] }] });
  const bot = await BotUnderTest.start(world);
  world.publish('com.acme.geo', 'TCD.20160802.geo');
  await bot.bot.scanNow();
  return { world, bot };
}

// The tests reading the tab share one world; the one that adopts has its own, so the order does not matter.
describe('App Home dashboard', () => {
  let world: World;
  let bot: BotUnderTest;
  beforeAll(async () => {
    ({ world, bot } = await dashboardWorld());
  });
  afterAll(async () => {
    await bot.stop();
    world.cleanup();
  });

  it('an adopter sees the consumers they adopt for: stage × pin × latest × behind, Adopt latest where behind', async () => {
    const view = await openHome(bot, ADOPTER);
    expect(view.type).toBe('home');
    expectWithinLimits(view);
    const text = readable(view);
    expect(text).toContain('smvbot — pins of your consumers');
    expect(text).toContain('The consumers that list you as an adopter.');
    expect(text).toContain('*client-model* (branch `main`) — 3 stages: 1 behind');
    expect(text).not.toContain(OTHER);
    expect(row(view, 'cms').text).toBe('*cms* · pinned `TCD.20160701.cms` · latest `TCD.20160701.cms` · up to date');
    expect(row(view, 'trial').text).toBe('*trial* · not pinned (live code) · latest `TCD.20160701.trial`');
    const geo = row(view, 'geo');
    expect(geo.text).toBe('*geo* · pinned `TCD.20160701.geo` · latest `TCD.20160802.geo` · 1 behind');
    expect(geo.button?.text.text).toBe('Adopt latest');
    expect(JSON.parse(geo.button!.value)).toEqual({ consumer: CONSUMER, stage: 'com.acme.geo', version: 'TCD.20160802.geo' });
    expect(geo.button!.confirm!.text.text).toBe('Pin *geo* to `TCD.20160802.geo` for *client-model* (a commit pushed to its repo).');
    expect(buttons(view)).toHaveLength(1);
  });

  it('Adopt latest on the tab adopts for the consumer it names, tells its channel, and shows the new pins', async () => {
    const { world, bot } = await dashboardWorld();
    stopAfterTest.push(async () => {
      await bot.stop();
      world.cleanup();
    });
    const view = await openHome(bot, ADOPTER);
    const geo = row(view, 'geo').button!;
    const before = bot.slack.calls('views.publish').length;
    const click = bot.slack.viewBlockAction({ actionId: geo.action_id, value: geo.value, userId: ADOPTER, viewId: view.id });
    expect((await bot.send(click)).status).toBe(200);
    const told = await bot.slack.waitForCall('chat.postMessage', (c) => c.ok && c.args.channel === TEAM_B_CHANNEL, 30_000);
    expect(String(told.args.text)).toMatch(new RegExp(`^<@${ADOPTER}> adopted geo TCD\\.20160802\\.geo for client-model \\(was TCD\\.20160701\\.geo\\) — commit [0-9a-f]{7}$`));
    expect(world.remoteFile()).toContain('smv.stages.geo.version = TCD.20160802.geo');

    const republished = await bot.slack.waitFor(
      (r) => r.kind === 'call' && r.method === 'views.publish' && r.args.user_id === ADOPTER && bot.slack.calls('views.publish').indexOf(r) >= before,
      30_000,
    );
    const after = { ...((republished as unknown as { args: { view: View } }).args.view), id: "" };
    expect(readable(after)).toContain(`:white_check_mark: <@${ADOPTER}> adopted geo TCD.20160802.geo for client-model`);
    expect(row(after, 'geo').text).toBe('*geo* · pinned `TCD.20160802.geo` · latest `TCD.20160802.geo` · up to date');
    expect(buttons(after)).toEqual([]);
    // An admin sees the other consumer still behind: its button is the only one left.
    expect(buttons(await openHome(bot, ADMIN)).map((b) => JSON.parse(b.value))).toEqual([{ consumer: OTHER, stage: 'com.acme.geo', version: 'TCD.20160802.geo' }]);
  });

  it('an admin sees every consumer', async () => {
    const view = await openHome(bot, ADMIN);
    expectWithinLimits(view);
    const text = readable(view);
    expect(text).toContain('You are an admin: every consumer is shown.');
    expect(text).toContain('*client-model* (branch `main`) — 3 stages: 1 behind');
    expect(text).toContain(`*${OTHER}* (branch \`main\`) — 3 stages: 1 behind`);
    // Each consumer's button names it.
    expect(buttons(view).map((b) => JSON.parse(b.value))).toEqual([
      { consumer: CONSUMER, stage: 'com.acme.geo', version: 'TCD.20160802.geo' },
      { consumer: OTHER, stage: 'com.acme.geo', version: 'TCD.20160802.geo' },
    ]);
  });

  it('a stranger sees why there is nothing to adopt, and the releases, without buttons', async () => {
    const view = await openHome(bot, STRANGER);
    expectWithinLimits(view);
    const text = readable(view);
    expect(text).toContain('smvbot — SMV stage releases');
    expect(text).toContain(`You do not adopt for any consumer, so this page shows the latest releases only. Ask an admin (<@${ADMIN}>) to add your Slack user id (${STRANGER})`);
    expect(text).toContain('`TCD.20160802.geo` — 1 module');
    expect(text).not.toContain('*client-model* (branch');
    expect(buttons(view)).toEqual([]);
    expect(view.blocks.some((b) => b.type === 'actions')).toBe(false);
  });
});

describe('App Home within Slack limits', () => {
  const EXTRA = Array.from({ length: 60 }, (_, i) => `com.big.s${String(i + 1).padStart(2, '0')}`);
  const ALL = ['com.acme.geo', 'com.acme.cms', 'com.acme.trial', ...EXTRA];
  const base = (fqn: string) => fqn.split('.').pop()!;
  let world: World;
  let bot: BotUnderTest;
  beforeAll(async () => {
    const userConf = ALL.map((s) => `smv.stages.${base(s)}.version = V1.${base(s)}`).join('\n') + '\n';
    world = new World({ initialVersions: [], extraStages: EXTRA, userConf, extraConsumers: [{ name: OTHER, channels: ['C0OTHER'] }] });
    for (const stage of ALL) {
      world.publish(stage, `V1.${base(stage)}`, { mtime: Date.now() - 7_200_000 });
      world.publish(stage, `V2.${base(stage)}`);
    }
    bot = await BotUnderTest.start(world);
  });
  afterAll(async () => {
    await bot.stop();
    world.cleanup();
  });

  it('63 stages behind in each of 2 consumers: at most 100 blocks, each consumer cut with "… and N more"', async () => {
    const view = await openHome(bot, ADMIN);
    expectWithinLimits(view);
    const text = readable(view);
    for (const consumer of [CONSUMER, OTHER]) {
      expect(text).toContain(`*${consumer}* (branch \`main\`) — 63 stages: 63 behind`);
      const shown = buttons(view).filter((b) => JSON.parse(b.value).consumer === consumer).length;
      const more = new RegExp(`… and (\\d+) more stages of ${consumer}: type \`/smv pins ${consumer}\` for every stage\\.`).exec(text);
      expect(more, text).not.toBeNull();
      expect(shown).toBeGreaterThan(20);
      expect(shown + Number(more![1])).toBe(63);
    }
  });

  it('the digest of 63 stale stages stays within the 50 blocks of a message and says how many more', async () => {
    await bot.bot.digestNow();
    const digest = bot.slack.messages(TEAM_B_CHANNEL).find((m) => m.text?.startsWith('Pin digest'))!;
    const blocks = (digest.blocks ?? []) as Block[];
    expect(blocks.length).toBeLessThanOrEqual(50);
    for (const b of blocks) if (b.type === 'section') expect(b.text!.text.length).toBeLessThanOrEqual(3000);
    const lines = blocks.filter((b) => b.accessory).length;
    const more = /… and (\d+) more: type `\/smv pins client-model` for every stage\./.exec(readable({ id: '', type: 'message', blocks }));
    expect(more).not.toBeNull();
    expect(lines + Number(more![1])).toBe(63);
    expect(digest.text!.length).toBeLessThanOrEqual(4000);
  });

  it('an adopter of both sees the same within the limits', async () => {
    const view = await openHome(bot, ADOPTER);
    expectWithinLimits(view);
    expect(readable(view)).toContain('… and ');
  });
});
