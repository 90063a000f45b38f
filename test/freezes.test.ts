// Issue 28 item 3, SPEC §4 `/smv freeze` / `/smv unfreeze`: a consumer's adopters or an admin
// freeze it; while frozen, adopts and unpins for it are refused (every way in: slash command,
// Adopt button, App Home), naming who froze it, why and until when; an admin may add `force`
// (the commit says so); `/smv pins` and App Home show it; it ends by itself at its time, exactly,
// whether the bot was running then or not, and on every replica alike.
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { activeFreeze, freezeEndOf, parseFreezeSpan } from '../src/domain/freezes.ts';
import type { Freeze } from '../src/domain/records.ts';
import { freezeEndText } from '../src/slack/render/freezeWords.ts';
import { PLAIN_TEXT, refusalText } from '../src/slack/render/refusals.ts';
import { SlackStandIn } from '../dev/slack/slackStandIn.ts';
import { createSchema, requirePostgres, type TestSchema } from '../dev/world/postgres.ts';
import {
  ADMIN,
  ADOPTER,
  BOT_TOKEN,
  BotUnderTest,
  BotWorlds,
  CONSUMER,
  STRANGER,
  TEAM_B_CHANNEL,
  USERS,
  World,
  removeSeededRemotes,
  topText,
  visibilityOf,
  type CommandResult,
  type WorldOptions,
} from './support/botHarness.ts';
import { readableBlocks, type Block, type Button } from './support/blockKit.ts';
import { freezeIn, pgSetFreezeUntil, setFreezeUntilIn } from './support/stateDump.ts';

afterAll(removeSeededRemotes);
const worlds = new BotWorlds();
afterEach(() => worlds.stopAll());

const FAR = '2099-12-31';
const FAR_END = '2100-01-01T00:00:00.000Z';
const REFUSED_ADOPT =
  `client-model is frozen by <@${ADOPTER}> until 2099-12-31 23:59 UTC (quarter-end runs): adopts and unpins are refused. ` +
  'An admin may add `force`: `/smv adopt geo TCD.20160802.geo client-model force`; or `/smv unfreeze client-model`. Nothing was changed.';

/** What the person reads: the answer's text (its blocks repeat it). */
function said(result: CommandResult): string {
  return topText(result.followUp?.body ?? result.ack.body);
}

/** A world with TCD.20160701.* pinned (geo, cms) and TCD.20160802.* published since. */
async function started(opts: WorldOptions = {}): Promise<{ world: World; bot: BotUnderTest }> {
  const { world, bot } = await worlds.start(opts);
  world.publishAll('TCD.20160802');
  await bot.bot.scanNow();
  return { world, bot };
}

describe('freeze words and times (pure)', () => {
  const bea = { id: ADOPTER, name: 'Bea Adopter' };
  const freeze = (until: string | null): Freeze => ({ consumer: CONSUMER, by: bea, reason: null, frozenAt: '2026-06-01T10:00:00.000Z', until });

  it('`for` counts hours or days from now; `until` a day freezes through that day (UTC), ending at the next midnight', () => {
    const now = new Date('2026-06-01T10:30:00.000Z');
    expect(freezeEndOf({ kind: 'open' }, now)).toBeNull();
    expect(freezeEndOf(parseFreezeSpan('for', '36h') as never, now)).toBe('2026-06-02T22:30:00.000Z');
    expect(freezeEndOf(parseFreezeSpan('FOR', '2d') as never, now)).toBe('2026-06-03T10:30:00.000Z');
    expect(freezeEndOf(parseFreezeSpan('until', '2026-12-31') as never, now)).toBe('2027-01-01T00:00:00.000Z');
    expect(freezeEndText('2027-01-01T00:00:00.000Z')).toBe('until 2026-12-31 23:59 UTC');
    expect(freezeEndText('2026-06-02T22:30:00.000Z')).toBe('until 2026-06-02 22:30 UTC');
    expect(freezeEndText(null)).toBe('until someone unfreezes it');
  });

  it('a freeze is in force strictly before its end, and one without an end until it is removed', () => {
    const end = '2026-06-02T00:00:00.000Z';
    expect(activeFreeze(freeze(end), new Date(Date.parse(end) - 1))).toEqual(freeze(end));
    expect(activeFreeze(freeze(end), new Date(end))).toBeNull();
    expect(activeFreeze(freeze(end), new Date('2030-01-01T00:00:00.000Z'))).toBeNull();
    expect(activeFreeze(freeze(null), new Date('2099-01-01T00:00:00.000Z'))).toEqual(freeze(null));
    expect(activeFreeze(null, new Date())).toBeNull();
  });

  it('the refusals read the same in plain text (the CLI), with ids for mentions and no escapes', () => {
    const f = { ...freeze('2027-01-01T00:00:00.000Z'), reason: 'Q4 <close>' };
    expect(refusalText({ ok: false, code: 'frozen', consumer: CONSUMER, freeze: f, retry: { action: 'unpin', stage: 'cms' } }, PLAIN_TEXT)).toBe(
      `client-model is frozen by ${ADOPTER} until 2026-12-31 23:59 UTC (Q4 <close>): adopts and unpins are refused. ` +
        'An admin may add `force`: `/smv unpin cms client-model force`; or `/smv unfreeze client-model`. Nothing was changed.',
    );
    expect(refusalText({ ok: false, code: 'force-not-admin', consumer: CONSUMER, admins: [], freeze: null })).toBe(
      'Only admins may add `force` (it adopts or unpins despite a freeze), and none is configured (`admins` in smvbot.yml). client-model is not frozen: leave out `force`. Nothing was changed.',
    );
  });
});

