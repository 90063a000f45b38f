import fs from 'node:fs';
import { Session } from 'node:inspector/promises';
import { performance } from 'node:perf_hooks';
import { BenchWorld } from './world.ts';
import { SlackStandIn } from '../../src/slack/standIn/slackStandIn.ts';
import { createLogger } from '../../src/infra/logger.ts';
import { startBot } from '../../src/main.ts';
const world = new BenchWorld({ stages: 50, versionsPerStage: 200 });
(world as any).root = '/tmp/zz-bench-world'; (world as any).publishDir = '/tmp/zz-bench-world/publish'; (world as any).configPath = '/tmp/zz-bench-world/smvbot.yml';
const standIn = new SlackStandIn({ botToken: 'xoxb-bench-0000-bot-token' });
await standIn.start();
const dataDir = '/tmp/zz-bench-world/data-exp';
const bot = await startBot(world.config(dataDir, standIn.url), { manualScans: true, logger: createLogger({ level: 'silent' as never }) });
const session = new Session(); session.connect();
await session.post('Profiler.enable'); await session.post('Profiler.setSamplingInterval', { interval: 200 }); await session.post('Profiler.start');
for (let i = 0; i < 5; i++) {
  world.publish(0, `TCD.2099020${i}.s00`);
  let t = performance.now(); const s = await bot.scanNow(); console.log('incr', performance.now() - t, s.recorded, s.announced);
  t = performance.now(); await bot.scanNow(); console.log('noop', performance.now() - t);
}
const { profile } = await session.post('Profiler.stop');
fs.writeFileSync('/tmp/zz-incr.cpuprofile', JSON.stringify(profile));
await bot.stop(); await standIn.close();
for (let i = 0; i < 5; i++) fs.rmSync(`/tmp/zz-bench-world/publish/TCD.2099020${i}.s00`, { recursive: true });
