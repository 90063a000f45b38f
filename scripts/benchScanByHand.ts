// Not part of `npm run bench` yet: times a full scan of a BenchWorld against `find -name _SUCCESS`,
// scanner alone and the whole bot start-up (first scan records every version), for given sizes.
//   npx tsx scripts/benchScanByHand.ts 50x200 2500x4
import { execFile } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { createLogger } from '../src/infra/logger.ts';
import { scanPublishDir } from '../src/infra/publishScanner.ts';
import { startBot } from '../src/main.ts';
import { SlackStandIn } from '../standin/slackStandIn.ts';
import { median } from './bench/stats.ts';
import { BOT_TOKEN, BenchWorld } from './bench/world.ts';

function timeFind(dir: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const start = performance.now();
    execFile('find', [dir, '-name', '_SUCCESS'], { maxBuffer: 1 << 28 }, (error) => (error ? reject(error) : resolve(performance.now() - start)));
  });
}

for (const arg of process.argv.slice(2)) {
  const [stages, perStage] = arg.split('x').map(Number) as [number, number];
  const world = new BenchWorld({ stages, versionsPerStage: perStage });
  await world.build();
  const standIn = new SlackStandIn({ botToken: BOT_TOKEN });
  await standIn.start();
  await timeFind(world.publishDir);
  const find: number[] = [];
  const scan: number[] = [];
  const full: number[] = [];
  for (let i = 0; i < 3; i++) {
    find.push(await timeFind(world.publishDir));
    let t = performance.now();
    const result = await scanPublishDir(world.publishDir, { stages: world.stages, settleSeconds: 0 });
    scan.push(performance.now() - t);
    if (result.versions.filter((v) => v.complete).length !== stages * perStage) throw new Error('not every version complete');
    const dataDir = world.newDataDir();
    t = performance.now();
    const bot = await startBot(world.config(dataDir, standIn.url), { manualScans: true, logger: createLogger({ level: 'silent' as never }) });
    full.push(performance.now() - t);
    await bot.stop();
    world.removeDir(dataDir);
  }
  const f = median(find);
  console.log(
    `${stages} stages x ${perStage} = ${stages * perStage} versions: find ${f.toFixed(0)} ms; ` +
      `scanner ${median(scan).toFixed(0)} ms (${(median(scan) / f).toFixed(2)}x); bot start-up scan ${median(full).toFixed(0)} ms (${(median(full) / f).toFixed(2)}x)`,
  );
  await standIn.close();
  world.cleanup();
}
