// Publish dirs are other people's files (SPEC §6a): real symlinks, loops, FIFOs and huge
// files in a temp dir, read through the real scanner.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { scanPublishDir, scanVersion } from '../src/infra/publish/publishScanner.ts';
import { DEFAULT_WALK_LIMITS, DirSizeTrust } from '../src/infra/publish/publishWalker.ts';
import { countTurns } from './support/eventLoop.ts';
import { makeTempDir, metaDocument, removeDir, setMtimes, writeVersion } from '../dev/world/publishFixtures.ts';

const GEO = 'com.acme.geo';
const STAGES = [GEO];
const ZIP = `${GEO}.Zip`;
const V = 'TCD.20160802.geo';
const T = Date.now() - 3_600_000;

let root: string;
let publishDir: string;
beforeEach(() => {
  root = makeTempDir('smvbot-walker-');
  publishDir = path.join(root, 'publish');
  fs.mkdirSync(publishDir);
});
afterEach(() => removeDir(root));

const scanOpts = { stages: STAGES, settleSeconds: 0 };

function mkfifo(file: string): void {
  execFileSync('mkfifo', [file]);
}

async function inspect(version = V) {
  const found = await scanVersion(publishDir, version, scanOpts);
  if (!found) throw new Error(`${version} not found`);
  return found;
}

