// What people read in Slack: the announcement and the answers, within Slack's Block Kit limits.
import { refusalText, syncCommand } from '../src/slack/render/refusals.ts';
import { describe, expect, it } from 'vitest';
import type { AdoptAllOutcome, AdoptOutcome, UnpinOutcome } from '../src/core/adopt.ts';
import type { CatalogEntry } from '../src/core/catalog.ts';
import type { StagePin } from '../src/core/pinsReport.ts';
import { Topology, type ConsumerSpec, type PublisherSpec } from '../src/core/topology.ts';
import type { VersionDiff } from '../src/domain/schemaDiff.ts';
import type { AdoptionRecord, VersionRecord } from '../src/domain/records.ts';
import { MAX_VERSIONS_PER_MESSAGE, parseAdoptAllButtonValue, parseAdoptButtonValue, renderAnnouncement, renderAnnouncementBatch, versionsInMetadata } from '../src/slack/render/announcement.ts';
import {
  renderAdoptAllOutcome,
  renderAdoptOutcome,
  renderRecoveredAdoption,
  renderDiff,
  renderHistory,
  renderPins,
  renderReleases,
  renderUnpinOutcome,
} from '../src/slack/render/answers.ts';
import { cappedList, clip, formatBytes, formatTime, mrkdwnMessage, plural } from '../src/slack/render/format.ts';

// Slack Block Kit limits (https://api.slack.com/reference/block-kit).
const MAX_BLOCKS = 50;
const MAX_SECTION_TEXT = 3000;
const MAX_FIELD_TEXT = 2000;
const MAX_FIELDS = 10;
const MAX_HEADER_TEXT = 150;
const MAX_BUTTON_TEXT = 75;
const MAX_BUTTON_VALUE = 2000;
const MAX_ACTION_ELEMENTS = 25;
const MAX_CONFIRM_TEXT = 300;

type Block = {
  type: string;
  text?: { type: string; text: string };
  fields?: { text: string }[];
  elements?: { text: { text: string }; value: string; confirm: { text: { text: string } } }[];
};

/** Every Block Kit limit the renderers must respect. */
function expectWithinSlackLimits(blocks: unknown[] | undefined): void {
  const list = (blocks ?? []) as Block[];
  expect(list.length).toBeLessThanOrEqual(MAX_BLOCKS);
  for (const block of list) {
    if (block.type === 'header') expect(block.text!.text.length).toBeLessThanOrEqual(MAX_HEADER_TEXT);
    if (block.type === 'section') {
      if (block.text) {
        expect(block.text.text.length).toBeLessThanOrEqual(MAX_SECTION_TEXT);
        expect(block.text.text.trim()).not.toBe('');
      }
      expect((block.fields ?? []).length).toBeLessThanOrEqual(MAX_FIELDS);
      for (const field of block.fields ?? []) expect(field.text.length).toBeLessThanOrEqual(MAX_FIELD_TEXT);
    }
    if (block.type === 'actions') {
      expect(block.elements!.length).toBeLessThanOrEqual(MAX_ACTION_ELEMENTS);
      for (const button of block.elements!) {
        expect(button.text.text.length).toBeLessThanOrEqual(MAX_BUTTON_TEXT);
        expect(button.value.length).toBeLessThanOrEqual(MAX_BUTTON_VALUE);
        expect(button.confirm.text.text.length).toBeLessThanOrEqual(MAX_CONFIRM_TEXT);
      }
    }
  }
}

const publisher: PublisherSpec = {
  name: 'public-data',
  publishDir: '/srv/publish',
  stages: ['com.acme.geo', 'com.acme.cms', 'com.acme.trial'],
  channels: ['C0ANNOUNCE'],
  settleSeconds: 30,
};
const consumer: ConsumerSpec = {
  name: 'client-model',
  repo: '/srv/git/client-model.git',
  branch: 'main',
  confPath: 'conf/smv-user-conf.props',
  channels: ['C0TEAMB'],
  adopters: ['U0ADOPTER'],
  mode: 'push',
};
const topology = new Topology([publisher], [consumer], ['U0ADMIN']);
const geo = topology.stage('com.acme.geo')!;

function storedVersion(version: string, stages: string[], moduleCount: number, bytes = 2048): VersionRecord {
  const modules = Array.from({ length: moduleCount }, (_, i) => {
    const stage = stages[i % stages.length]!;
    return { fqn: `${stage}.Module${String(i).padStart(3, '0')}`, stage, bytes: 10 };
  });
  return {
    publisher: 'public-data',
    version,
    stages,
    modules,
    bytes,
    completedAt: '2016-08-02T10:00:00.000Z',
    recordedAt: '2016-08-02T10:01:00.000Z',
    removedAt: null,
  };
}

function entry(version: string, moduleCount = 3, completedAt = '2016-08-02T10:00:00.000Z'): CatalogEntry {
  return { publisher: 'public-data', version, stages: ['com.acme.geo'], moduleCount, bytes: 100, completedAt, removed: false };
}

