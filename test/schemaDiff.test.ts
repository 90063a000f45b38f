import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { classifyDiff, diffColumns, diffVersions, isWidening, normalizeType, type VersionDiff } from '../src/domain/schemaDiff.ts';
import type { PublishedVersion } from '../src/domain/types.ts';
import { scanVersion } from '../src/infra/publish/publishScanner.ts';
import { makeTempDir, removeDir, writeVersion } from '../dev/world/publishFixtures.ts';

const GEO = 'com.acme.geo';
const CMS = 'com.acme.cms';

let publishDir: string;
beforeEach(() => {
  publishDir = makeTempDir('smvbot-diff-test-');
});
afterEach(() => removeDir(publishDir));

async function scan(version: string): Promise<PublishedVersion> {
  return (await scanVersion(publishDir, version, { stages: [GEO, CMS], settleSeconds: 0 }))!;
}

describe('diffVersions over published trees', () => {
  it('reports modules added/removed and columns added/removed/retyped for the stage only', async () => {
    writeVersion(publishDir, 'TCD.20160801', [
      {
        fqn: `${GEO}.Zip`,
        columns: [
          { name: 'zip', type: 'String' },
          { name: 'pop', type: 'Integer' },
          { name: 'fips', type: 'String' },
        ],
      },
      { fqn: `${GEO}.County`, columns: [{ name: 'county', type: 'String' }] },
      { fqn: `${GEO}.Legacy` },
      { fqn: `${CMS}.Provider` },
    ]);
    writeVersion(publishDir, 'TCD.20160802', [
      {
        fqn: `${GEO}.Zip`,
        columns: [
          { name: 'zip', type: 'String' },
          { name: 'pop', type: 'Long' },
          { name: 'lat', type: 'Double' },
        ],
      },
      // Same columns, but read from a .schema file (SMV spelling) instead of .meta.
      { fqn: `${GEO}.County`, columns: [{ name: 'county', type: 'String' }], metaStyle: 'none' },
      { fqn: `${GEO}.State` },
      { fqn: `${CMS}.Claims` },
    ]);

    const diff = diffVersions(GEO, await scan('TCD.20160801'), await scan('TCD.20160802'));
    expect(diff).toEqual({
      stage: GEO,
      from: 'TCD.20160801',
      to: 'TCD.20160802',
      fromHasStage: true,
      toHasStage: true,
      modulesAdded: [`${GEO}.State`],
      modulesRemoved: [`${GEO}.Legacy`],
      modulesChanged: [
        {
          fqn: `${GEO}.Zip`,
          added: [{ name: 'lat', type: 'Double' }],
          removed: [{ name: 'fips', type: 'String' }],
          retyped: [{ name: 'pop', from: 'Integer', to: 'Long' }],
        },
      ],
      modulesUnchanged: [`${GEO}.County`],
      columnsUnknown: [],
      columnsUnknownWhy: [],
      identical: false,
    });
  });

  it('says identical when nothing changed', async () => {
    for (const v of ['a1', 'a2']) writeVersion(publishDir, v, [{ fqn: `${GEO}.Zip` }, { fqn: `${GEO}.County` }]);
    const diff = diffVersions(GEO, await scan('a1'), await scan('a2'));
    expect(diff.identical).toBe(true);
    expect(diff.modulesUnchanged).toEqual([`${GEO}.County`, `${GEO}.Zip`]);
  });

  it('flags modules whose columns cannot be read instead of calling them unchanged', async () => {
    writeVersion(publishDir, 'a1', [{ fqn: `${GEO}.Zip` }]);
    writeVersion(publishDir, 'a2', [{ fqn: `${GEO}.Zip`, metaStyle: 'none', schema: false }]);
    const diff = diffVersions(GEO, await scan('a1'), await scan('a2'));
    expect(diff.columnsUnknown).toEqual([`${GEO}.Zip`]);
    expect(diff.modulesUnchanged).toEqual([]);
    expect(diff.identical).toBe(false);
  });

  it('tells when a version does not hold the stage', async () => {
    writeVersion(publishDir, 'cms1', [{ fqn: `${CMS}.Provider` }]);
    writeVersion(publishDir, 'geo1', [{ fqn: `${GEO}.Zip` }]);
    const diff = diffVersions(GEO, await scan('cms1'), await scan('geo1'));
    expect(diff).toMatchObject({ fromHasStage: false, toHasStage: true, modulesAdded: [`${GEO}.Zip`], modulesRemoved: [] });
  });
});

describe('column comparison', () => {
  it.each([
    ['String', 'string', false],
    ['Decimal[10,2]', 'decimal(10, 2)', false],
    ['Integer', 'integer', false],
    ['Integer', 'Long', true],
    ['Decimal[10,2]', 'Decimal[12,2]', true],
  ])('%s → %s is a retype: %s', (from, to, retyped) => {
    expect(normalizeType(from) !== normalizeType(to)).toBe(retyped);
    const diff = diffColumns('m', [{ name: 'c', type: from }], [{ name: 'c', type: to }]);
    expect(diff.retyped.length > 0).toBe(retyped);
  });
});

