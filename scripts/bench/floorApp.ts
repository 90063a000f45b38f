// The ack-latency floor: a bare Bolt app with the bot's receiver set-up (HTTPReceiver on
// /slack/events, same signing secret, processBeforeResponse false, same Web API base) whose
// only listener acks `/smv` with a fixed answer: the bot's own answer to `/smv releases` read
// from FLOOR_ANSWER (a JSON file), or nothing when unset.
// Run as its own process by scripts/bench.ts: PORT, SLACK_SIGNING_SECRET, SLACK_BOT_TOKEN, SLACK_API_URL[, FLOOR_ANSWER].
import { App, HTTPReceiver, LogLevel } from '@slack/bolt';
import { readFileSync } from 'node:fs';
import type { ServerResponse } from 'node:http';

const env = process.env;
const answer = env.FLOOR_ANSWER ? (JSON.parse(readFileSync(env.FLOOR_ANSWER, 'utf8')) as Record<string, unknown>) : undefined;
const receiver = new HTTPReceiver({
  signingSecret: env.SLACK_SIGNING_SECRET ?? '',
  endpoints: '/slack/events',
  processBeforeResponse: false,
  customRoutes: [
    {
      path: '/healthz',
      method: ['GET'],
      handler: (_req: unknown, res: ServerResponse) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{"ok":true}');
      },
    },
  ],
  logLevel: LogLevel.ERROR,
});
const app = new App({
  receiver,
  token: env.SLACK_BOT_TOKEN ?? '',
  logLevel: LogLevel.ERROR,
  clientOptions: { slackApiUrl: env.SLACK_API_URL ?? 'http://127.0.0.1:9/api/', rejectRateLimitedCalls: false },
});
app.command('/smv', async ({ ack }) => {
  await ack(answer);
});

await app.start(Number(env.PORT ?? 3000));
process.once('SIGTERM', () => {
  void app.stop().then(() => process.exit(0));
});