describe('format helpers', () => {
  it('plural forms', () => {
    expect(plural(0, 'module')).toBe('0 modules');
    expect(plural(1, 'module')).toBe('1 module');
    expect(plural(2, 'module')).toBe('2 modules');
    expect(plural(1, 'complete version')).toBe('1 complete version');
  });

  it('sizes in bytes and binary units', () => {
    expect(formatBytes(0)).toBe('0 B');
    expect(formatBytes(1023)).toBe('1023 B');
    expect(formatBytes(1024)).toBe('1.0 KB');
    expect(formatBytes(1536)).toBe('1.5 KB');
    expect(formatBytes(20 * 1024)).toBe('20 KB');
    expect(formatBytes(3 * 1024 ** 3)).toBe('3.0 GB');
  });

  it('times in UTC, unambiguous', () => {
    expect(formatTime('2016-08-02T10:00:59.000Z')).toBe('2016-08-02 10:00 UTC');
    expect(formatTime('not a date')).toBe('not a date');
  });

  it('capped lists say how many were left out; clip marks the cut', () => {
    expect(cappedList(['a', 'b'], 2)).toBe('a\nb');
    expect(cappedList(['a', 'b', 'c', 'd'], 2)).toBe('a\nb\n… and 2 more');
    expect(clip('x'.repeat(10), 5)).toBe('xxxx…');
    expect(clip('x'.repeat(5), 5)).toBe('xxxxx');
  });

  it('clip never ends inside an escape, Slack markup or a surrogate pair', () => {
    // At every cut position through `a&lt;b`, the kept part is whole.
    for (let max = 2; max <= 6; max++) expect(clip('a&lt;b&amp;c', max)).toMatch(/^(a|a&lt;|a&lt;b)…$/);
    expect(clip('see <@U0ADMIN> now', 10)).toBe('see …');
    expect(clip('see <!date^1470132000^{date_short_pretty}|2016-08-02> now', 20)).toBe('see …');
    expect(clip('ab\u{1F600}cd', 4)).toBe('ab…');
  });

  it('packs short paragraphs into few blocks, in order', () => {
    const paragraphs = Array.from({ length: 80 }, (_, i) => `paragraph ${i}`);
    const message = mrkdwnMessage('title', paragraphs);
    expectWithinSlackLimits(message.blocks);
    expect(message.blocks).toHaveLength(1);
    expect((message.blocks as Block[])[0]!.text!.text).toBe(paragraphs.join('\n'));
  });

  it('a long answer stays within 50 blocks and says what did not fit', () => {
    const paragraphs = Array.from({ length: 200 }, (_, i) => `paragraph ${i} ${'x'.repeat(1000)}`);
    const message = mrkdwnMessage('title', paragraphs);
    expectWithinSlackLimits(message.blocks);
    const texts = (message.blocks as Block[]).map((b) => b.text!.text);
    expect(texts[0]).toMatch(/^paragraph 0 /);
    const shown = texts.join('\n').match(/paragraph \d+/g)!.length;
    expect(texts.at(-1)).toBe(`… and ${200 - shown} more`);
  });
});

