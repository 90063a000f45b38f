// The WebHDFS publish source against a real HDFS (MiniDFSCluster, dev/world/hdfs.ts), with
// small HTTP servers in front of it or instead of it where a real cluster cannot show the case:
// a standby NameNode, a server without LISTSTATUS_BATCH, connections reset or never answered.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inspectSourceVersion, scanSource, type PublishSource } from '../src/core/publishSource.ts';
import { StoreError } from '../src/infra/publish/remote/storeTree.ts';
import { webHdfsTree } from '../src/infra/publish/webhdfs/webhdfsTree.ts';
import { parseWebHdfsUrl } from '../src/infra/publish/webhdfs/webhdfsUrl.ts';
import { webHdfsSource, type WebHdfsSourceOptions } from '../src/infra/publish/webhdfs/webhdfsSource.ts';
import { inParallel, startMiniHdfs, type MiniHdfs } from '../dev/world/hdfs.ts';
import { metaDocument, schemaDocument } from '../dev/world/publishFixtures.ts';
import { startBlackHole } from './support/remotes.ts';

const GEO = 'com.acme.geo';
const STAGES = [GEO];
const ZIP = `${GEO}.Zip`;
const COLUMNS = [
  { name: 'zip', type: 'String' },
  { name: 'pop', type: 'Integer' },
];
const TOKEN = 'HAAEc21vdmJvdC1zZWNyZXQtZGVsZWdhdGlvbi10b2tlbg';
const HOUR = 3_600_000;

let hdfs: MiniHdfs;
let caseNo = 0;

beforeAll(async () => {
  hdfs = await startMiniHdfs({ lsLimit: 100 });
}, 240_000);

afterAll(async () => {
  await hdfs?.stop();
});

/** A fresh publish dir path for one test. */
function publishDir(): string {
  return `/t${++caseNo}/publish`;
}

interface Recorder {
  urls: URL[];
  fetch: (url: string, init: RequestInit) => Promise<Response>;
  ops(op: string): URL[];
}

function recorder(): Recorder {
  const urls: URL[] = [];
  return {
    urls,
    fetch: (url, init) => {
      urls.push(new URL(url));
      return fetch(url, init);
    },
    ops: (op) => urls.filter((u) => u.searchParams.get('op') === op),
  };
}

function source(dir: string, opts: WebHdfsSourceOptions = {}, hosts?: string): PublishSource {
  return webHdfsSource(`webhdfs://${hosts ?? hdfs.nameNode}${dir}`, { user: hdfs.superuser, retryDelayMs: 20, timeoutMs: 20_000, ...opts });
}

/** A Spark-style output dir: part files, then `_SUCCESS` when `done`. */
async function writeOutput(dir: string, parts: Record<string, string | Buffer>, done: boolean): Promise<void> {
  await hdfs.mkdirs(dir);
  for (const [name, data] of Object.entries(parts)) await hdfs.write(`${dir}/${name}`, data);
  if (done) await hdfs.write(`${dir}/_SUCCESS`, '');
}

const CSV = 'zip,pop\n10001,5\n';