describe('change freezes through the bot (SQLite)', () => {
  it('a frozen consumer refuses adopts and unpins (slash command, Adopt button, App Home) with who, until when and why; the remote is untouched', async () => {
    const { world, bot } = await started({ publisherChannels: [TEAM_B_CHANNEL] });
    // Opened before the freeze: its Adopt latest button is clicked after it.
    const homeBefore = await bot.openHome<{ blocks: Block[] }>(ADOPTER);
    const homeButton = homeBefore.blocks.find((b) => b.accessory)!.accessory!;

    const frozen = await bot.command(`freeze until ${FAR} quarter-end runs`);
    expect(frozen.visibility).toBe('in_channel');
    expect(said(frozen)).toBe(
      `<@${ADOPTER}> froze client-model until 2099-12-31 23:59 UTC: quarter-end runs. ` +
        'Adopts and unpins for client-model are refused meanwhile (an admin may add `force`); `/smv unfreeze client-model` ends it.',
    );
    expect(freezeIn(world.dataDir, CONSUMER)).toEqual({
      consumer: CONSUMER,
      by: { id: ADOPTER, name: USERS[ADOPTER] },
      reason: 'quarter-end runs',
      frozenAt: expect.any(String),
      until: FAR_END,
    });
    const remoteBefore = world.remoteLog();

    const adopt = await bot.command('adopt geo TCD.20160802.geo');
    expect(adopt.visibility).toBe('ephemeral');
    expect(said(adopt)).toBe(REFUSED_ADOPT);
    // Admins too, unless they add `force`.
    expect(said(await bot.command('adopt geo TCD.20160802.geo', { user: ADMIN }))).toBe(REFUSED_ADOPT);
    const unpin = await bot.command('unpin cms');
    expect(said(unpin)).toBe(
      `client-model is frozen by <@${ADOPTER}> until 2099-12-31 23:59 UTC (quarter-end runs): adopts and unpins are refused. ` +
        'An admin may add `force`: `/smv unpin cms client-model force`; or `/smv unfreeze client-model`. Nothing was changed.',
    );

    // The announcement's Adopt button, in the consumer's channel.
    const announcement = bot.slack.messages(TEAM_B_CHANNEL).find((m) => String(m.text).includes('TCD.20160802.geo'))!;
    const click = await bot.clickAdopt(announcement, 0);
    const clicked = await bot.slack.waitForResponse(click.request.responseUrl);
    expect(visibilityOf(clicked.body)).toBe('ephemeral');
    expect(topText(clicked.body)).toContain(`client-model is frozen by <@${ADOPTER}> until 2099-12-31 23:59 UTC (quarter-end runs)`);

    // App Home's Adopt latest, from the tab opened before: refused on the tab it publishes again.
    const before = bot.slack.calls('views.publish').length;
    expect((await bot.send(bot.slack.viewBlockAction({ actionId: homeButton.action_id, value: homeButton.value, userId: ADOPTER, viewId: homeBefore.id }))).status).toBe(200);
    const republished = await bot.slack.waitFor(
      (r) => r.kind === 'call' && r.method === 'views.publish' && r.args.user_id === ADOPTER && bot.slack.calls('views.publish').indexOf(r) >= before,
      30_000,
      'the Home tab published again',
    );
    const notice = readableBlocks(((republished as unknown as { args: { view: { blocks: Block[] } } }).args.view).blocks);
    expect(notice).toContain(`:warning: client-model is frozen by <@${ADOPTER}> until 2099-12-31 23:59 UTC (quarter-end runs): adopts and unpins are refused.`);

    expect(world.remoteLog()).toEqual(remoteBefore);
    expect(await bot.bot.state.adoptions()).toEqual([]);
  });

  it('`/smv pins` and App Home show the freeze; App Home has no Adopt buttons while it lasts', async () => {
    const { bot } = await started();
    await bot.command(`freeze client-model until ${FAR} quarter-end runs`);
    const pins = await bot.command('pins');
    expect(said(pins).split('\n')[1]).toBe(
      `:snowflake: client-model is frozen by <@${ADOPTER}> until 2099-12-31 23:59 UTC (quarter-end runs): adopts and unpins are refused. \`/smv unfreeze client-model\` ends it.`,
    );
    const home = await bot.openHome<{ blocks: Block[] }>(ADOPTER);
    const text = readableBlocks(home.blocks);
    expect(text).toContain(
      `*client-model* (branch \`main\`) — 3 stages: 2 behind\n:snowflake: client-model is frozen by <@${ADOPTER}> until 2099-12-31 23:59 UTC (quarter-end runs): adopts and unpins are refused, so there are no Adopt buttons.`,
    );
    expect(home.blocks.filter((b) => b.accessory)).toEqual([]);

    await bot.command('unfreeze');
    expect(said(await bot.command('pins'))).not.toContain(':snowflake:');
    const after = await bot.openHome<{ blocks: Block[] }>(ADOPTER);
    expect(readableBlocks(after.blocks)).not.toContain('frozen');
    expect(after.blocks.filter((b) => b.accessory).map((b) => JSON.parse((b.accessory as Button).value).stage).sort()).toEqual(['com.acme.cms', 'com.acme.geo']);
  });

  it("only admins may add `force`; an admin's forced adopt and unpin land, say the freeze was overridden, and the commits name who overrode it", async () => {
    const { world, bot } = await started();
    await bot.command(`freeze until ${FAR} quarter-end runs`);
    const remoteBefore = world.remoteLog();

    const notAdmin = await bot.command('adopt geo TCD.20160802.geo force');
    expect(notAdmin.visibility).toBe('ephemeral');
    expect(said(notAdmin)).toBe(
      `Only admins may add \`force\` (it adopts or unpins despite a freeze): ask <@${ADMIN}>. ` +
        `client-model is frozen by <@${ADOPTER}> until 2099-12-31 23:59 UTC (quarter-end runs). Nothing was changed.`,
    );
    expect(said(await bot.command('unpin cms force'))).toContain('Only admins may add `force`');
    expect(world.remoteLog()).toEqual(remoteBefore);

    const forced = await bot.command('adopt geo TCD.20160802.geo force', { user: ADMIN });
    expect(forced.visibility).toBe('in_channel');
    const [head] = world.remoteLog();
    expect(said(forced)).toBe(
      `<@${ADMIN}> adopted geo TCD.20160802.geo for client-model (was TCD.20160701.geo) — commit ${head!.slice(0, 7)}. ` +
        `The freeze was overridden by an admin (force): client-model is frozen by <@${ADOPTER}> until 2099-12-31 23:59 UTC (quarter-end runs)`,
    );
    expect(world.commitMessage()).toBe(
      'Adopt geo TCD.20160802.geo for client-model\n\nPrevious: TCD.20160701.geo\nAdopted-by: Ada Admin (U0ADMIN)\nFreeze-overridden-by: Ada Admin (U0ADMIN)\n\n',
    );
    expect(world.remoteFile()).toContain('smv.stages.geo.version = TCD.20160802.geo');

    const unpinned = await bot.command('unpin cms client-model force', { user: ADMIN });
    expect(said(unpinned)).toContain('The freeze was overridden by an admin (force)');
    expect(world.commitMessage()).toBe('Unpin cms for client-model\n\nPrevious: TCD.20160701.cms\nUnpinned-by: Ada Admin (U0ADMIN)\nFreeze-overridden-by: Ada Admin (U0ADMIN)\n\n');
    // The freeze stands for everyone else.
    expect(said(await bot.command('unpin geo'))).toContain('client-model is frozen by');
  });

  it('an adopt of several stages is refused as one while frozen; an admin forces it in one commit that says so', async () => {
    const { world, bot } = await started();
    await bot.command(`freeze until ${FAR} quarter-end runs`);
    const remoteBefore = world.remoteLog();
    const refused = await bot.command('adopt geo TCD.20160802.geo cms TCD.20160802.cms');
    expect(said(refused)).toBe(
      `client-model is frozen by <@${ADOPTER}> until 2099-12-31 23:59 UTC (quarter-end runs): adopts and unpins are refused. ` +
        'An admin may add `force`: `/smv adopt geo TCD.20160802.geo cms TCD.20160802.cms client-model force`; or `/smv unfreeze client-model`. Nothing was changed.',
    );
    expect(world.remoteLog()).toEqual(remoteBefore);

    const forced = await bot.command('adopt geo TCD.20160802.geo cms TCD.20160802.cms force', { user: ADMIN });
    expect(forced.visibility).toBe('in_channel');
    expect(world.remoteLog()).toHaveLength(remoteBefore.length + 1);
    expect(world.commitMessage()).toBe(
      'Adopt geo TCD.20160802.geo, cms TCD.20160802.cms for client-model\n\nPrevious: geo TCD.20160701.geo\nPrevious: cms TCD.20160701.cms\n' +
        'Adopted-by: Ada Admin (U0ADMIN)\nFreeze-overridden-by: Ada Admin (U0ADMIN)\n\n',
    );
    expect(world.remoteFile()).toContain('smv.stages.cms.version = TCD.20160802.cms');
  });

  it('unfreeze restores adopts; unfreezing again says it is not frozen; a second freeze replaces the first and says whose; strangers may do neither', async () => {
    const { world, bot } = await started();
    const stranger = await bot.command('freeze client-model', { user: STRANGER });
    expect(said(stranger)).toBe(
      `You are not allowed to freeze or unfreeze \`client-model\`: its adopters and admins may. Ask <@${ADOPTER}>, <@${ADMIN}> to run it, or ask an admin to add your Slack user id (${STRANGER}) to \`adopters\` of \`client-model\` in smvbot.yml. Nothing was changed.`,
    );
    expect(freezeIn(world.dataDir, CONSUMER)).toBeNull();

    // No `for`/`until`: until unfrozen. The first word names the consumer.
    expect(said(await bot.command('freeze client-model'))).toBe(
      `<@${ADOPTER}> froze client-model until someone unfreezes it. Adopts and unpins for client-model are refused meanwhile (an admin may add \`force\`); \`/smv unfreeze client-model\` ends it.`,
    );
    const replaced = await bot.command('freeze for 2d audit of geo', { user: ADMIN });
    expect(said(replaced)).toMatch(
      new RegExp(`^<@${ADMIN}> froze client-model until \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d UTC: audit of geo\\. .* It replaces the freeze by <@${ADOPTER}> until someone unfreezes it\\.$`),
    );
    const stored = freezeIn(world.dataDir, CONSUMER)!;
    expect(Date.parse(stored.until!) - Date.parse(stored.frozenAt)).toBe(48 * 3_600_000);
    expect(stored.by).toEqual({ id: ADMIN, name: USERS[ADMIN] });

    expect(said(await bot.command('unfreeze', { user: STRANGER }))).toContain('You are not allowed to freeze or unfreeze `client-model`');
    const unfrozen = await bot.command('unfreeze client-model');
    expect(unfrozen.visibility).toBe('in_channel');
    expect(said(unfrozen)).toMatch(new RegExp(`^<@${ADOPTER}> unfroze client-model \\(it was frozen by <@${ADMIN}> until .* UTC \\(audit of geo\\)\\)\\. Adopts and unpins for client-model are allowed again\\.$`));
    const again = await bot.command('unfreeze');
    expect(again.visibility).toBe('ephemeral');
    expect(said(again)).toBe('client-model is not frozen. Nothing to unfreeze.');

    const adopted = await bot.command('adopt geo TCD.20160802.geo');
    expect(adopted.visibility).toBe('in_channel');
    expect(world.remoteFile()).toContain('smv.stages.geo.version = TCD.20160802.geo');
  });

  it('`for` and `until` mistakes are answered in the ack with what to type; a day already past is refused saying so', async () => {
    const { world, bot } = await started();
    const zero = await bot.command('freeze for 0h');
    expect(zero.followUp).toBeUndefined();
    expect(said(zero)).toContain('A freeze `for 0h` would end at once: give at least 1 hour (`for 1h`)');
    expect(said(await bot.command('freeze until 2026-02-30'))).toContain('`until 2026-02-30` is not a date');
    expect(said(await bot.command('freeze nosuch-model for 2d'))).toContain('There is no consumer called `nosuch-model`');

    const past = await bot.command('freeze until 2020-01-01 too late');
    expect(past.visibility).toBe('ephemeral');
    const today = new Date().toISOString().slice(0, 10);
    expect(said(past)).toBe(
      '`until 2020-01-01` is in the past: a freeze through 2020-01-01 (UTC) ended at 2020-01-02 00:00 UTC. ' +
        `Give a later day, e.g. \`/smv freeze client-model until ${today}\` (through today), or a length: \`/smv freeze client-model for 2d\`. Nothing was changed.`,
    );
    expect(freezeIn(world.dataDir, CONSUMER)).toBeNull();
  });

  it('a freeze ends by itself at its time: compared with the clock at each check, also when it ended while the bot was down', async () => {
    const { world, bot } = await started();
    await bot.command('freeze for 1h release week');
    const stored = freezeIn(world.dataDir, CONSUMER)!;
    expect(Date.parse(stored.until!) - Date.parse(stored.frozenAt)).toBe(3_600_000);
    expect(said(await bot.command('adopt geo TCD.20160802.geo'))).toContain('client-model is frozen by');

    // Ending while the bot runs: no timer and no cache, the next check after the end lets it through.
    const soon = new Date(Date.now() + 3000);
    setFreezeUntilIn(world.dataDir, CONSUMER, soon.toISOString());
    expect(said(await bot.command('unpin cms'))).toContain(`until ${soon.toISOString().slice(0, 16).replace('T', ' ')} UTC (release week)`);
    await sleep(Math.max(0, soon.getTime() - Date.now()) + 50);
    expect((await bot.command('unpin cms')).visibility).toBe('in_channel');

    // Frozen again, and it ends while the bot is down: the restarted bot finds it over.
    await bot.command('freeze for 1h release week');
    await bot.bot.stop();
    setFreezeUntilIn(world.dataDir, CONSUMER, new Date(Date.now() - 60_000).toISOString());
    await bot.startBot();
    const adopted = await bot.command('adopt geo TCD.20160802.geo');
    expect(adopted.visibility).toBe('in_channel');
    expect(said(adopted)).toMatch(/^<@U0ADOPTER> adopted geo TCD\.20160802\.geo for client-model \(was TCD\.20160701\.geo\) — commit [0-9a-f]{7}$/);
    expect(world.remoteFile()).toContain('smv.stages.geo.version = TCD.20160802.geo');
    expect(said(await bot.command('pins'))).not.toContain(':snowflake:');
    // Unfreezing an ended freeze changes nothing and says when it ended.
    expect(said(await bot.command('unfreeze'))).toMatch(new RegExp(`^client-model is not frozen \\(the freeze by <@${ADOPTER}> ended by itself at .* UTC\\)\\. Nothing to unfreeze\\.$`));
  });
});