describe('announcement', () => {
  it('names the stage, version, module count, size and completion time', () => {
    const message = renderAnnouncement({ publisher: 'public-data', version: storedVersion('TCD.20160802.geo', ['com.acme.geo'], 1) }, topology);
    expect(message.text).toBe('New release of geo: TCD.20160802.geo from public-data — 1 module, 2.0 KB, completed 2016-08-02 10:00 UTC');
    const plural3 = renderAnnouncement({ publisher: 'public-data', version: storedVersion('TCD.20160802.geo', ['com.acme.geo'], 3) }, topology);
    expect(plural3.text).toContain('— 3 modules, 2.0 KB');
  });

  it('blocks: header, facts, module list, one Adopt button per stage with a confirm dialog', () => {
    const v = storedVersion('TCD.20160802', ['com.acme.cms', 'com.acme.geo'], 2);
    const message = renderAnnouncement({ publisher: 'public-data', version: v }, topology);
    const blocks = message.blocks as Block[];
    expect(blocks.map((b) => b.type)).toEqual(['header', 'section', 'section', 'actions']);
    expect(blocks[0]!.text!.text).toBe('New release: cms, geo TCD.20160802');
    expect(blocks[1]!.fields!.map((f) => f.text.split('\n')[0])).toEqual(['*Version*', '*Publisher*', '*Stages*', '*Modules*', '*Completed*']);
    expect(blocks[1]!.fields![4]!.text).toBe(`*Completed*\n<!date^${Date.parse(v.completedAt) / 1000}^{date_short_pretty} {time}|2016-08-02 10:00 UTC>`);
    expect(blocks[2]!.text!.text).toBe('• `com.acme.cms.Module000`\n• `com.acme.geo.Module001`');
    const buttons = blocks[3]!.elements!;
    expect(buttons.map((b) => b.text.text)).toEqual(['Adopt cms', 'Adopt geo', 'Adopt all']);
    expect(buttons.map((b) => parseAdoptButtonValue(b.value))).toEqual([
      { stage: 'com.acme.cms', version: 'TCD.20160802' },
      { stage: 'com.acme.geo', version: 'TCD.20160802' },
      null,
    ]);
    // Adopt all: both stages in one commit, confirmed first.
    expect(parseAdoptAllButtonValue(buttons[2]!.value)).toEqual({ stages: ['com.acme.cms', 'com.acme.geo'], version: 'TCD.20160802' });
    expect(buttons[2]!.confirm).toEqual({
      title: { type: 'plain_text', text: 'Adopt every stage?' },
      text: { type: 'mrkdwn', text: "Pin *cms*, *geo* to `TCD.20160802` in this channel's consumer config, in one commit pushed to its repo (all or nothing)." },
      confirm: { type: 'plain_text', text: 'Adopt all' },
      deny: { type: 'plain_text', text: 'Cancel' },
    });
    expect(buttons[1]!.confirm).toEqual({
      title: { type: 'plain_text', text: 'Adopt this version?' },
      text: { type: 'mrkdwn', text: "Pin *geo* to `TCD.20160802` in this channel's consumer config (a commit pushed to its repo)." },
      confirm: { type: 'plain_text', text: 'Adopt' },
      deny: { type: 'plain_text', text: 'Cancel' },
    });
    expect(new Set((buttons as unknown as { action_id: string }[]).map((b) => b.action_id)).size).toBe(3);
    expect(message.metadata).toEqual({
      event_type: 'smv_version_published',
      event_payload: { publisher: 'public-data', version: 'TCD.20160802', stages: ['com.acme.cms', 'com.acme.geo'], modules: ['com.acme.cms.Module000', 'com.acme.geo.Module001'] },
    });
    expectWithinSlackLimits(message.blocks);
  });

  it('a big publish (many modules, many long stage names, a 200-character version) stays within Slack limits', () => {
    const stages = Array.from({ length: 40 }, (_, i) => `com.acme.department${i}.reporting.warehouse.subject.area.stage${i}`);
    const big = new Topology([{ ...publisher, stages }], [consumer], []);
    const version = `V${'1234567890'.repeat(19)}abcdefghi`;
    expect(version).toHaveLength(200);
    const message = renderAnnouncement({ publisher: 'public-data', version: storedVersion(version, stages, 500, 5 * 1024 ** 3) }, big);
    expectWithinSlackLimits(message.blocks);
    const blocks = message.blocks as Block[];
    const moduleList = blocks[2]!.text!.text;
    expect(moduleList.split('\n')).toHaveLength(31);
    expect(moduleList).toMatch(/… and 470 more$/);
    expect(blocks[3]!.elements).toHaveLength(25);
    // The stages without a button are said, with what to type for them.
    expect(JSON.stringify(blocks[4])).toContain('Adopt buttons are shown for the first 25 stages; … and 15 more');
    // Metadata stays bounded: the module list is cut at 50, with the full count beside it.
    expect(message.metadata.event_payload.modules).toHaveLength(50);
    expect(message.metadata.event_payload.module_count).toBe(500);
    expect(message.metadata.event_payload.stages).toHaveLength(40);
    expect(message.metadata.event_payload).not.toHaveProperty('stage_count');
    expect(JSON.stringify(message.metadata).length).toBeLessThan(8 * 1024);
  });

  it('a batch of one version is exactly the single announcement', () => {
    const what = { publisher: 'public-data', version: storedVersion('TCD.20160802.geo', ['com.acme.geo'], 3) };
    expect(renderAnnouncementBatch({ versions: [what], part: 1, parts: 1, total: 1 }, topology)).toEqual(renderAnnouncement(what, topology));
  });

  it('a combined announcement of the worst burst (10 versions of 40 long stages, 500 modules, 200-character names) stays within Slack limits', () => {
    const stages = Array.from({ length: 40 }, (_, i) => `com.acme.department${i}.reporting.warehouse.subject.area.stage${i}`);
    const big = new Topology([{ ...publisher, stages }], [consumer], []);
    const versions = Array.from({ length: MAX_VERSIONS_PER_MESSAGE }, (_, k) => ({
      publisher: 'public-data',
      version: storedVersion(`V${k}${'1234567890'.repeat(19)}abcdefgh`, stages, 500, 5 * 1024 ** 3),
    }));
    const message = renderAnnouncementBatch({ versions, part: 2, parts: 3, total: 30 }, big);
    expectWithinSlackLimits(message.blocks);
    const blocks = message.blocks as (Block & { block_id?: string })[];
    expect(blocks[0]!.text!.text).toBe('30 new releases (part 2 of 3)');
    // Slack refuses a message that repeats a block_id, or an action_id within a block.
    const blockIds = blocks.flatMap((b) => (b.block_id ? [b.block_id] : []));
    expect(new Set(blockIds).size).toBe(blockIds.length);
    const actionIds = blocks.flatMap((b) => (b.type === 'actions' ? (b.elements as unknown as { action_id: string }[]).map((e) => e.action_id) : []));
    expect(new Set(actionIds).size).toBe(actionIds.length);
    // Every version: its line (modules cut with a count), 25 buttons, and the note for the 15 stages without one.
    const sections = blocks.filter((b) => b.type === 'section').map((b) => b.text!.text);
    expect(sections).toHaveLength(10);
    for (const line of sections) expect(line).toMatch(/… and 490 more$/);
    expect(blocks.filter((b) => b.type === 'actions').map((b) => b.elements!.length)).toEqual(Array(10).fill(25));
    expect(blocks.filter((b) => JSON.stringify(b).includes('Adopt buttons are shown for the first 25 stages; … and 15 more'))).toHaveLength(10);
    expect(JSON.stringify(blocks.at(-1))).toContain('10 of the 30 versions that completed together; the others are in the other 2 messages.');
    // Metadata stays bounded: the first version's SPEC fields, then the ten versions.
    const payload = message.metadata.event_payload as unknown as { version: string; modules: string[]; versions: { version: string }[] };
    expect(payload.version).toBe(versions[0]!.version.version);
    expect(payload.modules).toHaveLength(50);
    expect(payload.versions.map((v) => v.version)).toEqual(versions.map((v) => v.version.version));
    expect(JSON.stringify(message.metadata).length).toBeLessThan(12 * 1024);
    expect(message.text.length).toBeLessThanOrEqual(3000);
  });

  it('versions from two publishers in one channel: each line names its publisher, and the metadata lists both', () => {
    const versions = [
      { publisher: 'public-data', version: storedVersion('TCD.20160802.geo', ['com.acme.geo'], 1) },
      { publisher: 'other-data', version: { ...storedVersion('TCD.20160802.geo', ['com.acme.cms'], 1), publisher: 'other-data' } },
    ];
    const message = renderAnnouncementBatch({ versions, part: 1, parts: 1, total: 2 }, topology);
    expect(message.text).toBe('2 new releases: geo TCD.20160802.geo from public-data; cms TCD.20160802.geo from other-data');
    expect(versionsInMetadata(message.metadata)).toEqual([
      { publisher: 'public-data', version: 'TCD.20160802.geo' },
      { publisher: 'other-data', version: 'TCD.20160802.geo' },
    ]);
    // A single announcement names its one version; anything else names none.
    const single = renderAnnouncement(versions[0]!, topology);
    expect(versionsInMetadata(single.metadata)).toEqual([{ publisher: 'public-data', version: 'TCD.20160802.geo' }]);
    expect(versionsInMetadata({ event_type: 'other', event_payload: { publisher: 'p', version: 'v' } })).toEqual([]);
    expect(versionsInMetadata(undefined)).toEqual([]);
  });

  it('an ambiguous base name is shown as the FQN', () => {
    const ambiguous = new Topology([{ ...publisher, stages: ['com.acme.geo', 'com.other.geo'] }], [consumer], []);
    const message = renderAnnouncement({ publisher: 'public-data', version: storedVersion('TCD.20160802', ['com.acme.geo'], 1) }, ambiguous);
    expect(message.text).toContain('New release of com.acme.geo: TCD.20160802');
    expect((message.blocks as Block[])[3]!.elements![0]!.text.text).toBe('Adopt com.acme.geo');
  });

  it('a malformed button value is rejected, not trusted', () => {
    expect(parseAdoptButtonValue(undefined)).toBeNull();
    expect(parseAdoptButtonValue('geo|TCD')).toBeNull();
    expect(parseAdoptButtonValue('{"stage":1,"version":"x"}')).toBeNull();
  });

  it('Adopt all: last in the actions block; past 24 stages it takes the 25th place, and the note says it pins every stage', () => {
    const stages = Array.from({ length: 30 }, (_, i) => `com.acme.s${i}`);
    const many = new Topology([{ ...publisher, stages }], [consumer], []);
    const message = renderAnnouncement({ publisher: 'public-data', version: storedVersion('TCD.20160802', stages, 30) }, many);
    expectWithinSlackLimits(message.blocks);
    const blocks = message.blocks as Block[];
    const buttons = blocks.find((b) => b.type === 'actions')!.elements! as (NonNullable<Block['elements']>[number] & { action_id: string })[];
    expect(buttons).toHaveLength(25);
    expect(buttons.slice(0, 24).map((b) => parseAdoptButtonValue(b.value)?.stage)).toEqual(stages.slice(0, 24));
    expect(buttons[24]!.text.text).toBe('Adopt all');
    expect(parseAdoptAllButtonValue(buttons[24]!.value)).toEqual({ stages, version: 'TCD.20160802' });
    expect(buttons[24]!.confirm.text.text).toBe("Pin *s0*, *s1*, *s2*, *s3*, *s4*, … and 25 more to `TCD.20160802` in this channel's consumer config, in one commit pushed to its repo (all or nothing).");
    expect(new Set(buttons.map((b) => b.action_id)).size).toBe(25);
    expect(JSON.stringify(blocks.at(-1))).toContain(
      'Adopt buttons are shown for the first 24 stages; … and 6 more: Adopt all pins every stage at once, or type `/smv adopt &lt;stage&gt; TCD.20160802` for one of those.',
    );
  });

  it('Adopt all leaves out a deprecated stage, and is not offered when fewer than two stages may be adopted', () => {
    const deprecation = { stage: 'com.acme.trial', version: 'TCD.20160802', reason: null, by: { id: 'U0ADMIN', name: 'Ada' }, at: '2016-08-03T00:00:00.000Z' };
    const three = storedVersion('TCD.20160802', ['com.acme.cms', 'com.acme.geo', 'com.acme.trial'], 3);
    const withOne = renderAnnouncement({ publisher: 'public-data', version: three, notes: { deprecated: [deprecation], adoptedBy: [] } }, topology);
    const buttons = (withOne.blocks as Block[]).find((b) => b.type === 'actions')!.elements!;
    expect(buttons.map((b) => b.text.text)).toEqual(['Adopt cms', 'Adopt geo', 'Adopt all']);
    expect(parseAdoptAllButtonValue(buttons[2]!.value)).toEqual({ stages: ['com.acme.cms', 'com.acme.geo'], version: 'TCD.20160802' });

    const two = storedVersion('TCD.20160802', ['com.acme.geo', 'com.acme.trial'], 2);
    const onlyOne = renderAnnouncement({ publisher: 'public-data', version: two, notes: { deprecated: [deprecation], adoptedBy: [] } }, topology);
    expect((onlyOne.blocks as Block[]).find((b) => b.type === 'actions')!.elements!.map((b) => b.text.text)).toEqual(['Adopt geo']);
    const single = renderAnnouncement({ publisher: 'public-data', version: storedVersion('TCD.20160802.geo', ['com.acme.geo'], 1) }, topology);
    expect((single.blocks as Block[]).find((b) => b.type === 'actions')!.elements!.map((b) => b.text.text)).toEqual(['Adopt geo']);
  });

  it('a malformed Adopt all value is rejected, not trusted', () => {
    expect(parseAdoptAllButtonValue(undefined)).toBeNull();
    expect(parseAdoptAllButtonValue('{"stage":"com.acme.geo","version":"x"}')).toBeNull();
    expect(parseAdoptAllButtonValue('{"stages":[],"version":"x"}')).toBeNull();
    expect(parseAdoptAllButtonValue('{"stages":["a",1],"version":"x"}')).toBeNull();
    expect(parseAdoptAllButtonValue('{"stages":["a","b"],"version":2}')).toBeNull();
  });
});

