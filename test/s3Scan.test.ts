// A first scan of an S3 publish dir (issue 27, "Cost"): the versions to read come from one
// key-ordered listing of the whole prefix, not one listing per version, and read exactly as
// version-by-version listings read them. Against moto's server, requests counted at the client.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scanSource, type PublishSource } from '../src/core/publishSource.ts';
import { treeSource } from '../src/infra/publish/remote/treeSource.ts';
import { S3Tree, createS3Client } from '../src/infra/publish/s3/s3Tree.ts';
import { ScanAndAnnounce } from '../src/core/scanAndAnnounce.ts';
import { tempStates } from './support/tempState.ts';
import { MOTO_CREDENTIALS, MOTO_REGION, startMoto, type Moto } from '../dev/world/moto.ts';

const GEO = 'com.acme.geo';
const BUCKET = 'scan-bucket';
let moto: Moto;

beforeAll(async () => {
  moto = await startMoto();
  await moto.createBucket(BUCKET);
  const objects: { key: string; body?: string }[] = [];
  for (let i = 0; i < 40; i++) {
    const v = `TCD.201608${String(i).padStart(2, '0')}.geo`;
    objects.push({ key: `publish/${v}/${GEO}.Zip.csv/part-00000`, body: 'id,amt\n1,2\n' }, { key: `publish/${v}/${GEO}.Zip.csv/_SUCCESS`, body: '' });
  }
  // Still writing: no _SUCCESS yet, and a Spark _temporary tree.
  objects.push({ key: `publish/TCD.20160901.geo/${GEO}.Zip.csv/part-00000`, body: 'id\n' });
  objects.push({ key: `publish/TCD.20160902.geo/${GEO}.Zip.csv/_temporary/0/part-00000`, body: 'id\n' }, { key: `publish/TCD.20160902.geo/${GEO}.Zip.csv/_SUCCESS`, body: '' });
  // Another publish dir: 12 versions (2 keys each) among things that are not versions.
  for (let i = 0; i < 12; i++) {
    const v = `TCD.201701${String(i + 1).padStart(2, '0')}.geo`;
    objects.push({ key: `mixed/${v}/${GEO}.Zip.csv/part-00000`, body: 'id,amt\n1,2\n' }, { key: `mixed/${v}/${GEO}.Zip.csv/_SUCCESS`, body: '' });
  }
  objects.push(
    { key: 'mixed/README.txt', body: 'not a version' },
    { key: 'mixed/_logs/run.log', body: 'hidden' },
    { key: 'mixed/bad name/x.csv/part-00000', body: 'invalid name' },
    // A key sorting between two versions' keys ('-' < '/'), and a file named like a version.
    { key: 'mixed/TCD.20170105.geo-old/readme', body: '' },
    { key: 'mixed/TCD.20170106.geo', body: 'a file, not a version' },
  );
  await moto.putMany(BUCKET, objects);
}, 120_000);
afterAll(async () => {
  await moto?.stop();
});

/** The S3 source, and how many requests its client sent; `failRequest` n makes the n-th request fail (AccessDenied). */
function source(prefix = 'publish', opts: { pageKeys?: number; failRequest?: number } = {}): { source: PublishSource; requests: () => number } {
  const client = createS3Client({ endpoint: moto.endpoint, region: MOTO_REGION, timeoutSeconds: 10, credentials: MOTO_CREDENTIALS });
  let requests = 0;
  client.middlewareStack.add((next) => (args) => (requests++, next(args)), { step: 'finalizeRequest' });
  client.middlewareStack.add(
    (next) => (args) => {
      if (requests + 1 === opts.failRequest) {
        requests++;
        throw Object.assign(new Error('Access Denied'), { name: 'AccessDenied', $metadata: { httpStatusCode: 403 } });
      }
      return next(args);
    },
    { step: 'initialize' },
  );
  const tree = new S3Tree({ bucket: BUCKET, prefix }, client, { timeoutSeconds: 10, ...(opts.pageKeys !== undefined && { pageKeys: opts.pageKeys }) });
  return { source: treeSource(tree), requests: () => requests };
}

/** The same source without describeMany and listAndDescribe: one listing per version. */
function oneByOne(s: PublishSource): PublishSource {
  return { where: s.where, listVersions: (f) => s.listVersions(f), describeVersion: (v, o) => s.describeVersion(v, o) };
}

