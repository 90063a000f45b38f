// Figure 3, announcement latency on the bot running normally (its own process, file watching and
// the every-minute schedule). Each sample: a version is written except the last `_SUCCESS`, the
// bot notices it as unfinished; then the clock starts, the `_SUCCESS` is written, and the clock
// stops when chat.postMessage for that version arrives at the stand-in (its arrival stamp).
import fs from 'node:fs';
import type { ApiCall, SlackStandIn } from '../../dev/slack/slackStandIn.ts';
import type { ChildServer } from './childServer.ts';
import { againstLimit, type Figure } from './report.ts';
import { median, percentile, round, sleep } from './stats.ts';
import type { BenchWorld } from './world.ts';

async function scansSoFar(bot: ChildServer): Promise<number> {
  return Number((await bot.healthz()).body.scans ?? 0);
}

function announces(version: string) {
  return (call: ApiCall) => {
    const meta = call.args.metadata as { event_payload?: { version?: string } } | undefined;
    return call.ok && (meta?.event_payload?.version === version || String(call.args.text ?? '').includes(version));
  };
}

export async function runAnnouncePhase(
  world: BenchWorld,
  standIn: SlackStandIn,
  bot: ChildServer,
  opts: { versions: number },
  progress: (msg: string) => void,
): Promise<Figure[]> {
  const latencies: number[] = [];
  for (let i = 0; i < opts.versions; i++) {
    const stage = i % world.stages.length;
    const version = world.freshVersionName(stage);
    const before = await scansSoFar(bot);
    const lastSuccess = world.publishAllButLastSuccess(stage, version);
    // Wait for the scan the new dir triggers (it finds the version unfinished and watches it).
    const deadline = Date.now() + 10_000;
    while ((await scansSoFar(bot)) <= before) {
      if (Date.now() > deadline) throw new Error(`the bot did not scan within 10 s of ${version} appearing:\n${bot.output()}`);
      await sleep(20);
    }
    await sleep(300);
    if (standIn.calls('chat.postMessage').some(announces(version))) throw new Error(`${version} was announced before its last _SUCCESS was written`);

    const writtenAt = Date.now();
    fs.writeFileSync(lastSuccess, '');
    const call = await standIn.waitForCall('chat.postMessage', announces(version), 65_000);
    latencies.push(call.atMs - writtenAt);
  }
  progress(`announce: ${latencies.map((l) => l.toFixed(0)).join(', ')} ms`);
  return [
    againstLimit('announce_p50_ms', median(latencies), 'ms', 1000, {
      samples: latencies.length,
      floorWhat: 'last _SUCCESS written → chat.postMessage at stand-in',
      extra: { max_ms: round(Math.max(...latencies)), p90_ms: round(percentile(latencies, 90)) },
    }),
  ];
}
