// Figure 2, scan cost, on the bot in this process (startBot with manual scans):
// - full: startBot() on an empty data dir until it is ready; the first scan reads and records
//   every version (silently, first start), so this is the bot's whole start-up scan;
// - incremental: a scan after one new complete version appeared (reads it, records it with its
//   announcement pending, in one transaction); the post that follows runs apart from scans
//   (AnnouncementDelivery) and is checked here untimed (its latency is announce_p50_ms);
// - floor: `find <publishDir> -name _SUCCESS`, timed as a process from spawn to exit.
// Full and find runs alternate, so both see the same machine state.
import { execFile } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { createLogger } from '../../src/infra/runtime/logger.ts';
import { startBot, type RunningBot } from '../../src/main.ts';
import type { SlackStandIn } from '../../dev/slack/slackStandIn.ts';
import { againstFloor, type Figure } from './report.ts';
import { median, timeMs } from './stats.ts';
import type { BenchWorld } from './world.ts';

export interface ScanPhaseResult {
  figures: Figure[];
  /** Data dir of the last full run, holding every version: the child bot starts from it. */
  dataDir: string;
  /** Median rescan that finds nothing new: the walk of a start-up with every version known. */
  noopRescanMs: number;
}

function timeFind(publishDir: string): Promise<{ ms: number; found: number }> {
  return new Promise((resolve, reject) => {
    const start = performance.now();
    execFile('find', [publishDir, '-name', '_SUCCESS'], { maxBuffer: 1 << 28 }, (error, stdout) => {
      const ms = performance.now() - start;
      if (error) reject(error);
      else resolve({ ms, found: stdout.split('\n').filter(Boolean).length });
    });
  });
}

async function startFresh(world: BenchWorld, standIn: SlackStandIn, dataDir: string): Promise<RunningBot> {
  return startBot(world.config(dataDir, standIn.url), {
    manualScans: true,
    retryConfig: { retries: 2, factor: 1, minTimeout: 10, maxTimeout: 20 },
    logger: createLogger({ level: 'silent' as never }),
  });
}

function recordedVersions(bot: RunningBot): Promise<number> {
  return bot.state.countVersions();
}

export async function runScanPhase(
  world: BenchWorld,
  standIn: SlackStandIn,
  opts: { fullRuns: number; findRuns: number; incrementalRuns: number },
  progress: (msg: string) => void,
): Promise<ScanPhaseResult> {
  const expected = world.size.stages * world.size.versionsPerStage;
  await timeFind(world.publishDir); // warm-up: page cache and dentries as warm for find as for the bot

  const fullMs: number[] = [];
  const findMs: number[] = [];
  let findFound = 0;
  let bot: RunningBot | undefined;
  let dataDir = '';
  for (let i = 0; i < Math.max(opts.fullRuns, opts.findRuns); i++) {
    if (i < opts.fullRuns) {
      if (bot) {
        await bot.stop();
        world.removeDir(dataDir);
      }
      dataDir = world.newDataDir();
      let started: RunningBot | undefined;
      fullMs.push(await timeMs(async () => (started = await startFresh(world, standIn, dataDir))));
      bot = started!;
      const recorded = await recordedVersions(bot);
      if (recorded !== expected) throw new Error(`full scan recorded ${recorded} versions, expected ${expected}`);
      progress(`full scan ${i + 1}/${opts.fullRuns}: ${fullMs.at(-1)!.toFixed(0)} ms`);
    }
    if (i < opts.findRuns) {
      const find = await timeFind(world.publishDir);
      findMs.push(find.ms);
      findFound = find.found;
      progress(`find ${i + 1}/${opts.findRuns}: ${find.ms.toFixed(0)} ms (${find.found} _SUCCESS)`);
    }
  }
  if (!bot) throw new Error('no full scan ran');
  const posted = standIn.calls('chat.postMessage').length;
  if (posted !== 0) throw new Error(`a first start must record existing versions silently, but ${posted} were announced`);

  // Nothing changed: what every scheduled scan costs.
  const noopMs: number[] = [];
  for (let i = 0; i < 3; i++) noopMs.push(await timeMs(() => bot!.scanNow({ post: false })));

  standIn.clearRecords();
  const incrementalMs: number[] = [];
  for (let i = 0; i < opts.incrementalRuns; i++) {
    world.publish(0, world.freshVersionName(0));
    let summary: Awaited<ReturnType<RunningBot['scanNow']>> | undefined;
    incrementalMs.push(await timeMs(async () => (summary = await bot!.scanNow({ post: false }))));
    const delivered = await bot.scanNow();
    if (summary!.recorded !== 1 || delivered.announced !== 1) {
      throw new Error(
        `incremental scan should record and announce 1 version, got recorded=${summary!.recorded} announced=${delivered.announced} ` +
          `pending=${JSON.stringify(summary!.pending.map((p) => [p.version.version, p.version.incompleteReasons]))} problems=${JSON.stringify(summary!.problems.slice(0, 5))}`,
      );
    }
  }
  progress(`incremental scans: ${incrementalMs.map((m) => m.toFixed(0)).join(', ')} ms`);
  await bot.stop();

  const full = median(fullMs);
  const find = median(findMs);
  const incremental = median(incrementalMs);
  const noop = median(noopMs);
  return {
    dataDir,
    noopRescanMs: noop,
    figures: [
      againstFloor('scan_full_ms', full, find, 1.5, {
        samples: fullMs.length,
        floorWhat: `find -name _SUCCESS (median of ${findMs.length}, ${findFound} found)`,
        extra: { versions: expected, find_runs: findMs.length },
      }),
      againstFloor('scan_incremental_ms', incremental, full, 0.05, {
        samples: incrementalMs.length,
        floorWhat: 'scan_full_ms (goal is a share of it)',
        extra: { noop_rescan_ms: Math.round(noop * 100) / 100 },
      }),
      // Cost grows with what changed, not with history: one new version vs nothing new.
      againstFloor('rescan_one_new_ms', incremental, noop, 2, {
        samples: incrementalMs.length,
        floorWhat: `a rescan that finds nothing new (median of ${noopMs.length})`,
        extra: { versions: expected },
      }),
    ],
  };
}