describe('a version on HDFS', () => {
  it('written file by file is complete only once every output has _SUCCESS and nothing changed for settleSeconds', async () => {
    const dir = publishDir();
    const v = `${dir}/TCD.20160802.geo`;
    const meta = metaDocument(ZIP, COLUMNS);
    const schema = schemaDocument(COLUMNS);
    await writeOutput(`${v}/${ZIP}.csv`, { 'part-00000': CSV }, false);
    const src = source(dir);
    const opts = { stages: STAGES, settleSeconds: 30 };

    const first = await scanSource(src, { ...opts, now: Date.now() + HOUR });
    expect(first.listedAll).toBe(true);
    expect(first.troubles).toEqual([]);
    expect(first.versions.map((x) => x.version)).toEqual(['TCD.20160802.geo']);
    expect(first.versions[0]!.complete).toBe(false);
    expect(first.versions[0]!.incompleteReasons).toContain(`${ZIP}.csv has no _SUCCESS yet`);

    await writeOutput(`${v}/${ZIP}.meta`, { 'part-00000': meta }, true);
    await writeOutput(`${v}/${ZIP}.schema`, { 'part-00000': schema }, true);
    const second = await inspectSourceVersion(src, 'TCD.20160802.geo', { ...opts, now: Date.now() + HOUR });
    expect(second?.complete).toBe(false);
    expect(second?.incompleteReasons).toEqual([`${ZIP}.csv has no _SUCCESS yet`]);

    await hdfs.write(`${v}/${ZIP}.csv/_SUCCESS`, '');
    // Just written: all there, but still settling.
    const settling = await inspectSourceVersion(src, 'TCD.20160802.geo', { ...opts, now: Date.now() });
    expect(settling?.complete).toBe(false);
    expect(settling?.settling).toBe(true);
    expect(settling?.incompleteReasons.join()).toMatch(/settleSeconds 30/);

    // Every mtime set back, then one file touched: the newest mtime of anything below decides.
    const old = Date.now() - 10 * HOUR;
    for (const out of [`${ZIP}.csv`, `${ZIP}.meta`, `${ZIP}.schema`]) {
      for (const p of [`${v}/${out}/part-00000`, `${v}/${out}/_SUCCESS`, `${v}/${out}`]) await hdfs.setMtime(p, old);
    }
    await hdfs.setMtime(v, old);
    const touched = old + 5 * HOUR;
    await hdfs.setMtime(`${v}/${ZIP}.meta/part-00000`, touched);
    const justBefore = await inspectSourceVersion(src, 'TCD.20160802.geo', { ...opts, now: touched + 29_000 });
    expect(justBefore?.complete).toBe(false);
    const done = await inspectSourceVersion(src, 'TCD.20160802.geo', { ...opts, now: touched + 31_000 });
    expect(done?.complete).toBe(true);
    expect(done?.lastChangeMs).toBe(touched);
    expect(done?.stages).toEqual([GEO]);
    expect(done?.modules).toHaveLength(1);
    const zip = done!.modules[0]!;
    expect(zip.columns).toEqual(COLUMNS);
    // Data files only: `_SUCCESS` is not data.
    expect(zip.bytes).toBe(Buffer.byteLength(CSV) + Buffer.byteLength(meta) + Buffer.byteLength(schema));
  });

  it('lists dirs with valid version names only: hidden names skipped, invalid ones noted, files ignored', async () => {
    const dir = publishDir();
    for (const name of ['V1', 'V2', '_staging', '.hidden', '-bad']) await hdfs.mkdirs(`${dir}/${name}`);
    await hdfs.write(`${dir}/README`, 'not a version');
    const names: string[] = [];
    const outcome = await source(dir).listVersions((n) => names.push(n));
    expect(names).toEqual(['V1', 'V2']);
    expect(outcome.listedAll).toBe(true);
    expect(outcome.notes).toEqual([`ignored webhdfs://${hdfs.nameNode}${dir}/-bad: "-bad" is not a valid version name`]);
  });

  it('reads .schema only when .meta gives no columns, and reads .meta through the DataNode redirect', async () => {
    const dir = publishDir();
    const v = `${dir}/V1`;
    await writeOutput(`${v}/${ZIP}.csv`, { 'part-00000': CSV }, true);
    await writeOutput(`${v}/${ZIP}.meta`, { 'part-00000': '{"columns": ', 'part-00001': '[{"name":"zip","type":"String"}]}' }, true);
    await writeOutput(`${v}/${ZIP}.schema`, { 'part-00000': schemaDocument(COLUMNS) }, true);
    const rec = recorder();
    const found = await inspectSourceVersion(source(dir, { fetch: rec.fetch }), 'V1', { stages: STAGES, settleSeconds: 0 });
    // Part files concatenated in name order.
    expect(found?.modules[0]!.columns).toEqual([{ name: 'zip', type: 'String' }]);
    const opened = rec.ops('OPEN').map((u) => u.pathname);
    expect(opened.some((p) => p.endsWith(`${ZIP}.meta/part-00000`))).toBe(true);
    expect(opened.some((p) => p.includes('.schema'))).toBe(false);
    // Each OPEN went to the NameNode, then to the DataNode it named (another port).
    const hosts = new Set(rec.ops('OPEN').map((u) => u.host));
    expect(hosts.size).toBe(2);

    const noMetaColumns = `${dir}/V2`;
    await writeOutput(`${noMetaColumns}/${ZIP}.csv`, { 'part-00000': CSV }, true);
    await writeOutput(`${noMetaColumns}/${ZIP}.meta`, { 'part-00000': '{"fqn": "x"}' }, true);
    await writeOutput(`${noMetaColumns}/${ZIP}.schema`, { 'part-00000': schemaDocument(COLUMNS) }, true);
    const fromSchema = await inspectSourceVersion(source(dir), 'V2', { stages: STAGES, settleSeconds: 0 });
    expect(fromSchema?.modules[0]!.columns).toEqual(COLUMNS);
  });

  it('a missing version is undefined, a missing publish dir a not-found trouble with listedAll false', async () => {
    const dir = publishDir();
    await hdfs.mkdirs(dir);
    expect(await inspectSourceVersion(source(dir), 'V9', { stages: STAGES, settleSeconds: 0 })).toBeUndefined();
    const gone = await scanSource(source(`${dir}/nothing`), { stages: STAGES, settleSeconds: 0 });
    expect(gone.listedAll).toBe(false);
    expect(gone.troubles).toEqual([{ kind: 'not-found', detail: `publishDir webhdfs://${hdfs.nameNode}${dir}/nothing does not exist (yet)` }]);
  });
});

