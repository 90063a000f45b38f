// Issue 24, SPEC §5 "Durable" and §6 with PostgreSQL: an acknowledged command is never lost and
// takes effect once, also when the replica that acked it (or the one working on it, or the leader)
// dies. Three real bot processes share one PostgreSQL schema, one World and one Slack stand-in;
// two take Slack's signed HTTP requests, the third is in Socket Mode. Each round sends 30
// concurrent `/smv adopt`s of one stage and two `/smv deprecate`s, round-robin over the three
// (the Socket Mode replica's share through the socket), publishes one version to announce, kills
// one replica with SIGKILL at a random moment (the leader in some rounds) and starts it again.
// After every round, for what Slack saw acked: every adopt landed exactly once (one landed row in
// `adoptions`), every deprecation is in `deprecations`, every command was answered at its
// response_url; every bot commit on the remote has a landed row and every landed row a commit; no
// announcement was posted twice. Commands a dead replica held are resumed once their lease (30 s)
// has run out: the waits are generous, and only outcomes are asserted.
import fs from 'node:fs';
import path from 'node:path';
import { parse, stringify } from 'yaml';
import { afterAll, describe, expect, it } from 'vitest';
import { endProcessesIn } from '../src/infra/git/leftoverProcesses.ts';
import { SlackStandIn, sendToBot, type BotAnswer } from '../dev/slack/slackStandIn.ts';
import { ADMIN, ADOPTER, ANNOUNCE_CHANNEL, APP_TOKEN, BOT_TOKEN, SIGNING_SECRET, TEAM_B_CHANNEL, USERS, World, removeSeededRemotes, replyText, botCommits } from './support/botHarness.ts';
import { announcementsOf, healthOf, spawnBotProcess, waitUntil, type BotProcess } from './support/botProcess.ts';
import { createSchema, requirePostgres, type TestSchema } from '../dev/world/postgres.ts';
import { prng } from './support/prng.ts';

const SEED = Number(process.env.DURABLE_SEED ?? 24_2027);
const ROUNDS = Number(process.env.DURABLE_PG_ROUNDS ?? 10);
const ADOPTS_PER_ROUND = 30;
const DEPRECATIONS_PER_ROUND = 2;
/** Generous: a command a dead replica held waits for its 30 s lease before another takes it. */
const WAIT_MS = 180_000;
/** Which replica each round kills, in turn: the leader, one holding a command's lease (else any), any. */
const VICTIMS = ['leader', 'worker', 'random'] as const;

const pad = (n: number) => String(n).padStart(2, '0');
const geoVersion = (round: number, i: number) => `DUR.r${pad(round)}.n${pad(i)}.geo`;
const cmsVersion = (round: number, i: number) => `DUR.r${pad(round)}.n${pad(i)}.cms`;
const trialVersion = (round: number) => `DUR.r${pad(round)}.trial`;

interface Replica {
  name: string;
  transport: 'http' | 'socket';
  dataDir: string;
  bot: BotProcess;
  port: number;
}

interface Sent {
  round: number;
  kind: 'adopt' | 'deprecate';
  version: string;
  replica: string;
  transport: Replica['transport'];
  responseUrl: string;
  acked: boolean;
  /** The answer when it came in the ack itself (Socket Mode and HTTP alike), else ''. */
  ackText: string;
}

const cleanups: (() => Promise<void> | void)[] = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
  removeSeededRemotes();
});

