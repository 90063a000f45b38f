// Every message the bot posts on its own goes through one per-channel pacing (Slack allows about
// one message a second per channel, after a short burst): announcements, and what `say` posts —
// digests, deprecation notices, Home-adopt results, recovered adoptions. Against the Slack
// stand-in; the order in which posts reach it shows the pacing, not a clock.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Topology } from '../src/core/topology.ts';
import { createSlackNotifier, type SlackNotifier } from '../src/slack/notifier.ts';
import { mrkdwnMessage } from '../src/slack/render/format.ts';
import { SlackStandIn } from '../dev/slack/slackStandIn.ts';

const TOKEN = 'xoxb-pacing';
const CHANNEL = 'C0PACED';
const OTHER = 'C0OTHER';
let standIn: SlackStandIn;
let notifier: SlackNotifier;

beforeEach(async () => {
  standIn = new SlackStandIn({ botToken: TOKEN });
  const { url } = await standIn.start();
  notifier = createSlackNotifier({
    botToken: TOKEN,
    apiUrl: url,
    timeoutMs: 5000,
    retry: { retries: 2, minTimeout: 10, factor: 1 },
    // As in production: one a second per channel after a burst of three.
    channelIntervalMs: 1000,
    topology: new Topology([], [], []),
    scrub: (value) => value,
    logger: { warn: () => undefined },
  });
});
afterEach(async () => {
  await standIn.close();
});

const posted = (channel: string) => standIn.calls('chat.postMessage').filter((c) => c.args.channel === channel);

describe('per-channel pacing of what the bot says', () => {
  it('five messages to one channel at once: three go out, the other two wait their turn; another channel does not wait', async () => {
    const sends = Array.from({ length: 5 }, (_, i) => notifier.say(CHANNEL, mrkdwnMessage(`Pin digest ${i + 1}`)));

    await Promise.all(sends.slice(0, 3));
    await notifier.say(OTHER, mrkdwnMessage('Pin digest elsewhere'));
    // The burst of three is spent: when the third has landed and another channel has been served,
    // the fourth and fifth are still waiting for this channel's pace.
    expect(posted(CHANNEL).map((c) => c.args.text)).toEqual(['Pin digest 1', 'Pin digest 2', 'Pin digest 3']);
    expect(posted(OTHER)).toHaveLength(1);

    await Promise.all(sends);
    expect(posted(CHANNEL).map((c) => c.args.text)).toEqual(['Pin digest 1', 'Pin digest 2', 'Pin digest 3', 'Pin digest 4', 'Pin digest 5']);
    const seqs = posted(CHANNEL).map((c) => c.seq);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
  });
});
