import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { diffColumns, diffVersions, normalizeType } from '../src/domain/schemaDiff.ts';
import type { PublishedVersion } from '../src/domain/types.ts';
import { scanVersion } from '../src/infra/publishScanner.ts';
import { makeTempDir, removeDir, writeVersion } from './support/publishFixtures.ts';

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
