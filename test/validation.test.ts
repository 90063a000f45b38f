import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { PublishedVersion } from '../src/domain/types.ts';
import {
  VERSION_PATTERN,
  checkConsumerSync,
  checkVersionForStage,
  validateVersionString,
} from '../src/domain/validation.ts';
import { scanVersion } from '../src/infra/publish/publishScanner.ts';
import { refusalText } from '../src/slack/render/refusals.ts';
import { copyVersion, makeTempDir, removeDir, writeVersion, writeVersionFile } from '../dev/world/publishFixtures.ts';

const GEO = 'com.acme.geo';
const CMS = 'com.acme.cms';
const STAGES = [GEO, CMS];

describe('validateVersionString', () => {
  it.each(['TCD.20160802.geo', 'v1', '2016-08-02_geo+fix', 'A'.repeat(200)])('accepts %s', (v) => {
    expect(validateVersionString(v)).toBeNull();
    expect(VERSION_PATTERN.test(v)).toBe(true);
  });

  it.each([
    ['', 'is empty'],
    ['../etc', 'contains a path separator'],
    ['TCD/2016', 'contains a path separator'],
    ['TCD 2016', 'contains whitespace or a line break'],
    ['TCD\nsmv.stages.geo.version=evil', 'contains whitespace or a line break'],
    ['.hidden', 'must start with a letter or digit'],
    ['-rf', 'must start with a letter or digit'],
    ['geo=1', 'contains "="'],
    ['geo:1', 'contains ":"'],
    ['A'.repeat(201), 'is 201 characters long (at most 200)'],
  ])('refuses %j: %s', (v, why) => {
    const refusal = validateVersionString(v);
    expect(refusal).toMatchObject({ ok: false, code: 'invalid-version' });
    expect(refusalText(refusal!)).toContain(why);
    expect(refusalText(refusal!)).toContain('e.g. TCD.20160802.geo');
    expect(refusalText(refusal!)).not.toContain('\n');
  });
});

function version(name: string, over: Partial<PublishedVersion> = {}): PublishedVersion {
  return {
    version: name,
    stages: [GEO],
    modules: [],
    complete: true,
    settling: false,
    incompleteReasons: [],
    lastChangeMs: 1000,
    completedAtMs: 1000,
    bytes: 0,
    problems: [],
    ...over,
  };
}

describe('checkVersionForStage', () => {
  const history = [
    version('TCD.20160801.geo', { completedAtMs: 1 }),
    version('TCD.20160803.geo', { completedAtMs: 3 }),
    version('TCD.20160802.geo', { completedAtMs: 2 }),
    version('TCD.20160804.geo', { complete: false, completedAtMs: null }),
    version('TCD.20160805.cms', { stages: [CMS], completedAtMs: 5 }),
  ];

  it('accepts a complete version holding the stage', () => {
    expect(checkVersionForStage(GEO, 'TCD.20160803.geo', history[1])).toBeNull();
  });

  it('refuses an unknown version and suggests the newest ones', () => {
    const refusal = checkVersionForStage(GEO, 'TCD.20990101.geo', undefined, ['TCD.20160803.geo', 'TCD.20160802.geo', 'TCD.20160801.geo']);
    expect(refusal).toMatchObject({ code: 'unknown-version' });
    expect(refusalText(refusal!)).toBe(
      'There is no published version "TCD.20990101.geo" for com.acme.geo. Newest complete versions of ' +
        'com.acme.geo: TCD.20160803.geo, TCD.20160802.geo, TCD.20160801.geo. See `/smv releases com.acme.geo` for more.',
    );
  });

  it('says so when the stage has never been published', () => {
    const refusal = checkVersionForStage('com.acme.trial', 'x1', undefined, []);
    expect(refusalText(refusal!)).toContain('No complete version of com.acme.trial has been published yet.');
  });

  it('refuses a version that holds other stages only, naming them', () => {
    const refusal = checkVersionForStage(GEO, 'TCD.20160805.cms', history[4], ['TCD.20160803.geo']);
    expect(refusal).toMatchObject({ code: 'version-lacks-stage' });
    expect(refusalText(refusal!)).toContain('Version TCD.20160805.cms holds com.acme.cms only, not com.acme.geo.');
    expect(refusalText(refusal!)).toContain('TCD.20160803.geo');
  });

  it('refuses an incomplete version with its reasons and says to wait', () => {
    const incomplete = version('TCD.20160804.geo', {
      complete: false,
      completedAtMs: null,
      incompleteReasons: ['com.acme.geo.Zip.csv has no _SUCCESS yet', 'changed 3s ago (settleSeconds 30)'],
    });
    const refusal = checkVersionForStage(GEO, 'TCD.20160804.geo', incomplete);
    expect(refusal).toMatchObject({ code: 'version-incomplete' });
    expect(refusalText(refusal!)).toContain(
      'Version TCD.20160804.geo is not complete yet: com.acme.geo.Zip.csv has no _SUCCESS yet, changed 3s ago (settleSeconds 30).',
    );
    expect(refusalText(refusal!)).toContain('Wait for the publish to finish');
  });
});

