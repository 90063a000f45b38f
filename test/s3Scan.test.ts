// A first scan of an S3 publish dir (issue 27, "Cost"): the versions to read come from one
// key-ordered listing of the whole prefix, not one listing per version, and read exactly as
// version-by-version listings read them. Against moto's server, requests counted at the client.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scanSource, type PublishSource } from '../src/core/publishSource.ts';
import { treeSource } from '../src/infra/publish/remote/treeSource.ts';
import { S3Tree, createS3Client } from '../src/infra/publish/s3/s3Tree.ts';
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
  await moto.putMany(BUCKET, objects);
}, 120_000);
afterAll(async () => {
  await moto?.stop();
});

/** The S3 source, and how many requests its client sent. */
function source(): { source: PublishSource; requests: () => number } {
  const client = createS3Client({ endpoint: moto.endpoint, region: MOTO_REGION, timeoutSeconds: 10, credentials: MOTO_CREDENTIALS });
  let requests = 0;
  client.middlewareStack.add((next) => (args) => (requests++, next(args)), { step: 'finalizeRequest' });
  return { source: treeSource(new S3Tree({ bucket: BUCKET, prefix: 'publish' }, client, { timeoutSeconds: 10 })), requests: () => requests };
}

describe('a first scan of an S3 publish dir', () => {
  it('reads 42 versions from one listing of the prefix, exactly as one listing per version reads them', async () => {
    const many = source();
    const opts = { stages: [GEO], settleSeconds: 0, columns: false };
    const once = await scanSource(many.source, opts);
    // One by one: the same source without describeMany.
    const single = source();
    const s = single.source;
    const oneByOne = await scanSource({ where: s.where, listVersions: (f) => s.listVersions(f), describeVersion: (v, o) => s.describeVersion(v, o) }, opts);

    expect(once.versions).toEqual(oneByOne.versions);
    expect(once.versions).toHaveLength(42);
    expect(once.versions.filter((v) => v.complete)).toHaveLength(40);
    expect(once.versions.find((v) => v.version === 'TCD.20160902.geo')?.complete).toBe(false);
    // The root listing (one page) and one listing of every key (84 + 2 + 3 keys: one page).
    expect(many.requests()).toBe(2);
    expect(single.requests()).toBe(43);
  });
});