describe('a first scan of an S3 publish dir', () => {
  it('reads 42 versions from one listing of the prefix, exactly as one listing per version reads them', async () => {
    const many = source();
    const opts = { stages: [GEO], settleSeconds: 0, columns: false };
    const once = await scanSource(many.source, opts);
    // One by one: the same source without describeMany.
    const single = source();
    const byVersion = await scanSource(oneByOne(single.source), opts);

    expect(once.versions).toEqual(byVersion.versions);
    expect(once.versions).toHaveLength(42);
    expect(once.versions.filter((v) => v.complete)).toHaveLength(40);
    expect(once.versions.find((v) => v.version === 'TCD.20160902.geo')?.complete).toBe(false);
    // The root listing (one page) and one listing of every key (84 + 2 + 3 keys: one page).
    expect(many.requests()).toBe(2);
    expect(single.requests()).toBe(43);
  });
});

describe('a first scan with nothing known (firstScan)', () => {
  const opts = { stages: [GEO], settleSeconds: 0, columns: false, firstScan: true };

  it('lists and reads every version from the one listing of every key: no listing of the version prefixes before it', async () => {
    // Versions the caller knows are not read: here none.
    const told: string[] = [];
    const flat = source('mixed', { pageKeys: 5 });
    const once = await scanSource(flat.source, { ...opts, listed: (name) => (told.push(name), false) });
    const single = source('mixed', { pageKeys: 5 });
    const byVersion = await scanSource(oneByOne(single.source), opts);

    expect(once.versions).toEqual(byVersion.versions);
    const twelve = Array.from({ length: 12 }, (_, i) => `TCD.201701${String(i + 1).padStart(2, '0')}.geo`);
    // `…geo-old` is a version too (holding no module output: not complete), read between two others.
    expect(once.versions.map((v) => v.version)).toEqual([...twelve.slice(0, 5), 'TCD.20170105.geo-old', ...twelve.slice(5)]);
    expect(once.versions.filter((v) => v.complete).map((v) => v.version)).toEqual(twelve);
    // Told each version once, as a listing of the prefixes tells them; the files and the hidden dir are no versions.
    expect([...told].sort()).toEqual(once.versions.map((v) => v.version).sort());
    expect(once.problems).toEqual(byVersion.problems);
    expect(once.problems).toEqual(['ignored s3://scan-bucket/mixed/bad name: "bad name" is not a valid version name']);
    expect(once.listedAll).toBe(true);
    // 12 × 2 + 5 keys, 5 a page: 6 requests, and nothing else.
    expect(flat.requests()).toBe(6);
  });

  it('reads what it has when the listing fails part-way: listedAll false, the version it was reading read alone', async () => {
    const failing = source('mixed', { pageKeys: 5, failRequest: 2 });
    const result = await scanSource(failing.source, opts);

    expect(result.listedAll).toBe(false);
    expect(result.troubles.map((t) => t.kind)).toEqual(['permission']);
    // Page 1 (5 keys) held TCD.20170101.geo whole and TCD.20170102.geo in part; page 2 failed.
    expect(result.versions.map((v) => [v.version, v.complete])).toEqual([
      ['TCD.20170101.geo', true],
      ['TCD.20170102.geo', true],
    ]);
  });

  it('is a listing of the version prefixes as before where versions are known', async () => {
    const known = source('mixed', { pageKeys: 5 });
    const result = await scanSource(known.source, { ...opts, firstScan: false, listed: () => true });
    expect(result.versions).toEqual([]);
    // Delimited: 12 versions + 3 other prefixes + 2 files, 5 a page.
    expect(known.requests()).toBe(4);
  });
});

describe("the bot's scans of an S3 publish dir", () => {
  const temp = tempStates();

  it('a first start reads the history from the one listing of every key; the next scan lists the version prefixes alone', async () => {
    const { state } = await temp.open();
    const s3 = source('mixed', { pageKeys: 5 });
    const scanner = new ScanAndAnnounce({
      publishers: [{ name: 'public-data', publishDir: 's3://scan-bucket/mixed', stages: [GEO], channels: ['C0ANNOUNCE'], settleSeconds: 0 }],
      sources: () => s3.source,
      state,
      announce: async () => ({ ts: '1700000000.000100' }),
    });
    expect(await scanner.trigger()).toMatchObject({ recorded: 12, announced: 0 });
    // 29 keys, 5 a page.
    expect(s3.requests()).toBe(6);
    expect(await scanner.trigger()).toMatchObject({ recorded: 0, announced: 0 });
    // 17 prefixes and files at the top, 5 a page, and the one version not complete read again (its own listing).
    expect(s3.requests()).toBe(6 + 4 + 1);
  });
});