describe('releases', () => {
  it('marks the latest and the pinned version, with plural forms', () => {
    const stage = { stage: geo, versions: [entry('TCD.20160802.geo', 1), entry('TCD.20160701.geo', 3, '2016-07-01T09:00:00.000Z')], total: 2, deprecated: new Map() };
    const message = renderReleases([stage], { consumer: 'client-model', pins: new Map([['com.acme.geo', 'TCD.20160701.geo']]) });
    expect(message.text).toBe(
      [
        'Releases of geo',
        '*geo* (`com.acme.geo`, public-data) — 2 complete versions',
        '• `TCD.20160802.geo` — 1 module, completed 2016-08-02 10:00 UTC  _latest_',
        '• `TCD.20160701.geo` — 3 modules, completed 2016-07-01 09:00 UTC  _:pushpin: pinned by client-model_',
      ].join('\n'),
    );
  });

  it('marks a deprecated version with its reason and moves `latest` to the newest good one', () => {
    const deprecation = { stage: 'com.acme.geo', version: 'TCD.20160802.geo', reason: 'zip <codes> shifted', by: { id: 'U0OWNER', name: 'Olga' }, at: '2016-08-03T00:00:00.000Z' };
    const stage = {
      stage: geo,
      versions: [entry('TCD.20160802.geo', 1), entry('TCD.20160701.geo', 3, '2016-07-01T09:00:00.000Z')],
      total: 2,
      deprecated: new Map([['TCD.20160802.geo', deprecation]]),
    };
    const message = renderReleases([stage], null);
    expect(message.text).toContain('• `TCD.20160802.geo` — 1 module, completed 2016-08-02 10:00 UTC  _:warning: deprecated: zip &lt;codes&gt; shifted_');
    expect(message.text).toContain('• `TCD.20160701.geo` — 3 modules, completed 2016-07-01 09:00 UTC  _latest_');
  });

  it('one complete version: singular; a pin that is not listed is still shown', () => {
    const stage = { stage: geo, versions: [entry('TCD.20160802.geo')], total: 1, deprecated: new Map() };
    const message = renderReleases([stage], { consumer: 'client-model', pins: new Map([['com.acme.geo', 'TCD.20150101.geo']]) });
    expect(message.text).toContain('— 1 complete version\n');
    expect(message.text).toContain('• :pushpin: client-model pins `TCD.20150101.geo` (older or not published)');
  });

  it('a stage with nothing published says so; a note is added when pins could not be read', () => {
    const message = renderReleases([{ stage: geo, versions: [], total: 0, deprecated: new Map() }], null, 'Could not read pins');
    expect(message.text).toContain('— 0 complete versions\n_nothing published yet_');
    expect(message.text).toContain('_Could not read pins_');
  });

  it('many stages stay within Slack limits', () => {
    const stages = Array.from({ length: 70 }, (_, i) => `com.acme.stage${i}`);
    const big = new Topology([{ ...publisher, stages }], [consumer], []);
    const releases = big.stages.map((stage) => ({ stage, versions: [entry(`TCD.20160802.${stage.baseName}`)], total: 1, deprecated: new Map() }));
    const message = renderReleases(releases, null);
    expectWithinSlackLimits(message.blocks);
    // Every stage is listed: short paragraphs share blocks instead of taking one each.
    for (const stage of big.stages) expect(replyOf(message.blocks)).toContain(`*${stage.displayName}*`);
  });
});

