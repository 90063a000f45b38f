// Figure 1, ack latency of `/smv releases` on the bot holding every version, against bare Bolt
// apps (scripts/bench/floorApp.ts) in their own processes: one acking the bot's own answer (the
// floor of the goal: the same bytes without the bot's work) and one acking empty (context: what
// carrying a 20 KB answer costs). Requests go to each in turn, so drifting machine load hits
// all alike. One simulated user: each command's response_url answer is awaited (untimed for the
// ack) before the next command is sent. The client runs in its own process, so the stand-in
// receiving those answers here can't delay it.
import type { SlackStandIn } from '../../dev/slack/slackStandIn.ts';
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

/**
 * The bot's answer to `/smv releases` as its ack carries it (JSON), once a pin read is at hand
 * (the first answer may come on response_url after reading git).
 */
export async function releasesAnswerOf(standIn: SlackStandIn, botUrl: string, expectInAnswer: string): Promise<string> {
  const client = RemoteClient.start(SIGNING_SECRET);
  try {
    for (let attempt = 0; attempt < 5; attempt++) {
      const req = standIn.slashCommand({ text: 'releases', userId: ADOPTER, channelId: TEAM_CHANNEL });
      const ack = await client.send(botUrl, req);
      if (ack.status === 200 && ack.text.includes(expectInAnswer)) return ack.text;
      await standIn.waitForResponse(req.responseUrl, 30_000).catch(() => undefined);
    }
  } finally {
    client.close();
  }
  throw new Error(`the bot never answered /smv releases in its ack with ${expectInAnswer}`);
}

export async function runAckPhase(
  standIn: SlackStandIn,
  botUrl: string,
  floorUrls: { sameAnswer: string; empty: string },
  opts: AckPhaseOptions,
  progress: (msg: string) => void,
): Promise<Figure[]> {
  const client = RemoteClient.start(SIGNING_SECRET);
  const bot: number[] = [];
  const floor: number[] = [];
  const emptyFloor: number[] = [];
  const answers: number[] = [];
  let answeredInAck = 0;
  let answerBytes = 0;

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
      answerBytes = Math.max(answerBytes, Buffer.byteLength(ack.text));
      bot.push(ack.ms);
      answers.push(answer.atMs - sentAt);
      if (inAck) answeredInAck++;
    }
  };
  const floorAsker = (url: string, into: number[]) => async (keep: boolean) => {
    const ack = await client.send(url, command());
    if (ack.status !== 200) throw new Error(`floor app answered with HTTP ${ack.status}: ${ack.text}`);
    if (keep) into.push(ack.ms);
  };
  const askFloor = floorAsker(floorUrls.sameAnswer, floor);
  const askEmptyFloor = floorAsker(floorUrls.empty, emptyFloor);

  try {
    for (let i = 0; i < opts.warmup; i++) {
      await askBot(false);
      await askFloor(false);
      await askEmptyFloor(false);
    }
    const askers = [askBot, askFloor, askEmptyFloor];
    // One request to each in turn (rotating who goes first): a stall of the machine lands on all alike.
    for (let round = 0; round < opts.rounds; round++) {
      for (let i = 0; i < opts.perRound; i++) {
        const first = (round * opts.perRound + i) % askers.length;
        for (const ask of [...askers.slice(first), ...askers.slice(0, first)]) await ask(true);
      }
      standIn.clearRecords();
    }
  } finally {
    client.close();
  }
  progress(
    `ack: bot p50 ${median(bot).toFixed(2)} p99 ${percentile(bot, 99).toFixed(2)} ms; floor (same answer) p50 ${median(floor).toFixed(2)} p99 ${percentile(floor, 99).toFixed(2)} ms; ` +
      `floor (empty) p50 ${median(emptyFloor).toFixed(2)} p99 ${percentile(emptyFloor, 99).toFixed(2)} ms`,
  );

  const what = `bare Bolt app acking /smv with the bot's answer (same HTTPReceiver, signing, client)`;
  const emptyWhat = 'bare Bolt app acking /smv empty (context: the cost of carrying the answer)';
  return [
    againstFloor('ack_p50_ms', median(bot), median(floor), null, { samples: bot.length, floorWhat: what }),
    againstFloor('ack_p99_ms', percentile(bot, 99), percentile(floor, 99), 1.2, {
      samples: bot.length,
      floorWhat: what,
      extra: { bot_max_ms: round(Math.max(...bot)), floor_max_ms: round(Math.max(...floor)), answer_bytes: answerBytes },
    }),
    againstFloor('ack_p99_vs_empty_ack_ms', percentile(bot, 99), percentile(emptyFloor, 99), null, {
      samples: bot.length,
      floorWhat: emptyWhat,
      extra: { empty_floor_p50_ms: round(median(emptyFloor)), empty_floor_max_ms: round(Math.max(...emptyFloor)) },
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
