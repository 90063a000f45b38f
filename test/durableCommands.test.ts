// Issue 24, SPEC §5 "Durable": an acknowledged command is never lost and takes effect once. The
// real bot process (SQLite) gets 30 concurrent `/smv adopt`s and two `/smv deprecate`s per round
// over signed HTTP, is killed with SIGKILL at a random moment while it works through them, and is
// started again. After every round, for what Slack saw acked: every adopt landed exactly once
// (one history row, one commit on the remote), every deprecation is recorded, every command was
// answered at its response_url, and nothing the bot did is unrecorded.
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { endProcessesIn } from '../src/infra/git/leftoverProcesses.ts';
import { DATABASE_FILE } from '../src/infra/state/sqliteState.ts';
import { SlackStandIn, sendToBot } from '../dev/slack/slackStandIn.ts';
import { ADMIN, ADOPTER, BOT_TOKEN, SIGNING_SECRET, TEAM_B_CHANNEL, USERS, World, removeSeededRemotes, replyText, botCommits } from './support/botHarness.ts';
import { healthOf, waitUntil } from './support/botProcess.ts';
import { exportState } from './support/stateDump.ts';
import { prng } from './support/prng.ts';
import { spawnBot, type Spawned } from './support/spawnBot.ts';

const SEED = Number(process.env.DURABLE_SEED ?? 24_2026);
const ROUNDS = 10;
const ADOPTS_PER_ROUND = 30;
const DEPRECATIONS_PER_ROUND = 2;
const WAIT_MS = 90_000;
const LISTENING = /"port":(\d+)[^\n]*"msg":"smvbot starting: first scan"/;

const geoVersion = (round: number, i: number) => `DUR.r${String(round).padStart(2, '0')}.n${String(i).padStart(2, '0')}.geo`;
const cmsVersion = (round: number, i: number) => `DUR.r${String(round).padStart(2, '0')}.n${String(i).padStart(2, '0')}.cms`;

interface Sent {
  round: number;
  kind: 'adopt' | 'deprecate';
  version: string;
  responseUrl: string;
  acked: boolean;
}

const cleanups: (() => Promise<void> | void)[] = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
  removeSeededRemotes();
});

function deprecatedVersions(dataDir: string): Set<string> {
  const db = new Database(path.join(dataDir, DATABASE_FILE), { readonly: true, fileMustExist: true });
  try {
    return new Set((db.prepare('SELECT version FROM deprecations').all() as { version: string }[]).map((r) => r.version));
  } finally {
    db.close();
  }
}

