// The store-neutral tree source over an in-memory StoreTree shaped like S3: "directories" are
// key prefixes without a time of their own, and a walk may list objects only, in key order.
import { afterEach, describe, expect, it } from 'vitest';
import { inspectSourceVersion, scanSource } from '../src/core/publishSource.ts';
import { StoreError, type StoreItem, type StoreTree, type WalkBudget } from '../src/infra/publish/remote/storeTree.ts';
import { treeSource } from '../src/infra/publish/remote/treeSource.ts';
import fs from 'node:fs';
import path from 'node:path';
import { scanPublishDir } from '../src/infra/publish/publishScanner.ts';
import { makeTempDir, metaDocument, removeDir, setMtimes, writeVersion, writeVersionFile } from '../dev/world/publishFixtures.ts';

const GEO = 'com.acme.geo';
const ZIP = `${GEO}.Zip`;
const STAGES = [GEO];
const T = Date.UTC(2026, 0, 5, 12, 0, 0);

interface MemoryOptions {
  /** Walks yield objects only, in key order (no prefix items), as a flat S3 listing would. */
  objectsOnly?: boolean;
  /** Listing this dir ('' = root) fails with this error (after `failAfter` items of it). */
  failList?: { dir: string; error: StoreError; failAfter?: number };
  /** Page size of listings. */
  pageSize?: number;
}

/** An S3-like store: objects with LastModified; a prefix has mtime 0. */
class MemoryTree implements StoreTree {
  readonly where = 's3://bucket/publish';
  readonly reads: string[] = [];
  private readonly objects = new Map<string, { data: Buffer; mtimeMs: number }>();

  constructor(private readonly opts: MemoryOptions = {}) {}

  put(key: string, data: string | Buffer, mtimeMs = T): this {
    this.objects.set(key, { data: typeof data === 'string' ? Buffer.from(data) : data, mtimeMs });
    return this;
  }

  private children(dir: string): StoreItem[] {
    const prefix = dir === '' ? '' : `${dir}/`;
    const seen = new Map<string, StoreItem>();
    for (const [key, obj] of this.objects) {
      if (!key.startsWith(prefix)) continue;
      const rest = key.slice(prefix.length);
      const slash = rest.indexOf('/');
      const name = slash < 0 ? rest : rest.slice(0, slash);
      if (!seen.has(name)) seen.set(name, slash < 0 ? { path: name, kind: 'file', size: obj.data.length, mtimeMs: obj.mtimeMs } : { path: name, kind: 'dir', size: 0, mtimeMs: 0 });
    }
    return [...seen.values()].sort((a, b) => (a.path < b.path ? -1 : 1));
  }

  private exists(dir: string): boolean {
    return [...this.objects.keys()].some((k) => k.startsWith(`${dir}/`) || dir === '');
  }

  async *list(rel: string): AsyncIterable<StoreItem[]> {
    if (!this.exists(rel)) throw new StoreError('not-found', `${rel} not found`);
    yield* this.pages(rel, this.children(rel));
  }

  private async *pages(dir: string, items: StoreItem[]): AsyncIterable<StoreItem[]> {
    const size = this.opts.pageSize ?? 2;
    const fail = this.opts.failList;
    for (let i = 0; i < items.length; i += size) {
      if (fail && fail.dir === dir && i >= (fail.failAfter ?? 0)) throw fail.error;
      yield items.slice(i, i + size);
    }
    if (fail && fail.dir === dir && items.length <= (fail.failAfter ?? 0)) throw fail.error;
  }