describe('durable commands across kill -9 of replicas on PostgreSQL (SPEC §5, §6)', () => {
  it(`${ROUNDS} rounds of ${ADOPTS_PER_ROUND} concurrent adopts and ${DEPRECATIONS_PER_ROUND} deprecations over HTTP and Socket Mode to three replicas, kill -9 of one (the leader in some rounds), restart: every acked command took effect once and was answered (seed ${SEED})`, async () => {
    const rnd = prng(SEED);
    const schema: TestSchema = await createSchema(await requirePostgres());
    const world = new World({ publisherOwners: [ADMIN] });
    // The leader scans every 2 s, as a deployment's schedule would: each round's trial version is announced while commands run.
    const config = parse(fs.readFileSync(world.configPath, 'utf8')) as { scan: { schedule: string } };
    config.scan.schedule = '*/2 * * * * *';
    fs.writeFileSync(world.configPath, stringify(config));
    // Every version the rounds adopt or deprecate exists before the first start (recorded silently, never announced).
    for (let round = 1; round <= ROUNDS; round++) {
      for (let i = 1; i <= ADOPTS_PER_ROUND; i++) world.publish('com.acme.geo', geoVersion(round, i));
      for (let i = 1; i <= DEPRECATIONS_PER_ROUND; i++) world.publish('com.acme.cms', cmsVersion(round, i));
    }
    const slack = new SlackStandIn({ botToken: BOT_TOKEN, appToken: APP_TOKEN, users: USERS });
    await slack.start();
    const replicas: Replica[] = [];
    cleanups.push(async () => {
      for (const r of replicas) await r.bot.kill9();
      await endProcessesIn(world.root, { graceMs: 100 });
      await slack.close();
      world.cleanup();
      await schema.drop();
    });

    const launch = async (replica: Pick<Replica, 'name' | 'transport' | 'dataDir'>, label: string): Promise<Replica> => {
      const env = world.env({
        SLACK_API_URL: slack.url,
        LOG_LEVEL: 'info',
        SMVBOT_DATABASE_URL: schema.url,
        SMVBOT_DATA_DIR: replica.dataDir,
        ...(replica.transport === 'socket' ? { SLACK_APP_TOKEN: APP_TOKEN } : {}),
      });
      const bot = spawnBotProcess(env, world.root);
      const port = await bot.port(WAIT_MS);
      await waitUntil(
        `${label}: ${replica.name} /healthz 200`,
        async () => {
          if (!bot.running()) throw new Error(`${replica.name} exited while starting:\n${bot.output().slice(-4000)}`);
          return (await healthOf(port))?.status === 200;
        },
        WAIT_MS,
      );
      return { ...replica, bot, port };
    };
    for (const [i, transport] of (['http', 'http', 'socket'] as const).entries()) {
      const name = `replica-${i + 1}`;
      replicas.push(await launch({ name, transport, dataDir: path.join(world.root, `data-${name}`) }, 'first start'));
    }
    await waitUntil('the Socket Mode replica connected', () => slack.socketMode.openCount === 1, WAIT_MS);

    const leader = () =>
      waitUntil(
        'exactly one leader',
        async () => {
          const roles = await Promise.all(replicas.map(async (r) => (await healthOf(r.port))?.body.role));
          return roles.filter((role) => role === 'leader').length === 1 ? replicas[roles.indexOf('leader')] : undefined;
        },
        WAIT_MS,
      );

    /** A replica holding the lease of a command it is working on now, if any. */
    const worker = async () => {
      const owners = await schema.query<{ lease_owner: string }>(
        `SELECT lease_owner FROM ${schema.schema}.commands WHERE state = 'pending' AND lease_owner IS NOT NULL AND lease_until > $1`,
        [new Date().toISOString()],
      );
      // A lease owner is `<host>:<pid>:<nonce>`.
      const pids = new Set(owners.map((o) => Number(o.lease_owner.split(':')[1])));
      const holders = replicas.filter((r) => pids.has(r.bot.child.pid!));
      return holders.length ? rnd.pick(holders) : undefined;
    };

    const sent: Sent[] = [];
    const send = async (round: number, kind: Sent['kind'], version: string, text: string, userId: string, replica: Replica) => {
      const request = slack.slashCommand({ text, userId, channelId: TEAM_B_CHANNEL });
      const entry: Sent = { round, kind, version, replica: replica.name, transport: replica.transport, responseUrl: request.responseUrl, acked: false, ackText: '' };
      sent.push(entry);
      // A replica killed before it acks leaves Slack without an ack: then the command may or may not happen.
      let ack: BotAnswer | null;
      if (replica.transport === 'socket') ack = await slack.sendOverSocket(request, { timeoutMs: 5_000 }).catch(() => null);
      else ack = await sendToBot(`http://127.0.0.1:${replica.port}/slack/events`, SIGNING_SECRET, request).catch(() => null);
      entry.acked = ack?.status === 200;
      entry.ackText = ack ? replyText(ack.body) : '';
    };
    const answersTo = (s: Sent) => [...(s.ackText ? [s.ackText] : []), ...slack.responses(s.responseUrl).filter((r) => r.ok).map((r) => replyText(r.body))];

    const landedRows = () =>
      schema.query<{ to_version: string; commit_sha: string }>(`SELECT to_version, commit_sha FROM ${schema.schema}.adoptions WHERE state = 'landed' AND action = 'adopt'`);
    const tally = { kills: { leader: 0, worker: 0, random: 0 }, acked: 0, notAcked: 0, appliedOnce: 0, answered: 0, delayed: 0, answeredTwice: 0, overSocket: 0, announced: 0 };

    for (let round = 1; round <= ROUNDS; round++) {
      const label = `round ${round} (seed ${SEED})`;
      // Who dies: the leader, the replica working on a command (holding its lease), or any, in turn.
      const kind = VICTIMS[(round - 1) % VICTIMS.length]!;
      // Any replica: mostly while the acks are still going out; the others while the work is under way.
      const killAfterMs = kind === 'random' ? rnd.int(200) : rnd.int(2500);
      // Something for the leader to announce while the commands run.
      world.publish('com.acme.trial', trialVersion(round));
      const commands = [
        ...Array.from({ length: ADOPTS_PER_ROUND }, (_, i) => ({ kind: 'adopt' as const, version: geoVersion(round, i + 1), user: ADOPTER })),
        ...Array.from({ length: DEPRECATIONS_PER_ROUND }, (_, i) => ({ kind: 'deprecate' as const, version: cmsVersion(round, i + 1), user: ADMIN })),
      ];
      const sending = commands.map((c, i) =>
        send(
          round,
          c.kind,
          c.version,
          c.kind === 'adopt' ? `adopt geo ${c.version}` : `deprecate cms ${c.version} bad zip codes`,
          c.user,
          replicas[(i + round) % replicas.length]!,
        ),
      );
      await new Promise((r) => setTimeout(r, killAfterMs));
      const chosen = kind === 'leader' ? await leader() : kind === 'worker' ? await waitUntil('a replica working on a command', worker, 5_000).catch(() => undefined) : undefined;
      const victim = chosen ?? rnd.pick(replicas);
      tally.kills[chosen ? kind : 'random']++;
      await victim.bot.kill9();
      await Promise.all(sending);
      replicas[replicas.indexOf(victim)] = await launch(victim, label);
      if (victim.transport === 'socket') await waitUntil(`${label}: the Socket Mode replica reconnected`, () => slack.socketMode.openCount === 1, WAIT_MS);

      // Whoever holds them (a live replica, or nobody until the dead one's lease runs out), every command gets done.
      await waitUntil(
        `${label}: every command done`,
        async () => {
          const health = await healthOf(replicas[0]!.port);
          const backlog = health?.body.commands as { pending: number } | undefined;
          return backlog?.pending === 0 ? true : undefined;
        },
        WAIT_MS,
      );
      await waitUntil(
        `${label}: no adoption left intended`,
        async () => (await schema.query(`SELECT 1 FROM ${schema.schema}.adoptions WHERE state = 'intended'`)).length === 0,
        WAIT_MS,
      );

      const landed = await landedRows();
      const deprecated = new Set((await schema.query<{ version: string }>(`SELECT version FROM ${schema.schema}.deprecations`)).map((r) => r.version));
      const problems: string[] = [];
      for (const s of sent.filter((x) => x.round === round)) {
        const landings = landed.filter((a) => a.to_version === s.version).length;
        if (s.kind === 'adopt' && landings > 1) problems.push(`${s.version}: landed ${landings} times`);
        if (!s.acked) {
          tally.notAcked++;
          continue;
        }
        tally.acked++;
        if (s.transport === 'socket') tally.overSocket++;
        const applied = s.kind === 'adopt' ? landings === 1 : deprecated.has(s.version);
        if (applied) tally.appliedOnce++;
        else problems.push(s.kind === 'adopt' ? `${s.version} (via ${s.replica}): acked, landed ${landings} times` : `${s.version} (via ${s.replica}): acked deprecation not recorded`);
        const answers = answersTo(s);
        if (answers.length === 0) problems.push(`${s.kind} ${s.version} (via ${s.replica}): acked, never answered`);
        else tally.answered++;
        if (answers.length > 1) tally.answeredTwice++;
        // Each version is adopted or deprecated by one command only: "already pinned" / "already deprecated" would
        // be its own dead worker's doing told as if someone else had done it.
        if (answers.some((a) => /already (pinned|deprecated)/.test(a))) problems.push(`${s.kind} ${s.version} (via ${s.replica}): its own change answered as done before`);
        if (answers.some((a) => a.includes('delayed'))) tally.delayed++;
        // An answer says what became of this command, never that something went wrong.
        for (const a of answers) if (!a.includes(s.version) || /unexpected error/i.test(a)) problems.push(`${s.kind} ${s.version} (via ${s.replica}): answered ${JSON.stringify(a.slice(0, 300))}`);
      }
      // Every commit the bot made is in the history, and the other way round.
      const commits = botCommits(world.remoteOf());
      const landedShas = new Set(landed.map((a) => a.commit_sha));
      for (const sha of commits) if (!landedShas.has(sha)) problems.push(`commit ${sha} on the remote has no landed history row`);
      for (const sha of landedShas) if (!commits.includes(sha)) problems.push(`landed history row for ${sha}, not on the remote`);
      // No announcement posted twice (a post whose answer died with the leader stays unknown: never re-sent).
      const posts = new Map<string, number>();
      for (const call of slack.calls('chat.postMessage').filter((c) => c.ok)) {
        for (const a of announcementsOf(call.args.metadata)) {
          const key = `${a.version} ${String(call.args.channel)}`;
          posts.set(key, (posts.get(key) ?? 0) + 1);
        }
      }
      for (const [key, n] of posts) if (n > 1) problems.push(`announcement ${key} posted ${n} times`);
      tally.announced = [...posts.keys()].filter((k) => k.endsWith(` ${ANNOUNCE_CHANNEL}`)).length;
      expect(problems, label).toEqual([]);
    }

    const lost = tally.acked - tally.appliedOnce;
    console.log(
      `durable commands (PostgreSQL, 3 replicas, seed ${SEED}): ${ROUNDS} rounds (killed: the leader ${tally.kills.leader}×, a replica working on a command ${tally.kills.worker}×, another ${tally.kills.random}×), ${sent.length} commands sent, ` +
        `${tally.acked} acked (${tally.overSocket} over Socket Mode), ${tally.notAcked} not acked (their replica died first), ${tally.appliedOnce} applied once, ` +
        `${tally.answered} answered, ${tally.delayed} answered after a delay, ${tally.answeredTwice} answered twice, ${lost} lost, 0 duplicates; ` +
        `${tally.announced} of ${ROUNDS} round versions announced, none twice.`,
    );
  }, 900_000);
});
