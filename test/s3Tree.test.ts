// The S3 store tree against a real S3 API (moto's server): delimited and flat listings, paging
// past 1,000 keys, implied and marker dirs, bounded reads, error kinds, timeouts, and no secret
// in any error.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { S3ServiceException, type S3Client } from '@aws-sdk/client-s3';
import { S3Tree, createS3Client, parseS3Url, redactCredentials, s3ErrorKind, s3StoreError } from '../src/infra/publish/s3/s3Tree.ts';
import { StoreError, type StoreItem, type StoreTree, type WalkBudget } from '../src/infra/publish/remote/storeTree.ts';
import { MOTO_CREDENTIALS, MOTO_REGION, startMoto, type Moto } from '../dev/world/moto.ts';
import { startBlackHole } from './support/remotes.ts';

/** A secret access key of AWS's shape (40 characters) that must never reach an error message. */
const SECRET = 'Zq9sEcReT/nEvErShOwN+x7Kp2LmQw8RtYvB3nD0';
const BIG_BUDGET: WalkBudget = { maxEntries: 100_000, maxDepth: 16 };


async function collect(pages: AsyncIterable<StoreItem[]>): Promise<StoreItem[][]> {
  const out: StoreItem[][] = [];
  for await (const page of pages) out.push(page);
  return out;
}

async function items(pages: AsyncIterable<StoreItem[]>): Promise<StoreItem[]> {
  return (await collect(pages)).flat();
}

/**
 * The StoreError `run` fails with. Every client here signs with SECRET (moto takes any secret
 * while its IAM checks are off): whatever the kind, the message never holds it.
 */
async function failure(run: () => Promise<unknown>): Promise<StoreError> {
  try {
    await run();
  } catch (err) {
    expect(err).toBeInstanceOf(StoreError);
    expect((err as StoreError).message).not.toContain(SECRET);
    return err as StoreError;
  }
  throw new Error('expected a StoreError, got success');
}

interface Sent {
  method: string;
  path: string;
  query: Record<string, unknown>;
  range?: string;
}

/** Records every HTTP request the client sends (each attempt). */
function recordRequests(client: S3Client): Sent[] {
  const sent: Sent[] = [];
  client.middlewareStack.add(
    (next) => async (args) => {
      const req = args.request as { method?: string; path?: string; query?: Record<string, unknown>; headers?: Record<string, string> };
      const range = req.headers?.['range'] ?? req.headers?.['Range'];
      sent.push({ method: req.method ?? '', path: req.path ?? '', query: req.query ?? {}, ...(range !== undefined ? { range } : {}) });
      return next(args);
    },
    { step: 'finalizeRequest', name: 'recordRequests', override: true },
  );
  return sent;
}

const byPath = (a: StoreItem, b: StoreItem) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0);