  async *walk(rel: string, budget: WalkBudget): AsyncIterable<StoreItem[]> {
    if (!this.exists(rel)) throw new StoreError('not-found', `${rel} not found`);
    let left = budget.maxEntries;
    if (this.opts.objectsOnly) {
      const keys = [...this.objects.keys()].filter((k) => k.startsWith(`${rel}/`)).sort();
      for (const key of keys) {
        // A flat key listing has every depth: the source must cope with what is too deep.
        const path = key.slice(rel.length + 1);
        if (left-- <= 0) return;
        const obj = this.objects.get(key)!;
        yield [{ path, kind: 'file', size: obj.data.length, mtimeMs: obj.mtimeMs }];
      }
      return;
    }
    const queue: { dir: string; level: number }[] = [{ dir: '', level: 0 }];
    while (queue.length) {
      const { dir, level } = queue.shift()!;
      const full = dir === '' ? rel : `${rel}/${dir}`;
      try {
        for await (const page of this.pages(full, this.children(full))) {
          const out: StoreItem[] = [];
          for (const item of page) {
            if (left-- <= 0) {
              if (out.length) yield out;
              return;
            }
            const path = dir === '' ? item.path : `${dir}/${item.path}`;
            out.push({ ...item, path });
            if (item.kind === 'dir' && level + 1 < budget.maxDepth) queue.push({ dir: path, level: level + 1 });
          }
          yield out;
        }
      } catch (err) {
        if (err instanceof StoreError) throw new StoreError(err.kind, err.message, dir);
        throw err;
      }
    }
  }

  async read(rel: string, maxBytes: number): Promise<Buffer> {
    const obj = this.objects.get(rel);
    if (obj === undefined) throw new StoreError('not-found', `${rel} not found`);
    if (obj.data.length > maxBytes) throw new StoreError('too-large', `${rel} too large`);
    this.reads.push(rel);
    return obj.data;
  }
}

const CSV = 'zip\n10001\n';
const META = metaDocument(ZIP, [{ name: 'zip', type: 'String' }]);

function completeVersion(tree: MemoryTree, version: string, at = T): MemoryTree {
  return tree
    .put(`${version}/${ZIP}.csv/part-00000`, CSV, at)
    .put(`${version}/${ZIP}.csv/_SUCCESS`, '', at)
    .put(`${version}/${ZIP}.meta/part-00000`, META, at)
    .put(`${version}/${ZIP}.meta/_SUCCESS`, '', at);
}

