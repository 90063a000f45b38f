// Figure 1, ack latency of `/smv releases` on the bot holding every version, against a bare Bolt
// app (scripts/bench/floorApp.ts) in its own process. Rounds alternate bot/floor blocks, and
// which goes first, so drifting machine load hits both alike. One simulated user: each command's
// response_url answer is awaited (untimed for the ack) before the next command is sent. The
// client runs in its own process, so the stand-in receiving those answers here can't delay it.
import type { SlackStandIn } from '../../standin/slackStandIn.ts';
import { againstFloor, type Figure } from './report.ts';
import { RemoteClient } from './signedClient.ts';
import { median, percentile, round } from './stats.ts';
import { ADOPTER, SIGNING_SECRET, TEAM_CHANNEL } from './world.ts';

export interface AckPhaseOptions {
  rounds: number;
  perRound: number;
  warmup: number;
  /** A string every `/smv releases` answer must contain (proves the bot answered from its catalog). */
  expectInAnswer: string;
}

export async function runAckPhase(
  standIn: SlackStandIn,
  botUrl: string,
  floorUrl: string,
  opts: AckPhaseOptions,
  progress: (msg: string) => void,
): Promise<Figure[]> {
  const client = RemoteClient.start(SIGNING_SECRET);
  const bot: number[] = [];
  const floor: number[] = [];
  const answers: number[] = [];
  let answeredInAck = 0;

  const command = () => standIn.slashCommand({ text: 'releases', userId: ADOPTER, channelId: TEAM_CHANNEL });
  const askBot = async (keep: boolean) => {
    const req = command();
    const sentAt = Date.now();
    const ack = await client.send(botUrl, req);
    if (ack.status !== 200) throw new Error(`bot answered /smv releases with HTTP ${ack.status}: ${ack.text}`);
    // The answer is in the ack when the consumer's pins were read recently, else on response_url.
    const inAck = ack.text.trim() !== '';
    const answer = inAck ? { text: ack.text, atMs: sentAt + ack.ms } : await standIn.waitForResponse(req.responseUrl, 30_000).then((a) => ({ text: JSON.stringify(a.body), atMs: a.atMs }));
    if (!answer.text.includes(opts.expectInAnswer)) throw new Error(`/smv releases answer lacks ${opts.expectInAnswer}: ${answer.text.slice(0, 300)}`);
    if (keep) {
      bot.push(ack.ms);
      answers.push(answer.atMs - sentAt);
      if (inAck) answeredInAck++;
    }
  };
  const askFloor = async (keep: boolean) => {
    const ack = await client.send(floorUrl, command());
    if (ack.status !== 200) throw new Error(`floor app answered with HTTP ${ack.status}: ${ack.text}`);
    if (keep) floor.push(ack.ms);
  };

  try {
    for (let i = 0; i < opts.warmup; i++) {
      await askBot(false);
      await askFloor(false);
    }
    for (let round = 0; round < opts.rounds; round++) {
      const order = round % 2 === 0 ? [askBot, askFloor] : [askFloor, askBot];
      for (const ask of order) for (let i = 0; i < opts.perRound; i++) await ask(true);
      standIn.clearRecords();
    }
  } finally {
    client.close();
  }
  progress(`ack: bot p50 ${median(bot).toFixed(2)} p99 ${percentile(bot, 99).toFixed(2)} ms; floor p50 ${median(floor).toFixed(2)} p99 ${percentile(floor, 99).toFixed(2)} ms`);

  const what = `bare Bolt app acking /smv (same HTTPReceiver, signing, client)`;
  return [
    againstFloor('ack_p50_ms', median(bot), median(floor), null, { samples: bot.length, floorWhat: what }),
    againstFloor('ack_p99_ms', percentile(bot, 99), percentile(floor, 99), 1.2, {
      samples: bot.length,
      floorWhat: what,
      extra: { bot_max_ms: round(Math.max(...bot)), floor_max_ms: round(Math.max(...floor)) },
    }),
    {
      figure: 'releases_answer_p50_ms',
      value: median(answers),
      unit: 'ms',
      floor: null,
      ratio: null,
      goal: null,
      met: null,
      samples: answers.length,
      floorWhat: 'command sent → answer (in the ack, or on response_url after a git read)',
      extra: { p99_ms: round(percentile(answers, 99)), answered_in_ack: answeredInAck },
    },
  ];
}