describe('pins', () => {
  const latest = entry('TCD.20160802.geo');
  const pin = (version: string | null): StagePin['pin'] =>
    version === null ? { version: null, key: null, source: null } : { version, key: 'smv.stages.geo.version', source: 'user' };

  it('up to date, behind by one or by several, unpinned', () => {
    const line = (p: Partial<StagePin>) => renderPins('client-model', 'main', [{ stage: geo, pin: pin(null), latest, behind: null, issues: [], ...p }]).text.split('\n')[1];
    expect(line({ pin: pin('TCD.20160802.geo'), behind: 0 })).toBe('• *geo* → `TCD.20160802.geo` (smv.stages.geo.version in the user conf) — up to date');
    expect(line({ pin: pin('TCD.20160801.geo'), behind: 1 })).toContain('— 1 version behind latest `TCD.20160802.geo`');
    expect(line({ pin: pin('TCD.20160701.geo'), behind: 4 })).toContain('— 4 versions behind latest `TCD.20160802.geo`');
    expect(line({})).toBe('• *geo* → not pinned (live code) — latest is `TCD.20160802.geo`');
  });

  it('warnings are listed under their stage', () => {
    const message = renderPins('client-model', 'main', [
      {
        stage: geo,
        pin: pin('TCD.20160701.geo'),
        latest,
        behind: null,
        issues: [
          { kind: 'not-published', version: 'TCD.20160701.geo', removed: true, stage: geo },
          { kind: 'not-synced', version: 'TCD.20160701.geo', consumer: 'client-model', sync: null },
        ],
      },
    ]);
    expect(message.text).toContain('Pins of client-model (branch main)');
    expect(message.text).toContain(
      "\n   :warning: TCD.20160701.geo is no longer in public-data's publish dir: SMV runs against it will fail. Adopt a current version." +
        "\n   :warning: TCD.20160701.geo is not in client-model's publish dir either.",
    );
    expectWithinSlackLimits(message.blocks);
  });
});