describe('S3Tree on moto', () => {
  let moto: Moto;
  let client: S3Client;
  let tree: StoreTree;
  let before = 0;
  let after = 0;

  const treeAt = (url: string, opts: { pageKeys?: number; client?: S3Client } = {}): S3Tree => {
    const parsed = parseS3Url(url);
    if (!parsed.ok) throw new Error(parsed.problem);
    return new S3Tree(parsed, opts.client ?? client, { timeoutSeconds: 10, ...(opts.pageKeys !== undefined ? { pageKeys: opts.pageKeys } : {}) });
  };
  const newClient = (timeoutSeconds = 10) =>
    createS3Client({ endpoint: moto.endpoint, region: MOTO_REGION, timeoutSeconds, credentials: { accessKeyId: MOTO_CREDENTIALS.accessKeyId, secretAccessKey: SECRET } });

  beforeAll(async () => {
    moto = await startMoto();
    client = newClient();
    await moto.createBucket('smv-pub');
    before = Date.now();
    const v = 'team/publish/TCD.1';
    await moto.putMany('smv-pub', [
      { key: `${v}/com.acme.geo.Zip.csv/part-00000`, body: 'zip,city\n1,a\n' },
      { key: `${v}/com.acme.geo.Zip.csv/part-00001`, body: '2,b\n' },
      { key: `${v}/com.acme.geo.Zip.csv/_SUCCESS` },
      { key: `${v}/com.acme.geo.Zip.meta/part-00000`, body: '{"columns":[{"name":"zip","type":"string"}]}' },
      { key: `${v}/com.acme.geo.Zip.meta/_SUCCESS` },
      { key: `${v}/com.acme.geo.City.csv` , body: 'plain,file\n' },
      // Still writing: Spark's committer dirs, nested; an S3A magic dir; console-made folder markers.
      { key: 'team/publish/TCD.2/com.acme.geo.Zip.csv/_temporary/0/_temporary/attempt_1/part-00000', body: 'x' },
      { key: 'team/publish/TCD.2/com.acme.geo.Zip.csv/__magic/job-1/tasks/part-0.pending', body: 'y' },
      { key: 'team/publish/TCD.2/com.acme.geo.Pop.csv/' },
      { key: 'team/publish/TCD.2/_temporary/' },
      // Names XML cannot carry or that URL-encoding changes.
      { key: 'team/publish/TCD.3/a b+c%20d.csv', body: '1' },
      { key: 'team/publish/TCD.3/odd\u0001name.csv', body: '22' },
      { key: 'team/publish/TCD.3/ünï©ødé.csv', body: '333' },
      // A folder marker alone: an empty version that exists.
      { key: 'team/publish/EMPTY/' },
      // Beside the publish dir, sharing its name's start: never listed.
      { key: 'team/publish-old/TCD.0/x.csv', body: 'no' },
    ]);
    await moto.put('smv-pub', 'big/TCD.9/huge.csv', Buffer.alloc(20 * 1024 * 1024, 0x61));
    after = Date.now();
    tree = treeAt('s3://smv-pub/team/publish/');
  }, 120_000);

  afterAll(async () => {
    client?.destroy();
    await moto?.stop();
  });

  it('lists a prefix with a delimiter: sub-prefixes as dirs (mtime 0), keys as files with size and LastModified', async () => {
    expect(tree.where).toBe('s3://smv-pub/team/publish');
    const top = (await items(tree.list(''))).sort(byPath);
    expect(top).toEqual(['EMPTY', 'TCD.1', 'TCD.2', 'TCD.3'].map((path) => ({ path, kind: 'dir', size: 0, mtimeMs: 0 })));

    const v1 = (await items(tree.list('TCD.1'))).sort(byPath);
    expect(v1.map((i) => [i.path, i.kind, i.size])).toEqual([
      ['com.acme.geo.City.csv', 'file', 11],
      ['com.acme.geo.Zip.csv', 'dir', 0],
      ['com.acme.geo.Zip.meta', 'dir', 0],
    ]);
    const file = v1[0]!;
    // moto stamps LastModified itself (whole seconds): within the arranging window.
    expect(file.mtimeMs).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000);
    expect(file.mtimeMs).toBeLessThanOrEqual(after + 1000);

    const zip = (await items(tree.list('TCD.1/com.acme.geo.Zip.csv'))).sort(byPath);
    expect(zip.map((i) => [i.path, i.kind, i.size])).toEqual([
      ['_SUCCESS', 'file', 0],
      ['part-00000', 'file', 13],
      ['part-00001', 'file', 4],
    ]);
  });

  it('lists a dir holding only its folder marker as empty, and keys whose names need URL-encoding exactly', async () => {
    expect(await items(tree.list('EMPTY'))).toEqual([]);
    const v3 = (await items(tree.list('TCD.3'))).map((i) => [i.path, i.size]).sort();
    expect(v3).toEqual([
      ['a b+c%20d.csv', 1],
      ['odd\u0001name.csv', 2],
      ['ünï©ødé.csv', 3],
    ]);
  });

  it('walks a version: every file, each implied dir once, _temporary and __magic prefixes and marker keys as dirs', async () => {
    const walked = await items(tree.walk('TCD.2', BIG_BUDGET));
    const paths = walked.map((i) => i.path);
    expect(new Set(paths).size).toBe(paths.length);
    expect(walked.sort(byPath).map((i) => [i.path, i.kind, i.size])).toEqual([
      ['_temporary', 'dir', 0],
      ['com.acme.geo.Pop.csv', 'dir', 0],
      ['com.acme.geo.Zip.csv', 'dir', 0],
      ['com.acme.geo.Zip.csv/__magic', 'dir', 0],
      ['com.acme.geo.Zip.csv/__magic/job-1', 'dir', 0],
      ['com.acme.geo.Zip.csv/__magic/job-1/tasks', 'dir', 0],
      ['com.acme.geo.Zip.csv/__magic/job-1/tasks/part-0.pending', 'file', 1],
      ['com.acme.geo.Zip.csv/_temporary', 'dir', 0],
      ['com.acme.geo.Zip.csv/_temporary/0', 'dir', 0],
      ['com.acme.geo.Zip.csv/_temporary/0/_temporary', 'dir', 0],
      ['com.acme.geo.Zip.csv/_temporary/0/_temporary/attempt_1', 'dir', 0],
      ['com.acme.geo.Zip.csv/_temporary/0/_temporary/attempt_1/part-00000', 'file', 1],
    ]);
    // A marker key is an object: its LastModified is the dir's change time; an implied dir has none.
    const marker = walked.find((i) => i.path === '_temporary')!;
    expect(marker.mtimeMs).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000);
    expect(marker.mtimeMs).toBeLessThanOrEqual(after + 1000);
    expect(walked.find((i) => i.path === 'com.acme.geo.Zip.csv')!.mtimeMs).toBe(0);

    expect(await items(tree.walk('EMPTY', BIG_BUDGET))).toEqual([]);
  });

  it('walks within its budget: depth levels by the path, and no more items than maxEntries', async () => {
    const shallow = await items(tree.walk('TCD.2', { maxEntries: 100, maxDepth: 1 }));
    expect(shallow.map((i) => i.path).sort()).toEqual([
      '_temporary',
      'com.acme.geo.Pop.csv',
      'com.acme.geo.Zip.csv',
      'com.acme.geo.Zip.csv/__magic',
      'com.acme.geo.Zip.csv/_temporary',
    ]);
    const top = await items(tree.walk('TCD.1', { maxEntries: 100, maxDepth: 0 }));
    expect(top.map((i) => i.path).sort()).toEqual(['com.acme.geo.City.csv', 'com.acme.geo.Zip.csv', 'com.acme.geo.Zip.meta']);

    const capped = await items(tree.walk('', { maxEntries: 7, maxDepth: 16 }));
    expect(capped).toHaveLength(7);
  });

  it('reads a small object whole, and an empty one without fetching it', async () => {
    const sent = recordRequests(client);
    const text = await tree.read('TCD.1/com.acme.geo.Zip.meta/part-00000', 1024);
    expect(text.toString()).toBe('{"columns":[{"name":"zip","type":"string"}]}');
    // Exactly at the cap is fine.
    expect((await tree.read('TCD.1/com.acme.geo.Zip.csv/part-00000', 13)).toString()).toBe('zip,city\n1,a\n');
    expect(sent.filter((s) => s.method === 'GET').map((s) => s.range)).toEqual(['bytes=0-1024', 'bytes=0-13']);
    sent.length = 0;
    expect((await tree.read('TCD.1/com.acme.geo.Zip.csv/_SUCCESS', 1024)).length).toBe(0);
    expect(sent.map((s) => s.method)).toEqual(['HEAD']);
  });

  it('refuses an object over the cap by its size: a 20 MB object is never fetched', async () => {
    const bigTree = treeAt('s3://smv-pub/big');
    const sent = recordRequests(client);
    const err = await failure(() => bigTree.read('TCD.9/huge.csv', 4 * 1024 * 1024));
    expect(err.kind).toBe('too-large');
    expect(err.message).toContain(String(20 * 1024 * 1024));
    expect(sent.map((s) => s.method)).toEqual(['HEAD']);
    expect((await failure(() => tree.read('TCD.1/com.acme.geo.Zip.csv/part-00000', 12))).kind).toBe('too-large');
  });

  it('says not-found for a missing bucket, prefix, dir or key', async () => {
    const noBucket = treeAt('s3://no-such-bucket-here/x');
    expect((await failure(() => items(noBucket.list('')))).kind).toBe('not-found');
    expect((await failure(() => items(noBucket.walk('v', BIG_BUDGET)))).kind).toBe('not-found');
    expect((await failure(() => noBucket.read('v/a', 10))).kind).toBe('not-found');
    // S3 has no empty dirs: a prefix no key starts with is not there.
    expect((await failure(() => items(treeAt('s3://smv-pub/team/nothing').list('')))).kind).toBe('not-found');
    expect((await failure(() => items(tree.list('TCD.404')))).kind).toBe('not-found');
    expect((await failure(() => items(tree.walk('TCD.404', BIG_BUDGET)))).kind).toBe('not-found');
    expect((await failure(() => tree.read('TCD.1/nope.csv', 10))).kind).toBe('not-found');
    // A name that is only the start of other keys' names is not a dir.
    expect((await failure(() => items(tree.list('TCD')))).kind).toBe('not-found');
  });

  describe('past 1,000 keys', () => {
    beforeAll(async () => {
      await moto.createBucket('smv-many');
      const objects: { key: string; body?: string }[] = [];
      for (let i = 0; i < 2500; i++) objects.push({ key: `p/V.${String(i).padStart(4, '0')}/_SUCCESS` });
      for (let i = 0; i < 1100; i++) objects.push({ key: `p/BIG/m.csv/part-${String(i).padStart(5, '0')}`, body: 'r' });
      await moto.putMany('smv-many', objects, 12);
    }, 300_000);

    it('lists 2,500 version prefixes across pages, each once', async () => {
      const pages = await collect(treeAt('s3://smv-many/p').list(''));
      expect(pages.length).toBeGreaterThanOrEqual(3);
      const names = pages.flat().map((i) => i.path);
      expect(names).toHaveLength(2501);
      expect(new Set(names).size).toBe(2501);
      expect(names).toContain('V.0000');
      expect(names).toContain('V.2499');
      expect(names).toContain('BIG');
    });

    it('lists and walks a version of 1,100 objects across pages, each once', async () => {
      const many = treeAt('s3://smv-many/p');
      const listed = await items(many.list('BIG/m.csv'));
      expect(listed).toHaveLength(1100);
      expect(new Set(listed.map((i) => i.path)).size).toBe(1100);
      const walked = await items(many.walk('BIG', BIG_BUDGET));
      expect(walked).toHaveLength(1101);
      expect(new Set(walked.map((i) => i.path)).size).toBe(1101);
      expect(walked.filter((i) => i.kind === 'dir').map((i) => i.path)).toEqual(['m.csv']);
    });

    it('skips a run of too-deep keys by listing on after it, not by paging through it', async () => {
      await moto.putMany('smv-many', [
        ...Array.from({ length: 50 }, (_, i) => ({ key: `d/v/a/b/c/part-${String(i).padStart(3, '0')}` })),
        { key: 'd/v/a/z.csv', body: 'zz' },
        { key: 'd/v/b.csv', body: 'b' },
      ]);
      const sent = recordRequests(client);
      const deep = treeAt('s3://smv-many/d', { pageKeys: 10 });
      const walked = await items(deep.walk('v', { maxEntries: 100, maxDepth: 1 }));
      expect(walked.map((i) => [i.path, i.kind]).sort()).toEqual([
        ['a', 'dir'],
        ['a/b', 'dir'],
        ['a/z.csv', 'file'],
        ['b.csv', 'file'],
      ]);
      // Paging through would take 6 requests of 10 keys; skipping takes 2.
      const lists = sent.filter((s) => s.query['list-type'] === '2');
      expect(lists).toHaveLength(2);
      // And a full walk still sees every key once.
      expect(await items(deep.walk('v', BIG_BUDGET))).toHaveLength(50 + 2 + 3);
    });
  });

  it('maps errors moto gives when its IAM checks are on: unknown key and bad signature → auth, no permission → permission', async () => {
    const guarded = await startMoto();
    try {
      await guarded.createBucket('smv-locked');
      await guarded.put('smv-locked', 'p/V.1/x.csv', 'x');
      const reader = await guarded.createUser('reader');
      await guarded.enableAuth();
      const as = (accessKeyId: string, secretAccessKey: string, prefix = 'p') => {
        const c = createS3Client({ endpoint: guarded.endpoint, region: MOTO_REGION, timeoutSeconds: 10, credentials: { accessKeyId, secretAccessKey } });
        return { c, t: new S3Tree({ bucket: 'smv-locked', prefix }, c, { timeoutSeconds: 10 }) };
      };
      const unknown = as('AKIAUNKNOWNUNKNOWN00', SECRET);
      const badSecret = as(reader.accessKeyId, SECRET);
      // moto 5.2 checks a signature over a query holding '/' (%2F) wrongly, so the permission
      // case asks without one: a flat walk from the bucket's top, and a HEAD.
      const noPolicy = as(reader.accessKeyId, reader.secretAccessKey, '');
      try {
        expect((await failure(() => items(unknown.t.list('')))).kind).toBe('auth');
        const bad = await failure(() => items(badSecret.t.list('')));
        expect(bad.kind).toBe('auth');
        expect(bad.message).toContain('SignatureDoesNotMatch');
        const denied = await failure(() => items(noPolicy.t.walk('', BIG_BUDGET)));
        expect(denied.kind).toBe('permission');
        expect(denied.message).toContain('AccessDenied');
        expect(denied.message).not.toContain(reader.secretAccessKey);
        // A HEAD's 403 has no body, so no error code: the status says it.
        expect((await failure(() => noPolicy.t.read('p/V.1/x.csv', 10))).kind).toBe('permission');
      } finally {
        for (const { c } of [unknown, badSecret, noPolicy]) c.destroy();
      }
    } finally {
      await guarded.stop();
    }
  });

  it('gives up on an endpoint that accepts and never answers: timeout', async () => {
    const hole = await startBlackHole();
    const hung = createS3Client({
      endpoint: `http://127.0.0.1:${hole.port}`,
      region: MOTO_REGION,
      timeoutSeconds: 1,
      credentials: { accessKeyId: 'test', secretAccessKey: SECRET },
    });
    try {
      const stuck = new S3Tree({ bucket: 'smv-pub', prefix: 'team/publish' }, hung, { timeoutSeconds: 1 });
      expect((await failure(() => items(stuck.list('')))).kind).toBe('timeout');
      expect((await failure(() => stuck.read('TCD.1/a', 10))).kind).toBe('timeout');
      expect(hole.accepted).toBeGreaterThan(0);
    } finally {
      hung.destroy();
      await hole.stop();
    }
  });

  it('says unavailable when nothing listens at the endpoint', async () => {
    const refused = createS3Client({ endpoint: 'http://127.0.0.1:1', region: MOTO_REGION, timeoutSeconds: 1, credentials: { accessKeyId: 'test', secretAccessKey: SECRET } });
    try {
      const err = await failure(() => items(new S3Tree({ bucket: 'smv-pub', prefix: '' }, refused, { timeoutSeconds: 1 }).list('')));
      expect(err.kind).toBe('unavailable');
      expect(err.message).toMatch(/^s3:\/\/smv-pub: S3 /);
    } finally {
      refused.destroy();
    }
  });
});