describe('durable commands across kill -9 (SPEC §5)', () => {
  it(`${ROUNDS} rounds of ${ADOPTS_PER_ROUND} concurrent adopts and ${DEPRECATIONS_PER_ROUND} deprecations, kill -9, restart: every acked command took effect once and was answered (seed ${SEED})`, async () => {
    const rnd = prng(SEED);
    const world = new World({ publisherOwners: [ADMIN] });
    // Every version the rounds adopt or deprecate exists before the first start (recorded silently, never announced).
    for (let round = 1; round <= ROUNDS; round++) {
      for (let i = 1; i <= ADOPTS_PER_ROUND; i++) world.publish('com.acme.geo', geoVersion(round, i));
      for (let i = 1; i <= DEPRECATIONS_PER_ROUND; i++) world.publish('com.acme.cms', cmsVersion(round, i));
    }
    const slack = new SlackStandIn({ botToken: BOT_TOKEN, users: USERS });
    await slack.start();
    let bot: Spawned | undefined;
    const running = () => bot !== undefined && bot.child.exitCode === null && bot.child.signalCode === null;
    cleanups.push(async () => {
      if (running()) bot!.child.kill('SIGKILL');
      await bot?.exited;
      await endProcessesIn(world.root, { graceMs: 100 });
      await slack.close();
      world.cleanup();
    });
    const env = world.env({ SLACK_API_URL: slack.url, LOG_LEVEL: 'info' });
    let port = 0;
    const start = async (label: string) => {
      bot = spawnBot(env, world.root);
      port = Number((await bot.waitFor('stdout', LISTENING))[1]);
      await waitUntil(`${label}: /healthz 200`, async () => ((await healthOf(port))?.status === 200 ? true : undefined), WAIT_MS);
    };
    const sent: Sent[] = [];
    const send = async (round: number, kind: Sent['kind'], version: string, text: string, userId: string) => {
      const request = slack.slashCommand({ text, userId, channelId: TEAM_B_CHANNEL });
      const entry: Sent = { round, kind, version, responseUrl: request.responseUrl, acked: false };
      sent.push(entry);
      // A bot killed before it acks leaves Slack without an ack: then the command may or may not happen.
      const ack = await sendToBot(`http://127.0.0.1:${port}/slack/events`, SIGNING_SECRET, request).catch(() => null);
      entry.acked = ack?.status === 200;
    };
    const tally = { acked: 0, notAcked: 0, resumedAnswers: 0, answeredTwice: 0 };

    await start('first start');
    for (let round = 1; round <= ROUNDS; round++) {
      const label = `round ${round} (seed ${SEED})`;
      const killAfterMs = 150 + rnd.int(2500);
      const sending = [
        ...Array.from({ length: ADOPTS_PER_ROUND }, (_, i) => send(round, 'adopt', geoVersion(round, i + 1), `adopt geo ${geoVersion(round, i + 1)}`, ADOPTER)),
        ...Array.from({ length: DEPRECATIONS_PER_ROUND }, (_, i) =>
          send(round, 'deprecate', cmsVersion(round, i + 1), `deprecate cms ${cmsVersion(round, i + 1)} bad zip codes`, ADMIN),
        ),
      ];
      await new Promise((r) => setTimeout(r, killAfterMs));
      bot!.child.kill('SIGKILL');
      await bot!.exited;
      await Promise.all(sending);
      await start(label);

      // The restarted bot resumes what was acked and not done; wait until nothing is left.
      await waitUntil(
        `${label}: every command done`,
        async () => {
          const health = await healthOf(port);
          const commands = health?.body.commands as { pending: number } | undefined;
          return commands?.pending === 0 ? true : undefined;
        },
        WAIT_MS,
      );
      await waitUntil(`${label}: no adoption left intended`, () => (exportState(world.dataDir).adoptions.some((a) => a.state === 'intended') ? undefined : true), WAIT_MS);

      const state = exportState(world.dataDir);
      const landed = state.adoptions.filter((a) => a.state === 'landed');
      const deprecated = deprecatedVersions(world.dataDir);
      const problems: string[] = [];
      for (const s of sent.filter((x) => x.round === round)) {
        const landings = landed.filter((a) => a.to === s.version).length;
        const answers = slack.responses(s.responseUrl).filter((r) => r.ok);
        if (s.kind === 'adopt' && landings > 1) problems.push(`${s.version}: landed ${landings} times`);
        if (!s.acked) {
          tally.notAcked++;
          continue;
        }
        tally.acked++;
        if (s.kind === 'adopt' && landings !== 1) problems.push(`${s.version}: acked, landed ${landings} times`);
        if (s.kind === 'deprecate' && !deprecated.has(s.version)) problems.push(`${s.version}: acked deprecation not recorded`);
        if (answers.length === 0) problems.push(`${s.kind} ${s.version}: acked, never answered`);
        if (answers.length > 1) tally.answeredTwice++;
        if (answers.some((a) => replyText(a.body).includes('delayed'))) tally.resumedAnswers++;
      }
      // Every commit the bot made is in the history, and the other way round.
      const commits = botCommits(world.remote);
      const landedShas = new Set(landed.map((a) => a.commit));
      for (const sha of commits) if (!landedShas.has(sha)) problems.push(`commit ${sha} on the remote has no history row`);
      for (const sha of landedShas) if (!commits.includes(sha)) problems.push(`history row for ${sha}, not on the remote`);
      expect(problems, label).toEqual([]);
    }

    // SIGTERM still stops it cleanly after all that.
    bot!.child.kill('SIGTERM');
    expect(await bot!.exited).toEqual({ code: 0, signal: null });
    console.log(
      `durable commands (SQLite, seed ${SEED}): ${ROUNDS} rounds, ${sent.length} commands sent, ${tally.acked} acked, ${tally.notAcked} not acked ` +
        `(the bot died first), every acked one applied once and answered (${tally.resumedAnswers} answers said they were delayed by the restart, ` +
        `${tally.answeredTwice} answered twice); 0 lost.`,
    );
  }, 900_000);
});