describe('still being written', () => {
  it('_temporary anywhere in an output, or at version level, keeps the version incomplete and out of the bytes', async () => {
    const dir = publishDir();
    const v = `${dir}/V1`;
    await writeOutput(`${v}/${ZIP}.csv`, { 'part-00000': CSV }, true);
    await hdfs.write(`${v}/${ZIP}.csv/_temporary/0/_temporary/attempt_1/part-00001`, 'x'.repeat(1000));
    const found = await inspectSourceVersion(source(dir), 'V1', { stages: STAGES, settleSeconds: 0 });
    expect(found?.complete).toBe(false);
    expect(found?.incompleteReasons).toEqual([`_temporary present in ${ZIP}.csv`]);
    expect(found?.modules[0]!.bytes).toBe(Buffer.byteLength(CSV));

    const nested = `${dir}/V2`;
    await writeOutput(`${nested}/${ZIP}.csv`, { 'part-00000': CSV }, true);
    await hdfs.mkdirs(`${nested}/${ZIP}.csv/year=2016/_temporary`);
    await hdfs.mkdirs(`${nested}/_temporary/0`);
    const both = await inspectSourceVersion(source(dir), 'V2', { stages: STAGES, settleSeconds: 0 });
    expect(both?.incompleteReasons.sort()).toEqual(['_temporary present at version level', `_temporary present in ${ZIP}.csv`]);
  });

  it("the S3A magic committer's __magic dirs count as still writing, at version level or inside an output", async () => {
    const dir = publishDir();
    await writeOutput(`${dir}/V1/${ZIP}.csv`, { 'part-00000': CSV }, true);
    await hdfs.write(`${dir}/V1/__magic/job-1/tasks/attempt-1/__base/${ZIP}.csv/part-00001.pending`, '{}');
    await writeOutput(`${dir}/V2/${ZIP}.csv`, { 'part-00000': CSV }, true);
    await hdfs.write(`${dir}/V2/${ZIP}.csv/__magic_job-42/part-00001.pendingset`, '{}');
    const scan = await scanSource(source(dir), { stages: STAGES, settleSeconds: 0 });
    const byName = new Map(scan.versions.map((x) => [x.version, x]));
    expect(byName.get('V1')?.complete).toBe(false);
    expect(byName.get('V1')?.incompleteReasons).toEqual(['_temporary present in __magic']);
    expect(byName.get('V2')?.complete).toBe(false);
    expect(byName.get('V2')?.incompleteReasons).toEqual([`_temporary present in ${ZIP}.csv`]);
    expect(byName.get('V2')?.modules[0]!.bytes).toBe(Buffer.byteLength(CSV));
  });
});