describe('history', () => {
  const record = (over: Partial<AdoptionRecord> = {}): AdoptionRecord => ({
    id: 'r1',
    at: '2016-08-02T11:00:00.000Z',
    action: 'adopt',
    consumer: 'client-model',
    stage: 'com.acme.geo',
    from: 'TCD.20160701.geo',
    to: 'TCD.20160802.geo',
    commit: '0123456789abcdef0123456789abcdef01234567',
    mode: 'push',
    user: { id: 'U0ADOPTER', name: 'Bea Adopter' },
    ...over,
  });

  it('who, when, from → to, commit; unpins and review branches too', () => {
    const message = renderHistory(
      [record(), record({ action: 'unpin', from: 'TCD.20160802.geo', to: null }), record({ mode: 'branch', branch: 'smvbot/adopt/geo/TCD.20160802.geo' })],
      topology,
      ' for client-model',
    );
    const lines = message.text.split('\n');
    expect(lines[0]).toBe('Recent adoptions for client-model');
    expect(lines[1]).toBe('• 2016-08-02 11:00 UTC — <@U0ADOPTER> (Bea Adopter) adopted geo `TCD.20160802.geo` for client-model (was TCD.20160701.geo) — commit `0123456`');
    expect(lines[2]).toBe('• 2016-08-02 11:00 UTC — <@U0ADOPTER> (Bea Adopter) unpinned geo for client-model (was TCD.20160802.geo) — commit `0123456`');
    expect(lines[3]).toContain('on branch `smvbot/adopt/geo/TCD.20160802.geo`');
  });

  it('nothing recorded: says how to adopt', () => {
    expect(renderHistory([], topology, ' of geo').text).toBe('No adoptions recorded of geo. Pin one with `/smv adopt &lt;stage&gt; &lt;version&gt;`.');
  });
});