describe('checkConsumerSync (real publish trees)', () => {
  const V = 'TCD.20160802';
  let root: string;
  let publisherDir: string;
  let consumerDir: string;
  const opts = { stages: STAGES, settleSeconds: 30 };

  beforeEach(() => {
    root = makeTempDir('smvbot-sync-test-');
    publisherDir = path.join(root, 'teamA');
    consumerDir = path.join(root, 'teamB');
    fs.mkdirSync(consumerDir, { recursive: true });
    writeVersion(publisherDir, V, [
      { fqn: `${GEO}.Zip`, rows: 5 },
      { fqn: `${GEO}.County`, rows: 3, layout: 'plain' },
      { fqn: `${CMS}.Provider`, rows: 4 },
    ]);
  });
  afterEach(() => removeDir(root));

  async function check(stage = GEO) {
    const published = (await scanVersion(publisherDir, V, opts))!;
    // The tests below edit the copy just before checking; settling is covered separately.
    const copy = await scanVersion(consumerDir, V, { ...opts, settleSeconds: 0 });
    return checkConsumerSync(published, copy, stage, consumerDir, publisherDir);
  }

  it('accepts an exact copy, and extra files in the copy', async () => {
    copyVersion(publisherDir, consumerDir, V);
    expect(await check()).toBeNull();
    writeVersionFile(consumerDir, V, 'com.acme.geo.Old.csv', 'stale\n');
    expect(await check()).toBeNull();
  });

  it('refuses when the copy is missing and says how to sync', async () => {
    const refusal = await check();
    expect(refusal).toMatchObject({ code: 'not-synced' });
    expect(refusalText(refusal!)).toBe(
      `Version ${V} is not in the consumer's publish dir ${consumerDir} yet. ` +
        `Sync it, e.g. \`rsync -a ${publisherDir}/${V}/ ${consumerDir}/${V}/\`, then try again.`,
    );
  });

  it('names missing and different files of the stage', async () => {
    copyVersion(publisherDir, consumerDir, V);
    fs.rmSync(path.join(consumerDir, V, `${GEO}.Zip.meta`), { recursive: true });
    writeVersionFile(consumerDir, V, `${GEO}.County.csv`, 'x\n');
    const refusal = await check();
    expect(refusal).toMatchObject({ code: 'sync-differs' });
    const countyBytes = fs.statSync(path.join(publisherDir, V, `${GEO}.County.csv`)).size;
    expect(refusalText(refusal!)).toContain(
      `does not match what was published for ${GEO}: ${GEO}.County.csv is 2 bytes, published ${countyBytes}, ${GEO}.Zip.meta missing.`,
    );
    expect(refusalText(refusal!)).toContain(`rsync -a ${publisherDir}/${V}/ ${consumerDir}/${V}/`);
  });

  it('ignores differences in other stages', async () => {
    copyVersion(publisherDir, consumerDir, V);
    fs.rmSync(path.join(consumerDir, V, `${CMS}.Provider.csv`), { recursive: true });
    expect(await check(GEO)).toBeNull();
    expect(refusalText((await check(CMS))!)).toContain(`${CMS}.Provider.csv missing`);
  });

  it('caps a long list of differences', async () => {
    fs.mkdirSync(path.join(consumerDir, V));
    writeVersionFile(consumerDir, V, 'com.acme.geo.Unrelated.csv', 'x\n');
    const refusal = await check();
    // 2 modules × 3 outputs (csv, schema, meta) missing: 5 named, 1 more.
    expect(refusalText(refusal!)).toMatch(/: (\S+ missing, ){4}\S+ missing and 1 more\./);
  });

  it('refuses a copy that is still being written', async () => {
    copyVersion(publisherDir, consumerDir, V);
    fs.mkdirSync(path.join(consumerDir, V, `${GEO}.Zip.csv`, '_temporary'));
    const refusal = await check();
    expect(refusal).toMatchObject({ code: 'sync-differs' });
    expect(refusalText(refusal!)).toContain(`${GEO}.Zip.csv incomplete`);
  });

  it('refuses a copy that matches but has not settled', async () => {
    copyVersion(publisherDir, consumerDir, V);
    const published = (await scanVersion(publisherDir, V, opts))!;
    const copy = (await scanVersion(consumerDir, V, { ...opts, now: published.lastChangeMs + 5_000 }))!;
    const refusal = checkConsumerSync(published, copy, GEO, consumerDir, publisherDir);
    expect(refusal).toMatchObject({ code: 'sync-incomplete' });
    expect(refusalText(refusal!)).toContain('is not complete yet: changed 5s ago (settleSeconds 30). Wait for the sync');
  });
});
