import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { moduleStage, parseMetaColumns, parseSchemaColumns } from '../src/domain/publishLayout.ts';
import type { PublishedVersion } from '../src/domain/types.ts';
import { scanPublishDir, scanVersion, type ScanOptions } from '../src/infra/publish/publishScanner.ts';
import { makeTempDir, metaDocument, removeDir, setMtimes, writeVersion } from '../dev/world/publishFixtures.ts';

const GEO = 'com.acme.geo';
const CMS = 'com.acme.cms';
const STAGES = [GEO, CMS];
const ZIP = `${GEO}.Zip`;
const T = Date.UTC(2016, 7, 2, 10, 0, 0);
const COLUMNS = [
  { name: 'zip', type: 'String' },
  { name: 'pop', type: 'Integer' },
];

let publishDir: string;
beforeEach(() => {
  publishDir = makeTempDir('smvbot-scan-test-');
});
afterEach(() => {
  removeDir(publishDir);
});

async function scanOne(version: string, opts: { now?: number; settleSeconds?: number } = {}): Promise<PublishedVersion> {
  const found = await scanVersion(publishDir, version, {
    stages: STAGES,
    settleSeconds: opts.settleSeconds ?? 30,
    now: opts.now ?? T + 3_600_000,
  });
  if (found === undefined) throw new Error(`${version} not found`);
  return found;
}

interface Case {
  name: string;
  build: (dir: string) => void;
  complete: boolean;
  reasons?: string[];
  check?: (v: PublishedVersion) => void;
}

const V = 'TCD.20160802.geo';