describe('S3 error kinds', () => {
  const sdkError = (name: string, httpStatusCode?: number, message?: string) =>
    new S3ServiceException({ name, $fault: 'client', $metadata: httpStatusCode === undefined ? {} : { httpStatusCode }, ...(message !== undefined ? { message } : {}) });

  it('maps S3 error names and statuses to store error kinds', () => {
    const cases: [unknown, string][] = [
      [sdkError('NoSuchBucket', 404), 'not-found'],
      [sdkError('NoSuchKey', 404), 'not-found'],
      [sdkError('NotFound', 404), 'not-found'],
      [sdkError('AccessDenied', 403), 'permission'],
      [sdkError('Forbidden', 403), 'permission'],
      [sdkError('AllAccessDisabled', 403), 'permission'],
      [sdkError('InvalidAccessKeyId', 403), 'auth'],
      [sdkError('SignatureDoesNotMatch', 403), 'auth'],
      [sdkError('ExpiredToken', 400), 'auth'],
      [sdkError('InvalidToken', 400), 'auth'],
      [Object.assign(new Error('Could not load credentials from any providers'), { name: 'CredentialsProviderError' }), 'auth'],
      [sdkError('SlowDown', 503), 'throttled'],
      [sdkError('ServiceUnavailable', 503), 'throttled'],
      [sdkError('Unknown', 503), 'throttled'],
      [sdkError('TooManyRequests', 429), 'throttled'],
      [sdkError('RequestTimeout', 400), 'timeout'],
      [Object.assign(new Error('socket timed out'), { name: 'TimeoutError' }), 'timeout'],
      [Object.assign(new Error('connect ETIMEDOUT'), { code: 'ETIMEDOUT' }), 'timeout'],
      [sdkError('InternalError', 500), 'unavailable'],
      [Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9'), { code: 'ECONNREFUSED' }), 'unavailable'],
      [new Error('Region is missing'), 'unavailable'],
    ];
    for (const [err, kind] of cases) expect([(err as Error).name, s3ErrorKind(err)]).toEqual([(err as Error).name, kind]);
    const own = new StoreError('too-large', 'x');
    expect(s3StoreError(own, 's3://b/p')).toBe(own);
  });

  it('keeps signed URLs, key ids, secrets and tokens out of the message', () => {
    const token = 'IQoJb3JpZ2luX2VjEJr//////////wEaCXVzLWVhc3QtMSJHMEUCIQD' + 'A'.repeat(120);
    const err = sdkError(
      'AccessDenied',
      403,
      `Denied for https://smv-pub.s3.amazonaws.com/k?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20240101%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Signature=deadbeefcafe&X-Amz-Security-Token=${token} ` +
        `(key AKIAIOSFODNN7EXAMPLE, secret ${SECRET}, token ${token}, proxy http://user:pa55word@proxy:3128/)`,
    );
    const mapped = s3StoreError(err, 's3://smv-pub/team/publish');
    expect(mapped.kind).toBe('permission');
    expect(mapped.message).toMatch(/^s3:\/\/smv-pub\/team\/publish: S3 AccessDenied \(HTTP 403\): Denied for/);
    for (const secret of [SECRET, 'deadbeefcafe', 'AKIAIOSFODNN7EXAMPLE', token.slice(0, 60), 'pa55word']) {
      expect(mapped.message).not.toContain(secret);
    }
    expect(redactCredentials('nothing secret in s3://smv-pub/TCD.1/com.acme.geo.Zip.csv')).toBe('nothing secret in s3://smv-pub/TCD.1/com.acme.geo.Zip.csv');
  });
});

describe('parseS3Url', () => {
  it('reads bucket and prefix, dropping a trailing slash', () => {
    expect(parseS3Url('s3://smv-pub/team/publish')).toEqual({ ok: true, bucket: 'smv-pub', prefix: 'team/publish' });
    expect(parseS3Url('s3://smv-pub/team/publish/')).toEqual({ ok: true, bucket: 'smv-pub', prefix: 'team/publish' });
    expect(parseS3Url('s3://smv.pub-1')).toEqual({ ok: true, bucket: 'smv.pub-1', prefix: '' });
    expect(parseS3Url('s3://smv.pub-1/')).toEqual({ ok: true, bucket: 'smv.pub-1', prefix: '' });
    expect(parseS3Url('S3://abc/x y/ü')).toEqual({ ok: true, bucket: 'abc', prefix: 'x y/ü' });
  });

  it('refuses what S3 would not take, without echoing user info', () => {
    const bad = [
      '/srv/publish',
      'https://smv-pub.s3.amazonaws.com/p',
      's3://',
      's3:///p',
      's3://ab/p',
      's3://' + 'a'.repeat(64),
      's3://Smv-Pub/p',
      's3://smv_pub/p',
      's3://-smv/p',
      's3://smv-/p',
      's3://smv..pub/p',
      's3://192.168.1.10/p',
      's3://xn--smv/p',
      's3://smv-s3alias/p',
      's3://smv-pub//p',
      's3://smv-pub/a//b',
      's3://smv-pub/a/../b',
      's3://smv-pub/./b',
      's3://smv-pub/a\u0001b',
      's3://smv-pub/p?versionId=1',
      's3://smv-pub/p#frag',
    ];
    for (const url of bad) expect([url, parseS3Url(url).ok]).toEqual([url, false]);
    const withSecret = parseS3Url(`s3://AKIAX:${SECRET}@smv-pub/p`);
    expect(withSecret.ok).toBe(false);
    if (!withSecret.ok) expect(withSecret.problem).not.toContain(SECRET);
  });
});