describe('adopt and unpin outcomes', () => {
  const record = {} as AdoptionRecord;
  const landed = { consumer, stage: geo, previous: 'TCD.20160701.geo', commit: 'abcdef0123456789abcdef0123456789abcdef01', mode: 'push' as const, record };

  it('adopted: the SPEC wording, in the channel', () => {
    const outcome: AdoptOutcome = { ok: true, status: 'adopted', version: 'TCD.20160802.geo', ...landed };
    expect(renderAdoptOutcome(outcome, 'U0ADOPTER')).toEqual({
      inChannel: true,
      message: expect.objectContaining({ text: '<@U0ADOPTER> adopted geo TCD.20160802.geo for client-model (was TCD.20160701.geo) — commit abcdef0' }),
    });
    const first: AdoptOutcome = { ...outcome, previous: null };
    expect(renderAdoptOutcome(first, 'U0ADOPTER').message.text).toContain('(was none)');
    const review: AdoptOutcome = { ...outcome, mode: 'branch', branch: 'smvbot/adopt/geo/TCD.20160802.geo' };
    expect(renderAdoptOutcome(review, 'U0ADOPTER').message.text).toContain('— commit abcdef0 on branch `smvbot/adopt/geo/TCD.20160802.geo`, ready for review');
  });

  it('refused or already pinned: only for the user', () => {
    expect(renderAdoptOutcome({ ok: false, code: 'not-authorised', action: 'adopt', consumer: 'client-model', user: 'U1', ask: [] }, 'U1')).toEqual({
      inChannel: false,
      message: expect.objectContaining({
        text: 'You are not allowed to change pins for `client-model`. Ask an admin to add your Slack user id (U1) to `adopters` of `client-model` in smvbot.yml.',
      }),
    });
    const already: AdoptOutcome = { ok: true, status: 'already-pinned', consumer, stage: geo, version: 'TCD.20160802.geo', pin: { version: 'TCD.20160802.geo', key: 'smv.stages.geo.version', source: 'user' } };
    const rendered = renderAdoptOutcome(already, 'U1');
    expect(rendered.inChannel).toBe(false);
    expect(rendered.message.text).toBe('geo is already pinned to `TCD.20160802.geo` for client-model (smv.stages.geo.version in the user conf). Nothing to commit.');
  });

  const cms = topology.stage('com.acme.cms')!;
  const trial = topology.stage('com.acme.trial')!;
  const sha = 'abcdef0123456789abcdef0123456789abcdef01';

  it('several stages adopted: one line in the channel naming each with what it was, the stages already pinned, and any soak skipped', () => {
    const outcome: AdoptAllOutcome = {
      ok: true,
      status: 'adopted',
      consumer,
      commit: sha,
      mode: 'push',
      stages: [
        { status: 'adopted', stage: geo, version: 'TCD.20160802.geo', previous: 'TCD.20160701.geo', record },
        { status: 'adopted', stage: cms, version: 'TCD.20160802.cms', previous: null, record },
      ],
    };
    expect(renderAdoptAllOutcome(outcome, 'U0ADOPTER')).toEqual({
      inChannel: true,
      message: expect.objectContaining({ text: '<@U0ADOPTER> adopted geo TCD.20160802.geo (was TCD.20160701.geo), cms TCD.20160802.cms (was none) for client-model — commit abcdef0' }),
    });
    const pin = { version: 'TCD.20160802.trial', key: 'smv.stages.trial.version', source: 'user' as const };
    const mixed: AdoptAllOutcome = {
      ...outcome,
      mode: 'branch',
      branch: 'smvbot/adopt/geo+trial/TCD.20160802.geo+TCD.20160802.trial',
      stages: [
        { status: 'adopted', stage: geo, version: 'TCD.20160802.geo', previous: 'TCD.20160701.geo', record, soakSkipped: { minAgeHours: 48, adoptableAt: '2016-08-04T12:00:00.000Z' } },
        { status: 'already-pinned', stage: trial, version: 'TCD.20160802.trial', pin },
      ],
    };
    expect(renderAdoptAllOutcome(mixed, 'U0ADMIN').message.text).toBe(
      '<@U0ADMIN> adopted geo TCD.20160802.geo (was TCD.20160701.geo) for client-model — commit abcdef0 on branch `smvbot/adopt/geo+trial/TCD.20160802.geo+TCD.20160802.trial`, ready for review' +
        '. Already pinned, so not in the commit: trial to `TCD.20160802.trial`' +
        '. Soak time skipped by an admin for geo: client-model waits 48 h (minAgeHours), and TCD.20160802.geo would have become adoptable at 2016-08-04 12:00 UTC',
    );
    const allPinned: AdoptAllOutcome = { ok: true, status: 'already-pinned', consumer, stages: [{ status: 'already-pinned', stage: trial, version: 'TCD.20160802.trial', pin }, { status: 'already-pinned', stage: geo, version: 'V1', pin }] };
    expect(renderAdoptAllOutcome(allPinned, 'U1')).toEqual({
      inChannel: false,
      message: expect.objectContaining({ text: 'Every stage is already pinned for client-model: trial to `TCD.20160802.trial`, geo to `V1`. Nothing to commit.' }),
    });
  });

  it('several stages refused: every stage\'s problem, one line each, and nothing adopted; the same stage twice is refused', () => {
    const text = refusalText({
      ok: false,
      code: 'stages-refused',
      consumer: 'client-model',
      stages: [
        { stage: 'geo', version: 'latest', refusal: { ok: false, code: 'no-versions', stage: 'geo', allDeprecated: false } },
        { stage: 'cms', version: 'TCD.20160802.cms', refusal: { ok: false, code: 'not-synced', version: 'TCD.20160802.cms', consumerDir: '/srv/b', publisherDir: '/srv/a' } },
      ],
    });
    expect(text).toBe(
      'Nothing was adopted for `client-model`: the stages are adopted together or not at all, and 2 cannot be adopted:\n' +
        '• geo `latest`: No complete version of geo has been published yet, so there is no latest to adopt. Try `/smv releases` later.\n' +
        "• cms `TCD.20160802.cms`: Version TCD.20160802.cms is not in the consumer's publish dir /srv/b yet. Sync it, e.g. `rsync -a /srv/a/TCD.20160802.cms/ /srv/b/TCD.20160802.cms/`, then try again.",
    );
    expect(refusalText({ ok: false, code: 'stage-twice', stage: 'geo', versions: ['V1', 'latest'] })).toBe(
      'geo is named 2 times (`V1`, `latest`): name each stage once, with the version to pin. Nothing was changed.',
    );
  });

  it('a recovered adoption of several stages is told once, naming each', () => {
    const base = { id: 'x', at: '2016-08-02T11:00:00.000Z', action: 'adopt' as const, consumer: 'client-model', commit: sha, mode: 'push' as const, user: { id: 'U0ADOPTER', name: 'Bea' } };
    const records: AdoptionRecord[] = [
      { ...base, stage: 'com.acme.geo', from: 'TCD.20160701.geo', to: 'TCD.20160802.geo' },
      { ...base, stage: 'com.acme.cms', from: null, to: 'TCD.20160802.cms' },
    ];
    expect(renderRecoveredAdoption(records, topology).text).toBe(
      '<@U0ADOPTER> adopted geo TCD.20160802.geo (was TCD.20160701.geo), cms TCD.20160802.cms (was none) for client-model — commit abcdef0. ' +
        '(The bot restarted while pushing it; the commit is on the remote and is now in `/smv history`.)',
    );
    expect(renderRecoveredAdoption(records.slice(0, 1), topology).text).toBe(
      '<@U0ADOPTER> adopted geo TCD.20160802.geo for client-model (was TCD.20160701.geo) — commit abcdef0. ' +
        '(The bot restarted while pushing it; the commit is on the remote and is now in `/smv history`.)',
    );
  });

  it('unpinned, with a note when the app conf still pins the stage', () => {
    const stillPinned: UnpinOutcome = {
      ok: true,
      status: 'unpinned',
      stillPinnedBy: { version: 'TCD.20160601.geo', key: 'smv.stages.com.acme.geo.version', source: 'app' },
      ...landed,
    };
    const rendered = renderUnpinOutcome(stillPinned, 'U0ADOPTER');
    expect(rendered.inChannel).toBe(true);
    expect(rendered.message.text).toBe(
      '<@U0ADOPTER> unpinned geo for client-model (was TCD.20160701.geo) — commit abcdef0. ' +
        'Note: smv.stages.com.acme.geo.version in the app conf still pins it to `TCD.20160601.geo`, so SMV keeps using that version.',
    );
  });
});