const cases: Case[] = [
  {
    name: 'complete Spark layout with Scala .meta',
    build: (dir) => writeVersion(dir, V, [{ fqn: ZIP, columns: COLUMNS, rows: 4 }], { mtime: T }),
    complete: true,
    check: (v) => {
      expect(v.stages).toEqual([GEO]);
      expect(v.modules).toHaveLength(1);
      const mod = v.modules[0]!;
      expect(mod).toMatchObject({ fqn: ZIP, stage: GEO, columns: COLUMNS });
      expect(mod.entries.map((e) => [e.name, e.kind, e.complete])).toEqual([
        [`${ZIP}.csv`, 'dir', true],
        [`${ZIP}.schema`, 'dir', true],
        [`${ZIP}.meta`, 'dir', true],
      ]);
      const csvBytes = fs.statSync(path.join(publishDir, V, `${ZIP}.csv`, 'part-00000')).size;
      expect(mod.entries[0]!.bytes).toBe(csvBytes);
      expect(v.bytes).toBe(mod.entries.reduce((s, e) => s + e.bytes, 0));
      expect(v.lastChangeMs).toBe(T);
      expect(v.completedAtMs).toBe(T);
      expect(v.problems).toEqual([]);
    },
  },
  {
    name: 'csv written but no _SUCCESS yet',
    build: (dir) => writeVersion(dir, V, [{ fqn: ZIP, incomplete: 'no-success' }], { mtime: T }),
    complete: false,
    reasons: [`${ZIP}.csv has no _SUCCESS yet`],
    check: (v) => {
      expect(v.completedAtMs).toBeNull();
      expect(v.modules[0]!.entries[0]).toMatchObject({ name: `${ZIP}.csv`, complete: false });
    },
  },
  {
    name: 'Spark still writing: nested _temporary in the csv dir',
    build: (dir) => writeVersion(dir, V, [{ fqn: ZIP, incomplete: 'temporary' }], { mtime: T }),
    complete: false,
    reasons: [`_temporary present in ${ZIP}.csv`],
  },
  {
    name: '_temporary nested below a finished-looking dir',
    build: (dir) => {
      writeVersion(dir, V, [{ fqn: ZIP }], { mtime: T });
      fs.mkdirSync(path.join(dir, V, `${ZIP}.meta`, 'sub', '_temporary'), { recursive: true });
      setMtimes(path.join(dir, V), T);
    },
    complete: false,
    reasons: [`_temporary present in ${ZIP}.meta`],
  },
  {
    name: '.meta dir without _SUCCESS',
    build: (dir) => {
      writeVersion(dir, V, [{ fqn: ZIP }], { mtime: T });
      fs.rmSync(path.join(dir, V, `${ZIP}.meta`, '_SUCCESS'));
      setMtimes(path.join(dir, V), T);
    },
    complete: false,
    reasons: [`${ZIP}.meta has no _SUCCESS yet`],
  },
  {
    name: '.hist dir without _SUCCESS does not hold the version back',
    build: (dir) => {
      writeVersion(dir, V, [{ fqn: ZIP, extraOutputs: ['hist', 'edd'] }], { mtime: T });
      fs.rmSync(path.join(dir, V, `${ZIP}.hist`, '_SUCCESS'));
      setMtimes(path.join(dir, V), T);
    },
    complete: true,
    check: (v) => {
      expect(v.modules[0]!.entries.map((e) => `${e.ext}:${e.complete}`)).toEqual([
        'csv:true',
        'schema:true',
        'meta:true',
        'hist:false',
        'edd:true',
      ]);
    },
  },
  {
    name: 'plain-file outputs (local export) with Python .meta',
    build: (dir) => writeVersion(dir, V, [{ fqn: ZIP, columns: COLUMNS, layout: 'plain', metaStyle: 'python' }], { mtime: T }),
    complete: true,
    check: (v) => {
      const mod = v.modules[0]!;
      expect(mod.entries.map((e) => [e.name, e.kind, e.complete])).toEqual([
        [`${ZIP}.csv`, 'file', true],
        [`${ZIP}.schema`, 'file', true],
        [`${ZIP}.meta`, 'file', true],
      ]);
      expect(mod.entries[0]!.bytes).toBe(fs.statSync(path.join(publishDir, V, `${ZIP}.csv`)).size);
      expect(mod.columns).toEqual(COLUMNS);
    },
  },
  {
    name: 'Python .meta in Spark layout',
    build: (dir) => writeVersion(dir, V, [{ fqn: ZIP, columns: COLUMNS, metaStyle: 'python', schema: false }], { mtime: T }),
    complete: true,
    check: (v) => expect(v.modules[0]!.columns).toEqual(COLUMNS),
  },
  {
    name: 'malformed .meta JSON: reported, columns from .schema, still complete',
    build: (dir) => writeVersion(dir, V, [{ fqn: ZIP, columns: COLUMNS, metaText: '{"fqn": "com.acme.geo.Zip", ' }], { mtime: T }),
    complete: true,
    check: (v) => {
      expect(v.modules[0]!.columns).toEqual(COLUMNS);
      expect(v.problems).toHaveLength(1);
      expect(v.problems[0]).toMatch(/^com\.acme\.geo\.Zip\.meta is not valid JSON/);
    },
  },
  {
    name: 'malformed .meta and no .schema: columns unknown',
    build: (dir) => writeVersion(dir, V, [{ fqn: ZIP, schema: false, metaText: 'not json' }], { mtime: T }),
    complete: true,
    check: (v) => {
      expect(v.modules[0]!.columns).toBeNull();
      expect(v.problems.join('\n')).toContain(`${ZIP}.meta is not valid JSON`);
    },
  },
  {
    name: '.meta split over several part files is concatenated in name order',
    build: (dir) => {
      writeVersion(dir, V, [{ fqn: ZIP, metaStyle: 'none', schema: false }], { mtime: T });
      const metaDir = path.join(dir, V, `${ZIP}.meta`);
      const doc = metaDocument(ZIP, COLUMNS);
      fs.mkdirSync(metaDir);
      fs.writeFileSync(path.join(metaDir, 'part-00001'), doc.slice(20));
      fs.writeFileSync(path.join(metaDir, 'part-00000'), doc.slice(0, 20));
      fs.writeFileSync(path.join(metaDir, '_SUCCESS'), '');
      setMtimes(path.join(dir, V), T);
    },
    complete: true,
    check: (v) => expect(v.modules[0]!.columns).toEqual(COLUMNS),
  },
  {
    name: 'csv in several parts; hidden .crc files are not counted',
    build: (dir) => writeVersion(dir, V, [{ fqn: ZIP, rows: 10, parts: 3 }], { mtime: T, crc: true }),
    complete: true,
    check: (v) => {
      const csvDir = path.join(publishDir, V, `${ZIP}.csv`);
      const parts = ['part-00000', 'part-00001', 'part-00002'].map((p) => fs.statSync(path.join(csvDir, p)).size);
      expect(fs.existsSync(path.join(csvDir, '.part-00000.crc'))).toBe(true);
      expect(v.modules[0]!.entries[0]!.bytes).toBe(parts.reduce((a, b) => a + b, 0));
    },
  },
  {
    name: '.hidden entries and _SUCCESS at version level are not modules',
    build: (dir) => {
      writeVersion(dir, V, [{ fqn: ZIP }], { mtime: T });
      fs.mkdirSync(path.join(dir, V, '.hidden'));
      fs.writeFileSync(path.join(dir, V, '.hidden', 'notes.txt'), 'x');
      fs.writeFileSync(path.join(dir, V, '_SUCCESS'), '');
      setMtimes(path.join(dir, V), T);
    },
    complete: true,
    check: (v) => {
      expect(v.modules.map((m) => m.fqn)).toEqual([ZIP]);
      expect(v.problems).toEqual([]);
    },
  },
  {
    name: '_temporary at version level',
    build: (dir) => {
      writeVersion(dir, V, [{ fqn: ZIP }], { mtime: T });
      fs.mkdirSync(path.join(dir, V, '_temporary', '0'), { recursive: true });
      setMtimes(path.join(dir, V), T);
    },
    complete: false,
    reasons: ['_temporary present at version level'],
  },
  {
    name: 'csv that is a dangling symlink',
    build: (dir) => {
      writeVersion(dir, V, [{ fqn: ZIP }], { mtime: T });
      fs.rmSync(path.join(dir, V, `${ZIP}.csv`), { recursive: true });
      fs.symlinkSync(path.join(dir, 'gone'), path.join(dir, V, `${ZIP}.csv`));
      setMtimes(path.join(dir, V), T);
    },
    complete: false,
    reasons: [`${ZIP}.csv is neither a file nor a directory`],
  },
  {
    name: 'version dir with no modules yet',
    build: (dir) => {
      fs.mkdirSync(path.join(dir, V));
      setMtimes(path.join(dir, V), T);
    },
    complete: false,
    reasons: ['no module outputs yet'],
  },
  {
    name: 'module matching no stage: listed with stage null and reported',
    build: (dir) =>
      writeVersion(dir, V, [{ fqn: ZIP }, { fqn: 'com.other.Thing' }, { fqn: 'com.acme.geography.X' }], { mtime: T }),
    complete: true,
    check: (v) => {
      expect(v.stages).toEqual([GEO]);
      expect(v.modules.map((m) => [m.fqn, m.stage])).toEqual([
        ['com.acme.geo.Zip', GEO],
        ['com.acme.geography.X', null],
        ['com.other.Thing', null],
      ]);
      expect(v.problems).toEqual([
        'module com.acme.geography.X matches no configured stage',
        'module com.other.Thing matches no configured stage',
      ]);
    },
  },
  {
    name: 'entry that is not <fqn>.<ext> is reported',
    build: (dir) => {
      writeVersion(dir, V, [{ fqn: ZIP }], { mtime: T });
      fs.writeFileSync(path.join(dir, V, 'README.txt'), 'hello');
      setMtimes(path.join(dir, V), T);
    },
    complete: true,
    check: (v) => expect(v.problems).toEqual(['README.txt is not a module output (expected <moduleFqn>.<csv|schema|meta|hist|edd>)']),
  },
  {
    name: 'one version holding several stages',
    build: (dir) => {
      writeVersion(dir, 'TCD.20160802', [{ fqn: ZIP }, { fqn: `${CMS}.Provider` }, { fqn: `${CMS}.Claims` }], { mtime: T });
    },
    complete: true,
    check: (v) => {
      expect(v.stages).toEqual([CMS, GEO]);
      expect(v.modules.map((m) => `${m.fqn}→${m.stage}`)).toEqual([
        `${CMS}.Claims→${CMS}`,
        `${CMS}.Provider→${CMS}`,
        `${ZIP}→${GEO}`,
      ]);
    },
  },
];