describe('change classes (SPEC §4: none, compatible, breaking)', () => {
  const col = (name: string, type: string) => ({ name, type });
  const diffOf = (overrides: Partial<VersionDiff>): VersionDiff => ({
    stage: 'com.acme.geo',
    from: 'v1',
    to: 'v2',
    fromHasStage: true,
    toHasStage: true,
    modulesAdded: [],
    modulesRemoved: [],
    modulesChanged: [],
    modulesUnchanged: [],
    columnsUnknown: [],
    columnsUnknownWhy: [],
    identical: false,
    ...overrides,
  });

  it.each([
    ['int', 'long', true],
    ['Integer', 'Long', true],
    ['integer', 'bigint', true],
    ['short', 'int', true],
    ['float', 'double', true],
    ['Float', 'Double', true],
    ['decimal(10,2)', 'decimal(12,2)', true],
    ['Decimal[10,2]', 'decimal(18,2)', true],
    ['string', 'String', true],
    ['long', 'int', false],
    ['double', 'float', false],
    ['int', 'double', false],
    ['decimal(10,2)', 'decimal(12,3)', false],
    ['decimal(12,2)', 'decimal(10,2)', false],
    ['int', 'string', false],
    ['string', 'int', false],
  ])('%s → %s widens: %s', (from, to, widens) => {
    expect(isWidening(from, to)).toBe(widens);
  });

  it('identical versions: none', () => {
    expect(classifyDiff(diffOf({ identical: true, modulesUnchanged: ['com.acme.geo.Zip'] }))).toEqual({ class: 'none', reasons: [], unknown: 0 });
  });

  it('additions and widenings only: compatible, each named', () => {
    const result = classifyDiff(
      diffOf({
        modulesAdded: ['com.acme.geo.County'],
        modulesChanged: [{ fqn: 'com.acme.geo.Zip', added: [col('pop', 'long')], removed: [], retyped: [{ name: 'n', from: 'int', to: 'long' }] }],
      }),
    );
    expect(result.class).toBe('compatible');
    expect(result.reasons).toEqual(['module com.acme.geo.County added', 'com.acme.geo.Zip: column n int → long', 'com.acme.geo.Zip: column pop (long) added']);
  });

  it('a removed module, a removed column or a narrowing retype: breaking, listed before the compatible changes', () => {
    const result = classifyDiff(
      diffOf({
        modulesAdded: ['com.acme.geo.County'],
        modulesRemoved: ['com.acme.geo.Old'],
        modulesChanged: [
          { fqn: 'com.acme.geo.Zip', added: [], removed: [col('zip4', 'string')], retyped: [{ name: 'amt', from: 'double', to: 'float' }] },
        ],
      }),
    );
    expect(result.class).toBe('breaking');
    expect(result.reasons.slice(0, 3)).toEqual(['module com.acme.geo.Old removed', 'com.acme.geo.Zip: column zip4 removed', 'com.acme.geo.Zip: column amt double → float']);
    expect(result.reasons.at(-1)).toBe('module com.acme.geo.County added');
  });
});

describe('change classes from the files SMV writes: Scala .meta, Python .meta, .schema only', () => {
  const cols = (...pairs: [string, string][]) => pairs.map(([name, type]) => ({ name, type }));
  it.each([
    ['scala', 'scala'],
    ['python', 'python'],
    ['scala', 'python'],
    ['none', 'python'],
  ] as const)('%s → %s .meta: same columns none, an added one compatible, a widening compatible, a narrowing or removal breaking', async (fromStyle, toStyle) => {
    const base = cols(['zip', 'String'], ['pop', 'Integer'], ['amt', 'Double']);
    writeVersion(publishDir, 'v0', [{ fqn: `${GEO}.Zip`, columns: base, metaStyle: fromStyle }]);
    writeVersion(publishDir, 'v-same', [{ fqn: `${GEO}.Zip`, columns: base, metaStyle: toStyle }]);
    writeVersion(publishDir, 'v-added', [{ fqn: `${GEO}.Zip`, columns: [...base, { name: 'lat', type: 'Double' }], metaStyle: toStyle }]);
    writeVersion(publishDir, 'v-wider', [{ fqn: `${GEO}.Zip`, columns: cols(['zip', 'String'], ['pop', 'Long'], ['amt', 'Double']), metaStyle: toStyle }]);
    writeVersion(publishDir, 'v-narrower', [{ fqn: `${GEO}.Zip`, columns: cols(['zip', 'String'], ['pop', 'Integer'], ['amt', 'Float']), metaStyle: toStyle }]);
    writeVersion(publishDir, 'v-removed', [{ fqn: `${GEO}.Zip`, columns: cols(['zip', 'String'], ['pop', 'Integer']), metaStyle: toStyle }]);
    const from = await scan('v0');
    const classOf = async (v: string) => classifyDiff(diffVersions(GEO, from, await scan(v))).class;
    expect(await classOf('v-same')).toBe('none');
    expect(await classOf('v-added')).toBe('compatible');
    expect(await classOf('v-wider')).toBe('compatible');
    expect(await classOf('v-narrower')).toBe('breaking');
    expect(await classOf('v-removed')).toBe('breaking');
  });
});