describe('change freezes on PostgreSQL replicas', () => {
  const cleanups: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  it('a freeze set through one replica refuses adopts on another; it ends there by itself at its time', async () => {
    const schema: TestSchema = await createSchema(await requirePostgres());
    cleanups.push(() => schema.drop());
    const world = new World();
    cleanups.push(() => world.cleanup());
    const slack = new SlackStandIn({ botToken: BOT_TOKEN, users: USERS });
    await slack.start();
    cleanups.push(() => slack.close());
    const replica = (n: number) => new BotUnderTest(world, slack, { env: { SMVBOT_DATABASE_URL: schema.url, SMVBOT_DATA_DIR: `${world.root}/data-${n}` } });
    const [one, two] = [replica(1), replica(2)];
    await one.startBot();
    cleanups.push(() => one.bot.stop());
    await two.startBot();
    cleanups.push(() => two.bot.stop());
    world.publishAll('TCD.20160802');
    await (one.bot.role() === 'leader' ? one : two).bot.scanNow();

    expect((await one.command(`freeze until ${FAR} quarter-end runs`)).visibility).toBe('in_channel');
    // The replica that set it is gone: only the shared state knows.
    await one.bot.stop();
    const remoteBefore = world.remoteLog();
    expect(said(await two.command('adopt geo TCD.20160802.geo'))).toBe(REFUSED_ADOPT);
    expect(said(await two.command('pins'))).toContain(`:snowflake: client-model is frozen by <@${ADOPTER}> until 2099-12-31 23:59 UTC (quarter-end runs)`);
    expect(world.remoteLog()).toEqual(remoteBefore);

    await pgSetFreezeUntil(schema, CONSUMER, new Date(Date.now() - 1000).toISOString());
    const adopted = await two.command('adopt geo TCD.20160802.geo');
    expect(adopted.visibility).toBe('in_channel');
    expect(world.remoteFile()).toContain('smv.stages.geo.version = TCD.20160802.geo');
  });
});