describe('scanVersion: SMV output trees', () => {
  it.each(cases)('$name', async (c) => {
    c.build(publishDir);
    const version = fs.readdirSync(publishDir)[0]!;
    const v = await scanOne(version);
    expect(v.version).toBe(version);
    expect(v.complete).toBe(c.complete);
    expect(v.incompleteReasons).toEqual(c.reasons ?? []);
    // Every case is long settled: an incomplete version here is still being written, not settling.
    expect(v.settling).toBe(false);
    c.check?.(v);
  });

  it('is not complete until nothing changed for settleSeconds', async () => {
    writeVersion(publishDir, V, [{ fqn: ZIP }], { mtime: T });
    const early = await scanOne(V, { now: T + 12_000, settleSeconds: 30 });
    expect(early.complete).toBe(false);
    expect(early.incompleteReasons).toEqual(['changed 12s ago (settleSeconds 30)']);
    // Fully written, only settling: the bot wakes up when the settle time is over.
    expect(early.settling).toBe(true);

    const settled = await scanOne(V, { now: T + 30_000, settleSeconds: 30 });
    expect(settled.complete).toBe(true);
    expect(settled.settling).toBe(false);
    expect(settled.completedAtMs).toBe(T);
  });

  it('with settleSeconds 0 a written version is complete at once, even with an mtime a moment ahead of the clock', async () => {
    writeVersion(publishDir, V, [{ fqn: ZIP }], { mtime: T + 1 });
    const now = await scanOne(V, { now: T, settleSeconds: 0 });
    expect(now.incompleteReasons).toEqual([]);
    expect(now.complete).toBe(true);
  });

  it('takes the newest mtime anywhere in the version, e.g. a part file rewritten late', async () => {
    writeVersion(publishDir, V, [{ fqn: ZIP }], { mtime: T });
    const part = path.join(publishDir, V, `${ZIP}.csv`, 'part-00000');
    fs.utimesSync(part, new Date(T + 20_000), new Date(T + 20_000));
    const v = await scanOne(V, { now: T + 30_000, settleSeconds: 30 });
    expect(v.lastChangeMs).toBe(T + 20_000);
    expect(v.incompleteReasons).toEqual(['changed 10s ago (settleSeconds 30)']);
  });

  it('reads columns from .schema when there is no .meta', async () => {
    writeVersion(publishDir, V, [{ fqn: ZIP, metaStyle: 'none' }], { mtime: T });
    const schemaPart = path.join(publishDir, V, `${ZIP}.schema`, 'part-00000');
    fs.writeFileSync(
      schemaPart,
      [
        '@delimiter = |',
        '@has-header = true',
        '# ids first',
        'zip: String;  // the key',
        'pop: Integer @metadata={"note":"see #4"}',
        'income: Decimal[10,2]',
        'this line is junk',
        '',
      ].join('\n'),
    );
    setMtimes(path.join(publishDir, V), T);
    const v = await scanOne(V);
    expect(v.modules[0]!.columns).toEqual([
      { name: 'zip', type: 'String' },
      { name: 'pop', type: 'Integer' },
      { name: 'income', type: 'Decimal[10,2]' },
    ]);
    expect(v.problems).toEqual([`${ZIP}.schema: skipped unreadable line "this line is junk"`]);
  });

  it('returns undefined for a version that does not exist', async () => {
    expect(await scanVersion(publishDir, 'nope', { stages: STAGES, settleSeconds: 0 })).toBeUndefined();
  });
});

