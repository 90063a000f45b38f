// `npm run bench`: smvbot measured against floors taken on the same machine in the same run.
//
//   1. ack latency of `/smv releases` (10,000 versions) vs a bare Bolt app acking
//      the same answer (and, for context, one acking empty)                       goal p99 ≤ 1.2×
//   2. start-up (full) scan vs `find -name _SUCCESS`                              goal ≤ 1.5×
//      `/smv help` ack p99 while a first start scans, vs the same bot once ready    goal ≤ 3×
//      rescan after one new version (incremental, its post apart) vs the full scan goal ≤ 5%
//   3. announcement latency: last `_SUCCESS` written → chat.postMessage           goal p50 ≤ 1 s
//   4. adopt end-to-end vs the same git steps in a shell script                   goal p50 ≤ 1.5×
//      20 concurrent adopts for 20 stages                                         goal all land
//   5. RSS of the bot process holding 10,000 versions                             goal ≤ 150 MB
//   6. rescan finding one new version vs one finding nothing new                  goal ≤ 2×
//      start-up with every version known, beyond the publish-dir walk             goal ≤ 3 s
//   (the same at 100,000 versions: npm run bench -- --stages 500 --versions 200;
//    with many stages: npm run bench -- --stages 2500 --versions 4)
//   7. --replicas N: N processes on one PostgreSQL schema against the single process above:
//      announcement p50, a burst of adopts for one consumer, failover after kill -9 of the leader
//   8. --stores (only this, not the above): publish dirs on S3 (moto) and HDFS (MiniDFSCluster),
//      10,000 versions each: full scan vs the store's minimal listing by a bare script  goal time ≤ 1.5×, requests ≤ 1.2×
//      rescan with nothing new                                    goal requests = the root listing's pages
//      last file written → announcement, with POST /hooks/published   goal p50 ≤ 1 s
//      the same without the hook, scan.schedule every 5 s          goal p50 ≤ 6 s
//      (scripts/bench/storesPhase.ts; --store moto|hdfs for one of them, --store-versions N)
//
// Prints a table, then one JSON line per figure on stdout (progress goes to stderr).
// Everything is built in a temp dir and removed at the end (--keep leaves it).
//
//   npm run bench [-- --stages 50 --versions 200 --replicas 3 --keep --profile-bot <dir> --bot-node-args="<node flags>"]
//   npm run bench -- --stores [--store moto|hdfs --store-versions 10000]
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import fs, { readFileSync, writeFileSync } from 'node:fs';
import { SlackStandIn } from '../dev/slack/slackStandIn.ts';
import { releasesAnswerOf, runAckPhase } from './bench/ackPhase.ts';
import { runAdoptPhase } from './bench/adoptPhase.ts';
import { runAnnouncePhase } from './bench/announcePhase.ts';
import { runHelpDuringScanPhase } from './bench/helpDuringScanPhase.ts';
import { freePort, startChildServer, type ChildServer } from './bench/childServer.ts';
import { againstLimit, jsonLine, table, type Figure } from './bench/report.ts';
import { adoptBurst, requirePostgresServer, runReplicaPhase } from './bench/replicaPhase.ts';
import { runScanPhase } from './bench/scanPhase.ts';
import { runStoresPhase, type StoreName, type StoresPhaseResult } from './bench/storesPhase.ts';
import { makeTempDir } from '../dev/world/publishFixtures.ts';
import { round } from './bench/stats.ts';
import { ADMIN, ADOPTER, BOT_TOKEN, BenchWorld, SIGNING_SECRET } from './bench/world.ts';

const { values: args } = parseArgs({
  options: {
    stages: { type: 'string', default: '50' },
    versions: { type: 'string', default: '200' },
    keep: { type: 'boolean', default: false },
    /** Write a CPU profile of the bot process (node --cpu-prof) into this dir. */
    'profile-bot': { type: 'string' },
    /** Extra node flags for the bot process, to try a fix: --bot-node-args="--max-semi-space-size=2" */
    'bot-node-args': { type: 'string' },
    /** Also run N replicas on PostgreSQL (a schema of their own, dropped afterwards); 0 = not. */
    replicas: { type: 'string', default: '0' },
    /** Only the publish-dir stores phase (S3 on moto, HDFS on MiniDFSCluster). */
    stores: { type: 'boolean', default: false },
    /** With --stores: one store only. */
    store: { type: 'string' },
    'store-versions': { type: 'string', default: '10000' },
  },
});

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const started = performance.now();
const progress = (msg: string) => process.stderr.write(`[${((performance.now() - started) / 1000).toFixed(1).padStart(5)}s] ${msg}\n`);