describe('diff', () => {
  const base: VersionDiff = {
    stage: 'com.acme.geo',
    from: 'TCD.20160801.geo',
    to: 'TCD.20160802.geo',
    fromHasStage: true,
    toHasStage: true,
    modulesAdded: [],
    modulesRemoved: [],
    modulesChanged: [],
    modulesUnchanged: [],
    columnsUnknown: [],
    columnsUnknownWhy: [],
    identical: false,
  };

  it('added, removed and retyped columns per module; unchanged modules counted with plurals', () => {
    const diff: VersionDiff = {
      ...base,
      modulesAdded: ['com.acme.geo.New'],
      modulesRemoved: ['com.acme.geo.Old'],
      modulesChanged: [{ fqn: 'com.acme.geo.Zip', added: [{ name: 'county', type: 'String' }], removed: [{ name: 'zip4', type: 'String' }], retyped: [{ name: 'amt', from: 'Double', to: 'Integer' }] }],
      modulesUnchanged: ['com.acme.geo.A'],
      columnsUnknown: ['com.acme.geo.B'],
    };
    const text = renderDiff(diff, 'geo').text;
    expect(text.split('\n')).toEqual([
      'geo: TCD.20160801.geo → TCD.20160802.geo',
      ':warning: Change class: *breaking* — something was removed or retyped; check the modules that read it before adopting.',
      ':heavy_plus_sign: module `com.acme.geo.New`',
      ':heavy_minus_sign: module `com.acme.geo.Old`',
      '*`com.acme.geo.Zip`*',
      '   + `county` String',
      '   − `zip4` String',
      '   ~ `amt` Double → Integer',
      '_Columns unknown (no readable .meta/.schema) for: `com.acme.geo.B`_',
      '_1 module unchanged_',
    ]);
    expect(renderDiff({ ...diff, modulesUnchanged: ['a', 'b'] }, 'geo').text).toContain('_2 modules unchanged_');
    const additive = { ...diff, modulesRemoved: [], modulesChanged: [{ fqn: 'com.acme.geo.Zip', added: [{ name: 'county', type: 'String' }], removed: [], retyped: [{ name: 'n', from: 'Integer', to: 'Long' }] }] };
    expect(renderDiff(additive, 'geo').text.split('\n')[1]).toBe(
      'Change class: *compatible* — only additions and widenings; code reading the previous version keeps working.',
    );
  });

  it('identical versions, and versions without the stage', () => {
    expect(renderDiff({ ...base, identical: true }, 'geo').text).toBe('*geo: TCD.20160801.geo → TCD.20160802.geo*: no module or column changes (change class: none).');
    expect(renderDiff({ ...base, fromHasStage: false, toHasStage: false }, 'geo').text).toContain('Neither `TCD.20160801.geo` nor `TCD.20160802.geo` holds modules of geo.');
  });

  it('a huge diff stays within Slack limits', () => {
    const modulesChanged = Array.from({ length: 120 }, (_, i) => ({
      fqn: `com.acme.geo.M${i}`,
      added: Array.from({ length: 200 }, (_, c) => ({ name: `column_with_a_long_name_${c}`, type: 'String' })),
      removed: [],
      retyped: [],
    }));
    const message = renderDiff({ ...base, modulesChanged }, 'geo');
    expectWithinSlackLimits(message.blocks);
    expect(replyOf(message.blocks)).toMatch(/… and \d+ more/);
  });
});

function replyOf(blocks: unknown[] | undefined): string {
  return ((blocks ?? []) as Block[]).map((b) => b.text?.text ?? '').join('\n');
}

describe('the sync command a not-synced refusal suggests, by store', () => {
  it.each([
    ['/srv/a/V', '/srv/b/V', 'rsync -a /srv/a/V/ /srv/b/V/'],
    ['s3://pub/data/V', 's3://teamb/copy/V', 'aws s3 sync s3://pub/data/V/ s3://teamb/copy/V/'],
    ['webhdfs://nn1:9870,nn2:9870/apps/pub/V', 'webhdfs://nn1:9870,nn2:9870/apps/teamb/V', 'hadoop distcp -update webhdfs://nn1:9870/apps/pub/V webhdfs://nn1:9870/apps/teamb/V'],
    ['webhdfs://nn1:9870/apps/pub/V', 's3://teamb/copy/V', 'hadoop distcp -update webhdfs://nn1:9870/apps/pub/V s3a://teamb/copy/V'],
    ['s3://pub/data/V', '/srv/b/V', 'hadoop distcp -update s3a://pub/data/V file:///srv/b/V'],
  ])('%s → %s', (from, to, command) => {
    expect(syncCommand(from, to)).toBe(command);
  });
});