describe('listings past one page (dfs.ls.limit = 100)', () => {
  it('walks an output dir of 150 part files over several pages', async () => {
    const dir = publishDir();
    const out = `${dir}/V1/${ZIP}.csv`;
    await hdfs.mkdirs(out);
    const names = Array.from({ length: 150 }, (_, i) => `part-${String(i).padStart(5, '0')}`);
    // Empty part files cost no blocks; the first and the last hold data.
    await inParallel(names, 6, (name) => hdfs.write(`${out}/${name}`, name === 'part-00000' ? 'abcde' : name === 'part-00149' ? 'fghijkl' : ''));
    await hdfs.write(`${out}/_SUCCESS`, '');
    const rec = recorder();
    const found = await inspectSourceVersion(source(dir, { fetch: rec.fetch }), 'V1', { stages: STAGES, settleSeconds: 0 });
    expect(found?.incompleteReasons).toEqual([]);
    expect(found?.modules[0]!.bytes).toBe(12);
    const pages = rec.ops('LISTSTATUS_BATCH').filter((u) => u.pathname.endsWith('.csv'));
    expect(pages.length).toBe(2);
    expect(pages[1]!.searchParams.get('startAfter')).toBe('part-00098');
  });

  it('lists a publish dir of 1,050 versions to the end', async () => {
    const dir = publishDir();
    const versions = Array.from({ length: 1050 }, (_, i) => `V${String(i).padStart(4, '0')}`);
    await inParallel(versions, 8, (name) => hdfs.mkdirs(`${dir}/${name}`));
    const rec = recorder();
    const names: string[] = [];
    const outcome = await source(dir, { fetch: rec.fetch }).listVersions((n) => names.push(n));
    expect(outcome.troubles).toEqual([]);
    expect(outcome.listedAll).toBe(true);
    expect(names).toEqual(versions);
    expect(rec.ops('LISTSTATUS_BATCH').length).toBe(11);
    expect(rec.ops('LISTSTATUS')).toEqual([]);
  });
});

interface FakeServer {
  host: string;
  requests: string[];
  close(): Promise<void>;
}