describe('a tree source over an S3-like store', () => {
  for (const objectsOnly of [false, true]) {
    const how = objectsOnly ? 'objects only, in key order' : 'prefixes without a time';
    it(`settles on the newest object's LastModified (walk: ${how})`, async () => {
      const tree = completeVersion(new MemoryTree({ objectsOnly }), 'V1');
      // `_SUCCESS` came last: its time decides.
      tree.put(`V1/${ZIP}.csv/_SUCCESS`, '', T + 60_000);
      const src = treeSource(tree);
      const early = await inspectSourceVersion(src, 'V1', { stages: STAGES, settleSeconds: 30, now: T + 80_000 });
      expect(early?.complete).toBe(false);
      expect(early?.settling).toBe(true);
      const later = await inspectSourceVersion(src, 'V1', { stages: STAGES, settleSeconds: 30, now: T + 91_000 });
      expect(later?.incompleteReasons).toEqual([]);
      expect(later?.lastChangeMs).toBe(T + 60_000);
      expect(later?.modules[0]!.columns).toEqual([{ name: 'zip', type: 'String' }]);
      expect(later?.modules[0]!.bytes).toBe(Buffer.byteLength(CSV) + Buffer.byteLength(META));
    });

    it(`sees __magic and _temporary below outputs and at version level (walk: ${how})`, async () => {
      const tree = completeVersion(new MemoryTree({ objectsOnly }), 'V1').put('V1/__magic/job-1/task/x.pending', '{}');
      completeVersion(tree, 'V2').put(`V2/${ZIP}.csv/_temporary/0/part-00001`, 'x'.repeat(50));
      const scan = await scanSource(treeSource(tree), { stages: STAGES, settleSeconds: 0 });
      expect(scan.versions.map((v) => [v.version, v.incompleteReasons])).toEqual([
        ['V1', ['_temporary present in __magic']],
        ['V2', [`_temporary present in ${ZIP}.csv`]],
      ]);
      // Nothing below `_temporary` is output yet.
      expect(scan.versions[1]!.modules[0]!.bytes).toBe(Buffer.byteLength(CSV) + Buffer.byteLength(META));
    });
  }

  it('caps entries per version and depth: what was not read keeps the version incomplete', async () => {
    const tree = completeVersion(new MemoryTree(), 'V1');
    for (let i = 0; i < 5; i++) tree.put(`V1/${ZIP}.csv/part-1000${i}`, 'x');
    const capped = await scanSource(treeSource(tree, { maxEntries: 6 }), { stages: STAGES, settleSeconds: 0 });
    expect(capped.skipped).toEqual([{ path: 'V1', reason: 'more than 6 entries in this version; the rest was not read' }]);
    expect(capped.versions[0]!.incompleteReasons).toContain('skipped as unsafe: (version dir) more than 6 entries in this version; the rest was not read');

    for (const objectsOnly of [false, true]) {
      const deep = completeVersion(new MemoryTree({ objectsOnly }), 'V1').put(`V1/${ZIP}.csv/a/b/c/d/part-0`, 'x').put(`V1/${ZIP}.csv/a/b/c/part-1`, 'x');
      const scan = await scanSource(treeSource(deep, { maxDepth: 2 }), { stages: STAGES, settleSeconds: 0 });
      // As the local walker: two levels inside the output are read, the third dir is not.
      expect(scan.skipped).toEqual([{ path: `V1/${ZIP}.csv/a/b/c`, reason: 'is deeper than 2 levels; not read' }]);
      expect(scan.versions[0]!.complete).toBe(false);
    }
  });

  it('refuses a .meta over the text cap by its listed size, without reading it', async () => {
    const tree = completeVersion(new MemoryTree(), 'V1').put(`V1/${ZIP}.meta/part-00001`, 'x'.repeat(2000));
    const found = await inspectSourceVersion(treeSource(tree, { maxTextBytes: 1024 }), 'V1', { stages: STAGES, settleSeconds: 0 });
    expect(found?.problems.join('\n')).toMatch(/over the 1024-byte limit for reading \(\d+ bytes\); not read/);
    expect(tree.reads).toEqual([]);
  });

  it('a listing that fails part-way keeps what it gave and says it did not list everything', async () => {
    const tree = new MemoryTree({ failList: { dir: '', error: new StoreError('throttled', 'SlowDown'), failAfter: 2 } });
    for (const v of ['V1', 'V2', 'V3', 'V4']) completeVersion(tree, v);
    const names: string[] = [];
    const outcome = await treeSource(tree).listVersions((n) => names.push(n));
    expect(names).toEqual(['V1', 'V2']);
    expect(outcome.listedAll).toBe(false);
    expect(outcome.troubles).toEqual([{ kind: 'throttled', detail: 'publishDir s3://bucket/publish could not be listed: SlowDown' }]);

    const tooBig = new MemoryTree({ failList: { dir: '', error: new StoreError('too-large', 'huge') } });
    completeVersion(tooBig, 'V1');
    expect((await treeSource(tooBig).listVersions(() => undefined)).troubles[0]!.kind).toBe('unreadable');
  });

  it('notes invalid version names up to a cap, skips hidden names and plain objects', async () => {
    const tree = new MemoryTree().put('README', 'x').put('_staging/x', 'x').put('.tmp/x', 'x');
    for (let i = 0; i < 5; i++) tree.put(`-bad${i}/x`, 'x');
    completeVersion(tree, 'V1');
    const names: string[] = [];
    const outcome = await treeSource(tree, { maxNotes: 2 }).listVersions((n) => names.push(n));
    expect(names).toEqual(['V1']);
    expect(outcome.notes).toEqual([
      'ignored s3://bucket/publish/-bad0: "-bad0" is not a valid version name',
      'ignored s3://bucket/publish/-bad1: "-bad1" is not a valid version name',
      'ignored 3 more entries of s3://bucket/publish whose names are not valid version names',
    ]);
  });

  it('a walk that fails below the version blames that output; one that fails at the version reports the version', async () => {
    const tree = completeVersion(new MemoryTree({ failList: { dir: `V1/${ZIP}.meta`, error: new StoreError('permission', 'AccessDenied') } }), 'V1');
    const scan = await scanSource(treeSource(tree), { stages: STAGES, settleSeconds: 0 });
    const v1 = scan.versions[0]!;
    expect(v1.complete).toBe(false);
    expect(v1.incompleteReasons).toContain(`${ZIP}.meta could not be read`);
    expect(v1.problems).toContain(`${ZIP}.meta could not be read: ${ZIP}.meta: AccessDenied`);

    const whole = completeVersion(new MemoryTree({ failList: { dir: 'V1', error: new StoreError('timeout', 'no answer') } }), 'V1');
    const described = await treeSource(whole).describeVersion('V1', { columns: true });
    expect(described.raw).toEqual({ version: 'V1', mtimeMs: 0, entries: [], readErrors: ['V1 could not be read: no answer'] });
    expect(await treeSource(whole).describeVersion('V9', { columns: true })).toEqual({ skipped: [] });
    expect(await treeSource(whole).describeVersion('../x', { columns: true })).toEqual({ skipped: [] });
  });
});

