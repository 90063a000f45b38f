// Commands are answered while the bot walks the publish dir: `/smv help` acked during a bot's
// first start (its full scan of every version, /healthz 503 "starting") against the same bot
// once ready. One simulated user sends one command at a time from its own process. The first
// WARMUP acks of the fresh process are left out (its first requests compile the handlers).
import type { SlackStandIn } from '../../dev/slack/slackStandIn.ts';
import { startChildServer } from './childServer.ts';
import { againstFloor, type Figure } from './report.ts';
import { RemoteClient } from './signedClient.ts';
import { percentile, round, sleep } from './stats.ts';
import { ADOPTER, SIGNING_SECRET, TEAM_CHANNEL, type BenchWorld } from './world.ts';

const WARMUP = 20;

export async function runHelpDuringScanPhase(
  world: BenchWorld,
  standIn: SlackStandIn,
  bot: { entry: string; nodeArgs: string[]; port: number },
  progress: (msg: string) => void,
): Promise<Figure[]> {
  const server = await startChildServer({
    entry: bot.entry,
    env: world.env(world.newDataDir(), standIn.url, bot.port),
    cwd: world.root,
    port: bot.port,
    nodeArgs: bot.nodeArgs,
    until: 'listening',
  });
  const client = RemoteClient.start(SIGNING_SECRET);
  const help = async (): Promise<number> => {
    const ack = await client.send(server.eventsUrl, standIn.slashCommand({ text: 'help', userId: ADOPTER, channelId: TEAM_CHANNEL }));
    if (ack.status !== 200 || !ack.text.includes('/smv adopt')) throw new Error(`/smv help answered HTTP ${ack.status}: ${ack.text.slice(0, 200)}`);
    return ack.ms;
  };
  try {
    let scanning = (await server.healthz()).status !== 200;
    if (!scanning) throw new Error('the bot was ready before a command could be sent: no full scan to measure against');
    const poll = (async () => {
      while (scanning) {
        await sleep(50);
        if ((await server.healthz()).status === 200) scanning = false;
      }
    })();
    const acks: number[] = [];
    while (scanning) acks.push(await help());
    await poll;
    const during = acks.slice(WARMUP);
    if (during.length < 100) throw new Error(`only ${acks.length} acks during the first scan: too short to measure (try more versions)`);
    const idle: number[] = [];
    for (let i = 0; i < Math.max(200, during.length); i++) idle.push(await help());
    progress(`/smv help during the first scan: ${during.length} acks, p99 ${percentile(during, 99).toFixed(2)} ms; idle p99 ${percentile(idle, 99).toFixed(2)} ms`);
    return [
      againstFloor('help_ack_during_scan_p99_ms', percentile(during, 99), percentile(idle, 99), 3, {
        samples: during.length,
        floorWhat: `/smv help ack p99 of the same bot once ready (${idle.length} samples)`,
        extra: { warmup_acks_left_out: WARMUP, during_max_ms: round(Math.max(...during)), idle_max_ms: round(Math.max(...idle)), versions: world.size.stages * world.size.versionsPerStage },
      }),
    ];
  } finally {
    client.close();
    await server.stop();
  }
}
