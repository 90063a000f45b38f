import fs from 'node:fs';
import { performance } from 'node:perf_hooks';
import { BenchWorld } from './world.ts';
import { SlackStandIn } from '../../src/slack/standIn/slackStandIn.ts';
import { createLogger } from '../../src/infra/logger.ts';
import { startBot } from '../../src/main.ts';
const world = new BenchWorld({ stages: 50, versionsPerStage: 200 });
(world as any).root = '/tmp/zz-bench-world';
(world as any).publishDir = '/tmp/zz-bench-world/publish';
(world as any).remote = '/tmp/zz-bench-world/client-model.git';
(world as any).floorClone = '/tmp/zz-bench-world/floor-clone';
(world as any).configPath = '/tmp/zz-bench-world/smvbot.yml';
if (!fs.existsSync('/tmp/zz-bench-world/smvbot.yml')) { fs.mkdirSync('/tmp/zz-bench-world', {recursive: true}); await world.build(); console.log('built'); }
const standIn = new SlackStandIn({ botToken: 'xoxb-bench-0000-bot-token' });
await standIn.start();
const dataDir = '/tmp/zz-bench-world/data-exp';
fs.rmSync(dataDir, { recursive: true, force: true }); fs.mkdirSync(dataDir);
let t = performance.now();
const bot = await startBot(world.config(dataDir, standIn.url), { manualScans: true, logger: createLogger({ level: 'silent' as never }) });
console.log('full', performance.now() - t, 'state bytes', fs.statSync(dataDir + '/smvbot.json').size);
for (let i = 0; i < 5; i++) {
  world.publish(0, `TCD.2099010${i}.s00`);
  t = performance.now(); const s = await bot.scanNow(); console.log('incr', performance.now() - t, s.recorded, s.announced);
}
t = performance.now(); await bot.scanNow(); console.log('noop', performance.now() - t);
t = performance.now(); await bot.state.update(() => {}); console.log('one state write', performance.now() - t);
await bot.stop(); await standIn.close();
for (let i = 0; i < 5; i++) fs.rmSync(`/tmp/zz-bench-world/publish/TCD.2099010${i}.s00`, { recursive: true });