/** Scans, collecting every version name listed; `known` ones are answered as known (not read). */
async function scanListing(dir: string, opts: Omit<ScanOptions, 'listed'>, known: ReadonlySet<string> = new Set()) {
  const listed: string[] = [];
  const result = await scanPublishDir(dir, {
    ...opts,
    listed: (name) => {
      listed.push(name);
      return known.has(name);
    },
  });
  return { ...result, listed: listed.sort() };
}

describe('scanPublishDir', () => {
  it('lists every version, reads only those not known', async () => {
    writeVersion(publishDir, 'TCD.20160801.geo', [{ fqn: ZIP }], { mtime: T });
    writeVersion(publishDir, 'TCD.20160802.geo', [{ fqn: ZIP }], { mtime: T });
    writeVersion(publishDir, 'TCD.20160803.geo', [{ fqn: ZIP, incomplete: 'temporary' }], { mtime: T });
    const opts = { stages: STAGES, settleSeconds: 30, now: T + 60_000 };

    const full = await scanListing(publishDir, opts);
    expect(full.listed).toEqual(['TCD.20160801.geo', 'TCD.20160802.geo', 'TCD.20160803.geo']);
    expect(full.versions.map((v) => `${v.version}:${v.complete}`)).toEqual([
      'TCD.20160801.geo:true',
      'TCD.20160802.geo:true',
      'TCD.20160803.geo:false',
    ]);
    expect(full.problems).toEqual([]);

    const known = new Set(full.versions.filter((v) => v.complete).map((v) => v.version));
    const again = await scanListing(publishDir, opts, known);
    expect(again.listed).toEqual(full.listed);
    expect(again.versions.map((v) => v.version)).toEqual(['TCD.20160803.geo']);
  });

  it('does not read known versions at all', async () => {
    writeVersion(publishDir, 'TCD.20160801.geo', [{ fqn: ZIP }], { mtime: T });
    // Were it read, this broken version would show up with problems and incomplete.
    fs.mkdirSync(path.join(publishDir, 'TCD.20160802.geo', `${ZIP}.csv`, '_temporary'), { recursive: true });
    const result = await scanListing(publishDir, { stages: STAGES, settleSeconds: 0 }, new Set(['TCD.20160802.geo']));
    expect(result.listed).toEqual(['TCD.20160801.geo', 'TCD.20160802.geo']);
    expect(result.versions.map((v) => v.version)).toEqual(['TCD.20160801.geo']);
  });

  it('ignores hidden dirs and plain files, reports dirs that are not valid version names', async () => {
    writeVersion(publishDir, 'TCD.20160802.geo', [{ fqn: ZIP }], { mtime: T });
    fs.mkdirSync(path.join(publishDir, '.snapshot'));
    fs.mkdirSync(path.join(publishDir, '_staging'));
    fs.writeFileSync(path.join(publishDir, 'README'), 'publish dir');
    fs.mkdirSync(path.join(publishDir, 'bad version'));
    const result = await scanListing(publishDir, { stages: STAGES, settleSeconds: 0 });
    expect(result.listed).toEqual(['TCD.20160802.geo']);
    expect(result.problems).toEqual([
      `ignored ${path.join(publishDir, 'bad version')}: "bad version" is not a valid version name`,
    ]);
  });

  it('follows a symlinked version dir that stays inside the publish dir', async () => {
    writeVersion(path.join(publishDir, '.store'), 'TCD.20160802.geo', [{ fqn: ZIP }], { mtime: T });
    fs.symlinkSync(path.join(publishDir, '.store', 'TCD.20160802.geo'), path.join(publishDir, 'TCD.20160802.geo'));
    const result = await scanPublishDir(publishDir, { stages: STAGES, settleSeconds: 30 });
    expect(result.versions.map((v) => `${v.version}:${v.complete}`)).toEqual(['TCD.20160802.geo:true']);
    expect(result.skipped).toEqual([]);
  });

  it('does not follow a version dir symlinked out of the publish dir, and says so', async () => {
    const elsewhere = makeTempDir('smvbot-scan-elsewhere-');
    try {
      writeVersion(elsewhere, 'TCD.20160802.geo', [{ fqn: ZIP }], { mtime: T });
      fs.symlinkSync(path.join(elsewhere, 'TCD.20160802.geo'), path.join(publishDir, 'TCD.20160802.geo'));
      fs.symlinkSync('/', path.join(publishDir, 'TCD.20160803.geo'));
      const result = await scanListing(publishDir, { stages: STAGES, settleSeconds: 30 });
      expect(result.listed).toEqual([]);
      expect(result.skipped.map((s) => s.path).sort()).toEqual(['TCD.20160802.geo', 'TCD.20160803.geo']);
      expect(result.skipped[0]!.reason).toMatch(/outside the publish dir/);
      expect(await scanVersion(publishDir, 'TCD.20160803.geo', { stages: STAGES, settleSeconds: 0 })).toMatchObject({ complete: false, modules: [] });
    } finally {
      removeDir(elsewhere);
    }
  });

  it('reports a missing publishDir instead of throwing', async () => {
    const missing = path.join(publishDir, 'not-there-yet');
    const result = await scanPublishDir(missing, { stages: STAGES, settleSeconds: 30 });
    expect(result).toEqual({
      versions: [],
      listedAll: false,
      problems: [`publishDir ${missing} does not exist (yet)`],
      troubles: [{ kind: 'not-found', detail: `publishDir ${missing} does not exist (yet)` }],
      skipped: [],
    });
  });
});