function machine(): Record<string, string | number> {
  const cpu = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? os.cpus()[0]?.model ?? 'unknown';
  return { nproc: os.availableParallelism(), cpu, node: process.version, load1: round(os.loadavg()[0]!) };
}

if (args.stores) {
  process.exitCode = await runStoresOnly();
  process.exit();
}

const stageCount = Number(args.stages);
const versionsPerStage = Number(args.versions);
if (!Number.isInteger(stageCount) || stageCount < 3 || !Number.isInteger(versionsPerStage) || versionsPerStage < 2) {
  process.stderr.write(`--stages must be a whole number ≥ 3 and --versions ≥ 2 (got ${args.stages}, ${args.versions}); e.g. npm run bench -- --stages 5 --versions 20\n`);
  process.exit(2);
}
const replicaCount = Number(args.replicas);
if (!Number.isInteger(replicaCount) || replicaCount === 1 || replicaCount < 0) {
  process.stderr.write(`--replicas must be a whole number ≥ 2 (got ${args.replicas}); e.g. npm run bench -- --replicas 3\n`);
  process.exit(2);
}
// Adopts for one consumer in the replica burst (and the same against the single process).
const BURST_ADOPTS = 30;
const world = new BenchWorld({ stages: stageCount, versionsPerStage });
const standIn = new SlackStandIn({ botToken: BOT_TOKEN, users: { [ADOPTER]: 'Bea Adopter', [ADMIN]: 'Ada Admin' } });
const children: ChildServer[] = [];
const figures: Figure[] = [];
const before = machine();
let exitCode = 0;
// Ctrl-C: don't leave bot processes or ~200,000 fixture files behind.
process.once('SIGINT', () => {
  progress('interrupted: stopping the servers and removing the fixture');
  void Promise.allSettled(children.map((c) => c.stop())).then(() => {
    if (!args.keep) world.cleanup();
    process.exit(130);
  });
});
try {
  // Before the long part: --replicas without a PostgreSQL server fails now, saying what it needs.
  const postgresUrl = replicaCount ? await requirePostgresServer() : undefined;
  await standIn.start();
  progress(`building ${world.size.stages} stages × ${world.size.versionsPerStage} versions in ${world.root}`);
  await world.build();
  progress(`built in ${(world.buildMs / 1000).toFixed(1)} s`);

  // 2. Scan cost, in this process.
  const scan = await runScanPhase(world, standIn, { fullRuns: 3, findRuns: 3, incrementalRuns: 5 }, progress);
  figures.push(...scan.figures);

  // The bot as `npm start` runs it, on the state the last full scan left, and the floor app.
  const botPort = await freePort();
  const start = npmStartCommand();
  progress(`building the bot as npm start does: npm run build`);
  execFileSync(process.execPath, [path.join(repoRoot, 'node_modules/typescript/bin/tsc'), '-p', path.join(repoRoot, 'tsconfig.build.json')], { stdio: 'inherit' });
  const startedAt = performance.now();
  const bot = await startChildServer({
    entry: start.entry,
    env: world.env(scan.dataDir, standIn.url, botPort),
    cwd: world.root,
    port: botPort,
    nodeArgs: [
      ...start.nodeArgs,
      ...(args['bot-node-args']?.split(/\s+/).filter(Boolean) ?? []),
      ...(args['profile-bot'] ? ['--cpu-prof', `--cpu-prof-dir=${path.resolve(args['profile-bot'])}`] : []),
    ],
  });
  children.push(bot);
  const startMs = performance.now() - startedAt;
  // Start-up with every version known: process start, state open, one walk of the publish dir.
  figures.push(
    againstLimit('startup_beyond_walk_ms', Math.max(0, startMs - scan.noopRescanMs), 'ms', 3000, {
      floorWhat: 'spawn → /healthz 200, less a rescan that finds nothing new (the walk)',
      extra: { startup_ms: round(startMs), walk_ms: round(scan.noopRescanMs), versions: world.size.stages * world.size.versionsPerStage },
    }),
  );
  const atReady = bot.memory();
  progress(`bot process ${bot.pid} ready, RSS ${atReady.rssMb.toFixed(1)} MB`);
  // 1. Ack latency: 2,000 acks each, so p99 is the 20th slowest, not one stall in 400.
  // Long answers are cut with "… and N more" (Slack's limits): check an early stage, always shown, and not
  // stage 0, whose newest versions the scan phase published.
  const checkedStage = 1;
  const expectInAnswer = world.versionName(checkedStage, world.size.versionsPerStage - 1);
  // Two bare Bolt floors: one acks with the bot's own answer (the same bytes: what answering costs
  // without the bot's work), one acks empty (context: what carrying the answer costs).
  const answerFile = path.join(world.root, 'floor-answer.json');
  writeFileSync(answerFile, await releasesAnswerOf(standIn, bot.eventsUrl, expectInAnswer));
  const floors: ChildServer[] = [];
  for (const answer of [answerFile, undefined]) {
    const floorPort = await freePort();
    const floor = await startChildServer({
      entry: path.join(repoRoot, 'scripts/bench/floorApp.ts'),
      env: {
        PATH: process.env.PATH ?? '',
        SLACK_SIGNING_SECRET: SIGNING_SECRET,
        SLACK_BOT_TOKEN: BOT_TOKEN,
        SLACK_API_URL: standIn.url,
        PORT: String(floorPort),
        ...(answer ? { FLOOR_ANSWER: answer } : {}),
      },
      cwd: world.root,
      port: floorPort,
    });
    children.push(floor);
    floors.push(floor);
  }
  figures.push(
    ...(await runAckPhase(standIn, bot.eventsUrl, { sameAnswer: floors[0]!.eventsUrl, empty: floors[1]!.eventsUrl }, { rounds: 100, perRound: 20, warmup: 20, expectInAnswer }, progress)),
  );
  for (const floor of floors) await floor.stop();
  progress(`bot RSS after the ack phase ${bot.memory().rssMb.toFixed(1)} MB`);
  // 2b. Acks while another bot process walks every version on its first start.
  figures.push(...(await runHelpDuringScanPhase(world, standIn, { entry: start.entry, nodeArgs: start.nodeArgs, port: await freePort() }, progress)));

  // 3. Announcements, with the bot's watcher and schedule running.
  figures.push(...(await runAnnouncePhase(world, standIn, bot, { versions: 10 }, progress)));

  // 4. Adopt.
  standIn.clearRecords();
  figures.push(...(await runAdoptPhase(world, standIn, bot.eventsUrl, { samples: 20, concurrent: 20 }, progress)));

  // 5. Memory, after everything above ran in the bot process.
  const atEnd = bot.memory();
  progress(`bot RSS at end ${atEnd.rssMb.toFixed(1)} MB (peak ${atEnd.hwmMb.toFixed(1)} MB)`);
  figures.push(
    againstLimit('rss_mb', Math.max(atReady.rssMb, atEnd.rssMb), 'MB', 150, {
      floorWhat: 'VmRSS of the bot process (max of ready / end)',
      extra: { rss_ready_mb: round(atReady.rssMb), rss_end_mb: round(atEnd.rssMb), vmhwm_mb: round(atEnd.hwmMb), rss_anon_end_mb: round(atEnd.anonMb), versions: world.size.stages * world.size.versionsPerStage },
    }),
  );
  // 7. Replicas: first the single process's share (one consumer's burst of adopts), then the replicas.
  const singleAdopts = postgresUrl ? await adoptBurst(world, standIn, [bot.eventsUrl], world.stages.length - 1, BURST_ADOPTS) : undefined;
  if (singleAdopts) progress(`single process: ${singleAdopts.sent} adopts for one consumer, ${singleAdopts.newCommits} commits, ${singleAdopts.totalMs.toFixed(0)} ms`);
  const stopCode = await bot.stop();
  if (stopCode !== 0) progress(`bot exited with code ${stopCode} on SIGTERM:\n${bot.output()}`);
  if (postgresUrl && singleAdopts) {
    standIn.clearRecords();
    const announceP50Ms = figures.find((f) => f.figure === 'announce_p50_ms')!.value;
    figures.push(
      ...(await runReplicaPhase(
        world,
        standIn,
        { announceP50Ms, startupMs: startMs, adopts: singleAdopts },
        { replicas: replicaCount, serverUrl: postgresUrl, entry: start.entry, nodeArgs: start.nodeArgs, announceVersions: 10, adopts: BURST_ADOPTS, adoptStage: world.stages.length - 2 },
        progress,
      )),
    );
  }
} catch (error) {
  exitCode = 1;
  progress(`benchmark failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  for (const child of children) progress(`output of process ${child.pid}:\n${child.output()}`);
} finally {
  for (const child of children) await child.stop().catch(() => undefined);
  await standIn.close();
  if (args.keep) progress(`kept ${world.root}`);
  else world.cleanup();
}

const after = machine();
const totalS = (performance.now() - started) / 1000;
if (figures.length) {
  console.log(`\nsmvbot bench — ${world.size.stages * world.size.versionsPerStage} versions (${world.size.stages} stages × ${world.size.versionsPerStage}), fixture built in ${(world.buildMs / 1000).toFixed(1)} s`);
  console.log(`machine: ${before.nproc} cores, ${before.cpu}, node ${before.node}; load ${before.load1} at start, ${after.load1} at end; total ${totalS.toFixed(1)} s\n`);
  console.log(table(figures));
  console.log();
  for (const f of figures) console.log(jsonLine(f));
}
if (figures.some((f) => f.met === false)) progress(`goals missed: ${figures.filter((f) => f.met === false).map((f) => f.figure).join(', ')}`);
process.exitCode = exitCode;

/** `npm run bench -- --stores`: the stores phase alone, its own table and JSON lines. */
async function runStoresOnly(): Promise<number> {
  const stores: StoreName[] | undefined = args.store === undefined ? ['moto', 'hdfs'] : args.store === 'moto' || args.store === 'hdfs' ? [args.store] : undefined;
  const versions = Number(args['store-versions']);
  if (stores === undefined || !Number.isInteger(versions) || versions < 20) {
    process.stderr.write(`--store is moto or hdfs (got ${args.store}); --store-versions a whole number ≥ 20 (got ${args['store-versions']})\n`);
    return 2;
  }
  const root = makeTempDir('smvbot-bench-stores-');
  const standIn = new SlackStandIn({ botToken: BOT_TOKEN });
  const before = machine();
  let result: StoresPhaseResult | undefined;
  let code = 0;
  const cleanup = () => (args.keep ? progress(`kept ${root}`) : fs.rmSync(root, { recursive: true, force: true }));
  process.once('SIGINT', () => {
    progress('interrupted: the stores stop with this process (moto is killed, MiniDFSCluster exits when its pipe closes)');
    cleanup();
    process.exit(130);
  });
  try {
    await standIn.start();
    const start = npmStartCommand();
    progress('building the bot as npm start does: npm run build');
    execFileSync(process.execPath, [path.join(repoRoot, 'node_modules/typescript/bin/tsc'), '-p', path.join(repoRoot, 'tsconfig.build.json')], { stdio: 'inherit' });
    result = await runStoresPhase(
      {
        root,
        stores,
        versions,
        stages: 5,
        writeConcurrency: 16,
        scanRuns: 3,
        rescanRuns: 3,
        announceHistory: 200,
        announceSamples: 10,
        bot: start,
        standIn,
      },
      progress,
    );
  } catch (error) {
    code = 1;
    progress(`stores benchmark failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  } finally {
    await standIn.close();
    cleanup();
  }
  if (result) {
    const after = machine();
    const setups = result.setups.map((s) => `${s.store} ${s.versions} versions written in ${(s.ms / 1000).toFixed(1)} s (16 in flight; store started in ${(s.startMs / 1000).toFixed(1)} s)`);
    console.log(`\nsmvbot bench --stores — ${versions} versions per store; set-up (not a figure): ${setups.join('; ')}`);
    console.log(`machine: ${before.nproc} cores, ${before.cpu}, node ${before.node}; load ${before.load1} at start, ${after.load1} at end; total ${((performance.now() - started) / 1000).toFixed(1)} s\n`);
    console.log(table(result.figures));
    console.log();
    for (const f of result.figures) console.log(jsonLine(f));
    if (result.figures.some((f) => f.met === false)) progress(`goals missed: ${result.figures.filter((f) => f.met === false).map((f) => f.figure).join(', ')}`);
  }
  return code;
}

/** `node <flags> <entry>` exactly as package.json's start script runs the bot. */
function npmStartCommand(): { entry: string; nodeArgs: string[] } {
  const pkg = JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as { scripts: { start: string } };
  // `exec` only makes node npm's direct child; the command is the same.
  const words = pkg.scripts.start.trim().replace(/^exec\s+/, '').split(/\s+/);
  if (words[0] !== 'node' || words.length < 2) throw new Error(`bench expects "start": "node [flags] <entry>", found "${pkg.scripts.start}"`);
  return { entry: path.join(repoRoot, words[words.length - 1]!), nodeArgs: words.slice(1, -1) };
}