describe('the same tree, on disk and in a store', () => {
  let dir: string | undefined;
  afterEach(() => {
    if (dir !== undefined) removeDir(dir);
    dir = undefined;
  });

  it('reads as the local scanner reads it', async () => {
    dir = makeTempDir('smvbot-tree-parity-');
    const at = { mtime: T };
    writeVersion(dir, 'V1', [{ fqn: ZIP }, { fqn: `${GEO}.County`, layout: 'plain', metaStyle: 'python', extraOutputs: ['hist', 'edd'] }], at);
    writeVersion(dir, 'V2', [{ fqn: ZIP, incomplete: 'no-success', parts: 3 }], at);
    writeVersion(dir, 'V3', [{ fqn: ZIP, incomplete: 'temporary' }, { fqn: `${GEO}.Other`, metaText: '{"oops"' }], { ...at, crc: true });
    writeVersion(dir, 'V4', [{ fqn: ZIP, metaStyle: 'none' }, { fqn: 'com.other.X' }], at);
    writeVersionFile(dir, 'V4', 'notes.txt', 'not a module');
    setMtimes(path.join(dir, 'V4'), T);
    writeVersion(dir, 'bad name', [{ fqn: ZIP }], at);
    const tree = new MemoryTree({ pageSize: 3 });
    const copy = (abs: string, rel: string): void => {
      for (const entry of fs.readdirSync(abs, { withFileTypes: true })) {
        const key = rel === '' ? entry.name : `${rel}/${entry.name}`;
        if (entry.isDirectory()) copy(path.join(abs, entry.name), key);
        else tree.put(key, fs.readFileSync(path.join(abs, entry.name)), fs.statSync(path.join(abs, entry.name)).mtimeMs);
      }
    };
    copy(dir, '');
    const opts = { stages: STAGES, settleSeconds: 30, now: T + 3_600_000 };
    const local = await scanPublishDir(dir, opts);
    const remote = await scanSource(treeSource(tree), opts);
    expect(remote.versions.map((v) => v.version)).toEqual(['V1', 'V2', 'V3', 'V4']);
    expect(remote.versions.map((v) => [v.version, v.complete, v.incompleteReasons.length > 0, v.problems.length > 0])).toEqual([
      ['V1', true, false, false],
      ['V2', false, true, false],
      ['V3', false, true, true],
      ['V4', true, false, true],
    ]);
    expect(remote.versions).toEqual(local.versions);
    expect(remote.problems).toEqual(local.problems.map((p) => p.replace(dir!, 's3://bucket/publish')));
  });
});