describe('layout helpers', () => {
  it.each([
    ['com.acme.geo.Zip', 'com.acme.geo'],
    ['com.acme.geo.sub.Zip', 'com.acme.geo.sub'],
    ['com.acme.geography.Zip', null],
    ['com.acme.geo', null],
  ])('module %s belongs to stage %s (longest prefix)', (fqn, stage) => {
    expect(moduleStage(fqn, ['com.acme.geo.sub', 'com.acme.geo', 'com.acme.cms'])).toBe(stage);
  });

  it('parses Scala, Python and StructType-shaped .meta columns', () => {
    expect(parseMetaColumns('{"columns":[{"name":"a","type":"string"}]}')).toEqual({ columns: [{ name: 'a', type: 'string' }] });
    expect(parseMetaColumns('{"_columns":[{"name":"a","type":"double"}]}')).toEqual({ columns: [{ name: 'a', type: 'double' }] });
    expect(parseMetaColumns('{"columns":{"type":"struct","fields":[{"name":"a","type":"long","nullable":true}]}}')).toEqual({
      columns: [{ name: 'a', type: 'long' }],
    });
    expect(parseMetaColumns('{"fqn":"x"}')).toEqual({ error: 'has no "columns" or "_columns" key' });
    expect(parseMetaColumns('[1]')).toEqual({ error: 'is not a JSON object' });
  });

  it('parses SmvSchema lines leniently', () => {
    expect(parseSchemaColumns('@delimiter = ,\nid: String[,_null_]\n  amt :Double ; # money\n???\n')).toEqual({
      columns: [
        { name: 'id', type: 'String[,_null_]' },
        { name: 'amt', type: 'Double' },
      ],
      skipped: ['???'],
    });
  });
});