describe('the publish-dir walker', () => {
  it('does not read a .schema that links outside the publish dir (the bot environment stays unread)', async () => {
    writeVersion(publishDir, V, [{ fqn: ZIP, metaStyle: 'none', schema: false, layout: 'plain' }], { mtime: T });
    const secretFile = path.join(root, 'environ');
    fs.writeFileSync(secretFile, 'SLACK_BOT_TOKEN: xoxb-secret\n');
    fs.symlinkSync(secretFile, path.join(publishDir, V, `${ZIP}.schema`));
    fs.symlinkSync('/proc/self/environ', path.join(publishDir, V, `${GEO}.Env.schema`));
    setMtimes(path.join(publishDir, V), T);

    const v = await inspect();
    expect(v.modules.find((m) => m.fqn === ZIP)!.columns).toBeNull();
    expect(JSON.stringify(v)).not.toContain('xoxb-secret');
    expect(v.complete).toBe(false);
    expect(v.incompleteReasons).toContain(`skipped as unsafe: ${ZIP}.schema is a symbolic link leading outside the publish dir; not followed`);
    const scan = await scanPublishDir(publishDir, scanOpts);
    expect(scan.skipped.map((s) => s.path).sort()).toEqual([`${V}/${GEO}.Env.schema`, `${V}/${ZIP}.schema`]);
  });

  it('follows a symlink that stays inside the publish dir (a version reusing another version`s output)', async () => {
    writeVersion(publishDir, 'TCD.20160801.geo', [{ fqn: ZIP }], { mtime: T });
    writeVersion(publishDir, V, [{ fqn: `${GEO}.County` }], { mtime: T });
    fs.symlinkSync(path.join('..', 'TCD.20160801.geo', `${ZIP}.csv`), path.join(publishDir, V, `${ZIP}.csv`));
    fs.symlinkSync(path.join(publishDir, 'TCD.20160801.geo', `${ZIP}.meta`), path.join(publishDir, V, `${ZIP}.meta`));
    const v = await inspect();
    expect(v.complete).toBe(true);
    expect(v.modules.map((m) => m.fqn)).toEqual([`${GEO}.County`, ZIP]);
    expect(v.modules.find((m) => m.fqn === ZIP)!.columns).not.toBeNull();
  });

  it('survives four links back to the module dir (l1..l4 -> .) and a version linked to /', async () => {
    writeVersion(publishDir, V, [{ fqn: ZIP }], { mtime: T });
    const csvDir = path.join(publishDir, V, `${ZIP}.csv`);
    for (const l of ['l1', 'l2', 'l3', 'l4']) fs.symlinkSync('.', path.join(csvDir, l));
    fs.symlinkSync('..', path.join(csvDir, 'up'));
    fs.symlinkSync('/', path.join(publishDir, 'TCD.20160803.geo'));
    const listed: string[] = [];
    const scan = await scanPublishDir(publishDir, {
      ...scanOpts,
      listed: (name) => {
        listed.push(name);
        return false;
      },
    });
    expect(listed).toEqual([V]);
    const v = scan.versions[0]!;
    expect(v.complete).toBe(false);
    expect(v.incompleteReasons.filter((r) => r.includes('symlink loop'))).toHaveLength(5);
    expect(scan.skipped.map((s) => s.path)).toContain('TCD.20160803.geo');
  });

  it('never opens a FIFO, whether it is a module output, inside one, or behind a symlink', async () => {
    writeVersion(publishDir, V, [{ fqn: ZIP, layout: 'plain', metaStyle: 'none', schema: false }], { mtime: T });
    mkfifo(path.join(publishDir, V, `${ZIP}.schema`));
    writeVersion(publishDir, V, [{ fqn: `${GEO}.County`, metaStyle: 'none' }], { mtime: T });
    mkfifo(path.join(publishDir, V, `${GEO}.County.schema`, 'part-00001'));
    mkfifo(path.join(publishDir, 'pipe'));
    fs.symlinkSync(path.join(publishDir, 'pipe'), path.join(publishDir, V, `${GEO}.Pipe.meta`));
    const v = await inspect();
    expect(v.complete).toBe(false);
    expect(v.unsafe).toEqual(
      expect.arrayContaining([
        `${ZIP}.schema is a FIFO; not read`,
        `${GEO}.County.schema/part-00001 is a FIFO; not read`,
        `${GEO}.Pipe.meta is a symbolic link to a FIFO; not read`,
      ]),
    );
  });

  // wholeDirBytes 0: every directory streamed, as on a file system whose sizes say nothing.
  it.each([
    ['read whole where small', {}],
    ['streamed', { wholeDirBytes: 0 }],
  ])('caps depth and entries per version, reporting what it left out (directories %s)', async (_how, dirLimits) => {
    writeVersion(publishDir, V, [{ fqn: ZIP }], { mtime: T });
    fs.mkdirSync(path.join(publishDir, V, `${ZIP}.csv`, 'a', 'b', 'c'), { recursive: true });
    const deep = await scanVersion(publishDir, V, { ...scanOpts, limits: { ...dirLimits, maxDepth: 2 } });
    expect(deep!.unsafe).toEqual([`${ZIP}.csv/a/b/c is deeper than 2 levels; not read`]);

    for (let i = 0; i < 50; i++) fs.writeFileSync(path.join(publishDir, V, `${ZIP}.csv`, `part-${1000 + i}`), 'x\n');
    const many = await scanVersion(publishDir, V, { ...scanOpts, limits: { ...dirLimits, maxEntries: 20 } });
    expect(many!.complete).toBe(false);
    expect(many!.unsafe!.join('\n')).toMatch(/more than 20 entries in this version; the rest was not read/);
    expect(many!.unsafe!.filter((u) => u.includes('more than 20 entries'))).toHaveLength(1);
  });

  it('reads a directory in one call only when its size bounds its entries', () => {
    const trust = new DirSizeTrust(DEFAULT_WALK_LIMITS.wholeDirBytes);
    // procfs reports sizes that say nothing of what a listing returns.
    expect(trust.readsWhole('/proc', fs.statSync('/proc'))).toBe(false);
    const big = path.join(root, 'big');
    fs.mkdirSync(big);
    for (let i = 0; i < 4000; i++) fs.writeFileSync(path.join(big, `part-${String(i).padStart(5, '0')}-of-a-long-name`), '');
    const stat = fs.statSync(big);
    expect(stat.size).toBeGreaterThan(DEFAULT_WALK_LIMITS.wholeDirBytes);
    expect(trust.readsWhole(big, stat)).toBe(false);
    expect(new DirSizeTrust(0).readsWhole(publishDir, fs.statSync(publishDir))).toBe(false);
  });

  it('does not read a .meta over the size cap, and says why (columns come from .schema)', async () => {
    const meta = metaDocument(ZIP, [{ name: 'zip', type: 'String' }]);
    writeVersion(publishDir, V, [{ fqn: ZIP, metaText: meta + ' '.repeat(5000) }], { mtime: T });
    const v = await scanVersion(publishDir, V, { ...scanOpts, limits: { maxTextBytes: 4096 } });
    expect(v!.problems.join('\n')).toMatch(new RegExp(`${ZIP.replaceAll('.', '\\.')}\\.meta could not be read: over the 4096-byte limit for reading \\(\\d+ bytes\\)`));
    expect(v!.modules[0]!.columns).toEqual([
      { name: 'id', type: 'String' },
      { name: 'amt', type: 'Double' },
    ]);
  });

  it('lets other work run while it walks a large version (it yields inside the walk)', async () => {
    writeVersion(publishDir, V, [{ fqn: ZIP }], { mtime: T });
    const csvDir = path.join(publishDir, V, `${ZIP}.csv`);
    for (let i = 0; i < 3000; i++) fs.writeFileSync(path.join(csvDir, `part-${10_000 + i}`), '');
    const turns = countTurns();
    // A zero-length slice makes every step a turn of the event loop: the walk must still finish.
    const v = await scanVersion(publishDir, V, { ...scanOpts, limits: { sliceMs: 0 } });
    const ranDuringScan = turns.stop();
    expect(v!.complete).toBe(true);
    expect(ranDuringScan).toBeGreaterThan(10);
  });

  it('refuses version names that could leave the publish dir', async () => {
    expect(await scanVersion(publishDir, '..', scanOpts)).toBeUndefined();
    expect(await scanVersion(publishDir, '../publish', scanOpts)).toBeUndefined();
  });
});
