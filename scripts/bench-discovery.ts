// Benchmarks publish-dir discovery on a 10,000-version tree (50 stages × 200 versions, Spark
// layout). Targets: a full scan within 2× `find <dir> -name _SUCCESS`, and an incremental
// rescan (all known versions skipped, one new) within 5% of the full scan.
//
//   npx tsx scripts/bench-discovery.ts [--stages 50] [--versions 200] [--keep]
import { execFileSync } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { scanPublishDir } from '../src/infra/publishScanner.ts';
import { makeTempDir, removeDir, writeVersion } from '../test/support/publishFixtures.ts';

const { values: args } = parseArgs({
  options: {
    stages: { type: 'string', default: '50' },
    versions: { type: 'string', default: '200' },
    runs: { type: 'string', default: '3' },
    keep: { type: 'boolean', default: false },
  },
});
const stageCount = Number(args.stages);
const versionsPerStage = Number(args.versions);
const runs = Number(args.runs);

const stages = Array.from({ length: stageCount }, (_, i) => `com.acme.s${String(i).padStart(2, '0')}`);
const columns = [
  { name: 'id', type: 'String' },
  { name: 'zip', type: 'String' },
  { name: 'amt', type: 'Double' },
];

function buildFixture(publishDir: string): number {
  let count = 0;
  for (const stage of stages) {
    const base = stage.slice(stage.lastIndexOf('.') + 1);
    for (let v = 0; v < versionsPerStage; v++) {
      const version = `TCD.2016${String(100000 + v)}.${base}`;
      writeVersion(
        publishDir,
        version,
        [
          { fqn: `${stage}.Accounts`, columns, rows: 5 },
          { fqn: `${stage}.Summary`, columns, rows: 2 },
        ],
        { mtime: 'now' },
      );
      count++;
    }
  }
  return count;
}

async function timeIt(fn: () => Promise<unknown> | unknown): Promise<number> {
  const start = performance.now();
  await fn();
  return performance.now() - start;
}

/** Median of `runs` timings, after one warm-up so every figure sees a warm page cache. */
async function median(fn: () => Promise<unknown> | unknown): Promise<number> {
  await fn();
  const times: number[] = [];
  for (let i = 0; i < runs; i++) times.push(await timeIt(fn));
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)]!;
}

const publishDir = makeTempDir('smvbot-bench-');
try {
  process.stdout.write(`building ${stageCount * versionsPerStage} versions in ${publishDir} … `);
  const built = await timeIt(() => buildFixture(publishDir));
  process.stdout.write(`${(built / 1000).toFixed(1)}s\n`);
  const scanOpts = { stages, settleSeconds: 0 };

  let full = await scanPublishDir(publishDir, scanOpts);
  const fullMs = await median(async () => {
    full = await scanPublishDir(publishDir, scanOpts);
  });
  const complete = full.versions.filter((v) => v.complete).length;
  if (complete !== stageCount * versionsPerStage) throw new Error(`expected all versions complete, got ${complete}`);

  const known = new Set(full.present);
  writeVersion(publishDir, 'TCD.20990101.new', [{ fqn: `${stages[0]}.Accounts`, columns }], { mtime: 'now' });
  let incremental = await scanPublishDir(publishDir, { ...scanOpts, skip: known });
  const incrementalMs = await median(async () => {
    incremental = await scanPublishDir(publishDir, { ...scanOpts, skip: known });
  });
  if (incremental.versions.length !== 1) throw new Error('incremental scan should read exactly the new version');

  const findMs = await median(() => execFileSync('find', [publishDir, '-name', '_SUCCESS'], { maxBuffer: 1 << 28 }));

  const rows: [string, number, string][] = [
    ['find -name _SUCCESS', findMs, ''],
    ['full scan', fullMs, `${(fullMs / findMs).toFixed(2)}× find (target ≤ 2×)`],
    ['incremental scan', incrementalMs, `${((incrementalMs / fullMs) * 100).toFixed(2)}% of full (target ≤ 5%)`],
  ];
  console.log(`\n${full.present.length} versions, median of ${runs} runs (warm cache)`);
  for (const [name, ms, note] of rows) console.log(`${name.padEnd(22)} ${ms.toFixed(1).padStart(9)} ms  ${note}`);
  console.log();
  for (const [name, ms] of rows) {
    console.log(JSON.stringify({ bench: 'discovery', figure: name, ms: Number(ms.toFixed(2)), versions: full.present.length }));
  }
} finally {
  if (args.keep) console.log(`kept ${publishDir}`);
  else removeDir(publishDir);
}