/** An HTTP server answering with `handle`; `requests` are the ops asked for. */
async function fakeServer(handle: (req: http.IncomingMessage, res: http.ServerResponse, n: number) => void | Promise<void>): Promise<FakeServer> {
  const requests: string[] = [];
  const server = http.createServer((req, res) => {
    requests.push(new URL(req.url!, 'http://x').searchParams.get('op') ?? '');
    void Promise.resolve(handle(req, res, requests.length)).catch(() => res.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    host: `127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function remoteException(res: http.ServerResponse, status: number, exception: string, javaClassName: string, message: string): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ RemoteException: { exception, javaClassName, message } }));
}

/** Passes a request on to the MiniDFSCluster NameNode (redirects to its DataNode included), `op` rewritten when asked. */
async function forward(req: http.IncomingMessage, res: http.ServerResponse, rewrite?: (url: URL) => void): Promise<void> {
  const url = new URL(req.url!, `http://${hdfs.nameNode}`);
  rewrite?.(url);
  const answer = await fetch(url, { method: req.method, redirect: 'manual' });
  const headers: Record<string, string> = { 'content-type': answer.headers.get('content-type') ?? 'application/json' };
  const location = answer.headers.get('location');
  if (location !== null) headers.location = location;
  const body = Buffer.from(await answer.arrayBuffer());
  res.writeHead(answer.status, headers);
  res.end(body);
}

const STANDBY_MESSAGE = 'Operation category READ is not supported in state standby. Visit https://s.apache.org/sbnn-error';

describe('NameNodes, servers and connections', () => {
  it('skips a standby NameNode listed first and goes to the active one straight away next time', async () => {
    const dir = publishDir();
    await hdfs.mkdirs(`${dir}/V1`);
    const standby = await fakeServer((_req, res) => remoteException(res, 403, 'StandbyException', 'org.apache.hadoop.ipc.StandbyException', STANDBY_MESSAGE));
    try {
      const src = source(dir, {}, `${standby.host},${hdfs.nameNode}`);
      const names: string[] = [];
      const outcome = await src.listVersions((n) => names.push(n));
      expect(outcome).toMatchObject({ listedAll: true, troubles: [] });
      expect(names).toEqual(['V1']);
      expect(standby.requests).toEqual(['LISTSTATUS_BATCH']);
      await src.listVersions(() => undefined);
      expect(await src.describeVersion('V1', { columns: true })).toMatchObject({ raw: { version: 'V1', entries: [] } });
      expect(standby.requests).toHaveLength(1);

      // Only standbys: a 'standby' trouble, after a few tries.
      const onlyStandby = await source(dir, { retries: 2 }, standby.host).listVersions(() => undefined);
      expect(onlyStandby.listedAll).toBe(false);
      expect(onlyStandby.troubles[0]!.kind).toBe('standby');
      expect(standby.requests).toHaveLength(1 + 3);
    } finally {
      await standby.close();
    }
  });

  it('skips a NameNode that refuses connections', async () => {
    const dir = publishDir();
    await hdfs.mkdirs(`${dir}/V1`);
    const closed = await fakeServer(() => undefined);
    await closed.close();
    const names: string[] = [];
    const outcome = await source(dir, {}, `${closed.host},${hdfs.nameNode}`).listVersions((n) => names.push(n));
    expect(outcome.listedAll).toBe(true);
    expect(names).toEqual(['V1']);
  });

  it('retries connection resets and 503s, a bounded number of times', async () => {
    const dir = publishDir();
    await hdfs.mkdirs(`${dir}/V1`);
    const flaky = await fakeServer(async (req, res, n) => {
      if (n === 1) return void req.socket.destroy();
      if (n === 2) return remoteException(res, 503, 'RetriableException', 'org.apache.hadoop.ipc.RetriableException', 'busy');
      await forward(req, res);
    });
    try {
      const names: string[] = [];
      expect((await source(dir, {}, flaky.host).listVersions((n) => names.push(n))).listedAll).toBe(true);
      expect(names).toEqual(['V1']);
      expect(flaky.requests).toHaveLength(3);
    } finally {
      await flaky.close();
    }
    const broken = await fakeServer((req) => void req.socket.destroy());
    try {
      const outcome = await source(dir, { retries: 2 }, broken.host).listVersions(() => undefined);
      expect(outcome.troubles[0]!.kind).toBe('unavailable');
      expect(broken.requests).toHaveLength(3);
    } finally {
      await broken.close();
    }
  });

  it('lists through a server without LISTSTATUS_BATCH (400 on the op) with LISTSTATUS', async () => {
    const dir = publishDir();
    const versions = Array.from({ length: 250 }, (_, i) => `V${String(i).padStart(3, '0')}`);
    await inParallel(versions, 8, (name) => hdfs.mkdirs(`${dir}/${name}`));
    await writeOutput(`${dir}/V000/${ZIP}.csv`, { 'part-00000': CSV }, true);
    await writeOutput(`${dir}/V000/${ZIP}.meta`, { 'part-00000': metaDocument(ZIP, COLUMNS) }, true);
    const old = await fakeServer(async (req, res) => {
      if (new URL(req.url!, 'http://x').searchParams.get('op') === 'LISTSTATUS_BATCH') {
        return remoteException(
          res,
          400,
          'IllegalArgumentException',
          'java.lang.IllegalArgumentException',
          'Invalid value for webhdfs parameter "op": No enum constant org.apache.hadoop.hdfs.web.resources.GetOpParam.Op.LISTSTATUS_BATCH',
        );
      }
      await forward(req, res);
    });
    try {
      const names: string[] = [];
      const src = source(dir, {}, old.host);
      expect((await src.listVersions((n) => names.push(n))).listedAll).toBe(true);
      expect(names).toEqual(versions);
      const v = await inspectSourceVersion(src, 'V000', { stages: STAGES, settleSeconds: 0 });
      expect(v?.complete).toBe(true);
      expect(v?.modules[0]!.columns).toEqual(COLUMNS);
      // Asked once; LISTSTATUS from then on.
      expect(old.requests.filter((op) => op === 'LISTSTATUS_BATCH')).toHaveLength(1);
      expect(old.requests.filter((op) => op === 'LISTSTATUS').length).toBeGreaterThanOrEqual(4);
    } finally {
      await old.close();
    }
  });

  it('lists through a server that ignores batching (answers LISTSTATUS_BATCH with the whole listing, as HttpFS may)', async () => {
    const dir = publishDir();
    const versions = Array.from({ length: 120 }, (_, i) => `V${String(i).padStart(3, '0')}`);
    await inParallel(versions, 8, (name) => hdfs.mkdirs(`${dir}/${name}`));
    const ignoring = await fakeServer((req, res) =>
      forward(req, res, (url) => {
        if (url.searchParams.get('op') === 'LISTSTATUS_BATCH') {
          url.searchParams.set('op', 'LISTSTATUS');
          url.searchParams.delete('startAfter');
        }
      }),
    );
    try {
      const names: string[] = [];
      const src = source(dir, {}, ignoring.host);
      expect((await src.listVersions((n) => names.push(n))).listedAll).toBe(true);
      expect(names).toEqual(versions);
      names.length = 0;
      await src.listVersions((n) => names.push(n));
      expect(names).toEqual(versions);
      expect(ignoring.requests).toEqual(['LISTSTATUS_BATCH', 'LISTSTATUS']);
    } finally {
      await ignoring.close();
    }
  });

  it('lists through a server that pages but ignores where to start (the first page again) with LISTSTATUS for the rest', async () => {
    const dir = publishDir();
    const versions = Array.from({ length: 230 }, (_, i) => `V${String(i).padStart(3, '0')}`);
    await inParallel(versions, 8, (name) => hdfs.mkdirs(`${dir}/${name}`));
    const deaf = await fakeServer((req, res) =>
      forward(req, res, (url) => {
        url.searchParams.delete('startafter');
        url.searchParams.delete('startAfter');
      }),
    );
    try {
      const names: string[] = [];
      const outcome = await source(dir, {}, deaf.host).listVersions((n) => names.push(n));
      expect(outcome.listedAll).toBe(true);
      expect(names).toEqual(versions);
      expect(deaf.requests).toEqual(['LISTSTATUS_BATCH', 'LISTSTATUS_BATCH', 'LISTSTATUS']);
    } finally {
      await deaf.close();
    }
  });

  it('a listener that accepts and never answers, or stops mid-answer, is a timeout trouble', async () => {
    const hole = await startBlackHole();
    const stalled = await fakeServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"DirectoryListing":{"partialListing":');
    });
    try {
      for (const host of [`127.0.0.1:${hole.port}`, stalled.host]) {
        const outcome = await source('/p', { timeoutMs: 1000 }, host).listVersions(() => undefined);
        expect(outcome.listedAll).toBe(false);
        expect(outcome.troubles.map((t) => t.kind)).toEqual(['timeout']);
        expect(outcome.troubles[0]!.detail).toMatch(/did not answer within 1 s/);
      }
      // Not retried: the time limit is per request, as the operator set it.
      expect(stalled.requests).toHaveLength(1);
      const read = webHdfsTree(`webhdfs://127.0.0.1:${hole.port}/p`, { timeoutMs: 1000 }).read('V1/x.meta/part-0', 100);
      await expect(read).rejects.toMatchObject({ name: 'StoreError', kind: 'timeout' });
    } finally {
      await hole.stop();
      await stalled.close();
    }
  });
});

describe('what may not be read', () => {
  it('a publish dir another user keeps to themselves (700) is a permission trouble; one unreadable output dir is blamed alone', async () => {
    const dir = publishDir();
    await writeOutput(`${dir}/V1/${ZIP}.csv`, { 'part-00000': CSV }, true);
    await hdfs.setOwner(dir, 'alice', 'alice');
    await hdfs.setPermission(dir, '700');
    const outcome = await source(dir, { user: 'bob' }).listVersions(() => undefined);
    expect(outcome.listedAll).toBe(false);
    expect(outcome.troubles.map((t) => t.kind)).toEqual(['permission']);
    expect(outcome.troubles[0]!.detail).toMatch(/Permission denied: user=<user>, access=READ_EXECUTE/);
    expect(outcome.troubles[0]!.detail).not.toMatch(/bob/);
    // As alice it lists.
    expect((await source(dir, { user: 'alice' }).listVersions(() => undefined)).listedAll).toBe(true);

    const open = publishDir();
    await writeOutput(`${open}/V1/${ZIP}.csv`, { 'part-00000': CSV }, true);
    await writeOutput(`${open}/V1/${GEO}.Other.csv`, { 'part-00000': CSV }, true);
    await hdfs.setOwner(`${open}/V1/${ZIP}.csv`, 'alice');
    await hdfs.setPermission(`${open}/V1/${ZIP}.csv`, '700');
    const scan = await scanSource(source(open, { user: 'bob' }), { stages: STAGES, settleSeconds: 0 });
    expect(scan.listedAll).toBe(true);
    const v1 = scan.versions[0]!;
    expect(v1.complete).toBe(false);
    expect(v1.incompleteReasons).toContain(`${ZIP}.csv could not be read`);
    expect(v1.problems.join('\n')).toMatch(new RegExp(`${ZIP}.csv could not be read: ${ZIP}.csv: WebHDFS LISTSTATUS_BATCH .*Permission denied`));
    expect(scan.skipped).toEqual([{ path: `V1/${ZIP}.csv`, reason: 'could not be read (permission); the rest of the version was not read' }]);
  });

  it('a .meta over the 4 MB text cap is never fetched: refused by the listed size', async () => {
    const dir = publishDir();
    const v = `${dir}/V1`;
    await writeOutput(`${v}/${ZIP}.csv`, { 'part-00000': CSV }, true);
    const big = Buffer.alloc(16 * 1024 * 1024, 0x20);
    await writeOutput(`${v}/${ZIP}.meta`, { 'part-00000': big }, true);
    await writeOutput(`${v}/${ZIP}.schema`, { 'part-00000': schemaDocument(COLUMNS) }, true);
    const rec = recorder();
    const found = await inspectSourceVersion(source(dir, { fetch: rec.fetch }), 'V1', { stages: STAGES, settleSeconds: 0 });
    expect(found?.complete).toBe(true);
    expect(found?.problems).toContain(`${ZIP}.meta could not be read: over the 4 MB limit for reading (${big.length} bytes); not read`);
    // Its data-quality verdict is unknown, never passed; columns come from .schema.
    expect(found?.modules[0]!.dqmFailed?.unread).toMatch(/over the 4 MB limit/);
    expect(found?.modules[0]!.columns).toEqual(COLUMNS);
    expect(rec.urls.filter((u) => u.pathname.includes('.meta/part')).map((u) => u.searchParams.get('op'))).toEqual([]);

    // The tree's own read refuses by the file's status, before an OPEN.
    const tree = webHdfsTree(hdfs.url(dir), { user: hdfs.superuser, fetch: rec.fetch });
    await expect(tree.read(`V1/${ZIP}.meta/part-00000`, 4 * 1024 * 1024)).rejects.toMatchObject({ kind: 'too-large' });
    expect(rec.ops('OPEN').filter((u) => u.pathname.includes('.meta'))).toEqual([]);
    expect((await tree.read(`V1/${ZIP}.csv/part-00000`, 100)).toString()).toBe(CSV);
    await expect(tree.read(`V1/${ZIP}.csv/part-00000`, 5)).rejects.toMatchObject({ kind: 'too-large' });
  });

  it('never puts the delegation token or the user into an error, whatever the server says back', async () => {
    const dir = publishDir();
    await hdfs.mkdirs(`${dir}/V1`);
    await hdfs.setOwner(`${dir}/V1`, 'alice');
    await hdfs.setPermission(`${dir}/V1`, '700');
    const user = 'smvbot-reader';
    // A server that repeats the request, query and all, in its messages.
    const echo = await fakeServer((req, res, n) =>
      n % 2
        ? remoteException(res, 403, 'AccessControlException', 'org.apache.hadoop.security.AccessControlException', `denied for ${req.url} (user ${user})`)
        : remoteException(res, 401, 'InvalidToken', 'org.apache.hadoop.security.token.SecretManager$InvalidToken', `token ${TOKEN} expired; user.name=${user}`),
    );
    const hole = await startBlackHole();
    const closed = await fakeServer(() => undefined);
    await closed.close();
    const texts: string[] = [];
    const kinds: string[] = [];
    try {
      const opts = { user, delegationToken: TOKEN, timeoutMs: 1000, retries: 1 };
      const sources = [
        source(`${dir}/missing`, opts),
        source(dir, opts, echo.host),
        source(dir, opts, echo.host),
        source(dir, opts, `127.0.0.1:${hole.port}`),
        source(dir, opts, `${closed.host},${echo.host}`),
      ];
      for (const src of sources) {
        texts.push(src.where);
        const outcome = await src.listVersions(() => undefined);
        for (const t of outcome.troubles) {
          kinds.push(t.kind);
          texts.push(t.detail);
        }
      }
      // Readable dir, unreadable version (700 for alice; the token is ignored without Kerberos).
      const described = await source(dir, opts).describeVersion('V1', { columns: true });
      texts.push(...(described.raw?.readErrors ?? []));
      const tree = webHdfsTree(hdfs.url(dir), opts);
      // One read at a time: a second read started early would reject before anything awaits it.
      for (const rel of ['V1/x', 'nothing/x']) {
        const err = await tree.read(rel, 10).then(
          () => null,
          (e: unknown) => e,
        );
        expect(err).toBeInstanceOf(StoreError);
        texts.push((err as Error).message, String((err as Error).stack));
      }
    } finally {
      await echo.close();
      await hole.stop();
    }
    expect(kinds).toEqual(['not-found', 'permission', 'auth', 'timeout', 'permission']);
    expect(texts.length).toBeGreaterThan(8);
    for (const text of texts) {
      expect(text).not.toContain(TOKEN);
      expect(text).not.toContain(user);
    }
    expect(texts.join('\n')).toContain('delegation=<redacted>');
  });
});

describe('webhdfs:// URLs', () => {
  it('parse into NameNodes (default ports by scheme) and a normalised absolute path', () => {
    expect(parseWebHdfsUrl('webhdfs://nn1:9870,nn2:9870/applications/shareddata/')).toEqual({
      protocol: 'http',
      hosts: ['nn1:9870', 'nn2:9870'],
      path: '/applications/shareddata',
      where: 'webhdfs://nn1:9870,nn2:9870/applications/shareddata',
    });
    expect(parseWebHdfsUrl('swebhdfs://NN.example.com/data')).toMatchObject({ protocol: 'https', hosts: ['nn.example.com:9871'], path: '/data' });
    expect(parseWebHdfsUrl('webhdfs://[::1]:50070')).toMatchObject({ hosts: ['[::1]:50070'], path: '/' });
    expect(parseWebHdfsUrl('webhdfs://nn/a%20b//c')).toMatchObject({ path: '/a b/c' });
  });

  it('refuse credentials, queries, .. and bad ports without repeating what was written', () => {
    const bad = ['webhdfs://bob:s3cret@nn/x', 'webhdfs://nn/x?delegation=s3cret', 'webhdfs://nn/../x', 'webhdfs://nn:99999/x', 'webhdfs:///x', 'hdfs://nn/x', 'webhdfs://nn,/x'];
    for (const url of bad) {
      let message = '';
      try {
        parseWebHdfsUrl(url);
      } catch (err) {
        message = (err as Error).message;
      }
      expect(message, url).not.toBe('');
      expect(message).not.toContain('s3cret');
    }
  });
});
