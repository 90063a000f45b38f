// Issue 10, SPEC §6: "a crash or kill -9 never duplicates, loses or half-applies anything".
// The real bot process runs against a World (publish dir, bare consumer remote) and one Slack
// stand-in kept for the whole test, so a message Slack stored before a kill is still counted
// after the restart. Each round publishes new versions, sends signed `/smv adopt` commands,
// kills the node process with SIGKILL (aimed at a post Slack holds, a push the remote holds,
// or a random moment), restarts it and checks what a user could see:
//   1. no (version, channel) was posted twice;
//   2. every complete version is posted in every channel, or its status says why not;
//   3. every commit on the remote that the bot made has a landed adoption, and no other does;
//   4. the database opens and the bot starts again.
// The plan (mode and delays per round) comes from a seeded PRNG: CRASH_SEED=<n> replays one.
import { EventEmitter } from 'node:events';
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { parse, stringify } from 'yaml';
import { afterAll, describe, expect, it } from 'vitest';
import { endProcessesIn } from '../src/infra/git/leftoverProcesses.ts';
import { DATABASE_FILE } from '../src/infra/state/sqliteState.ts';
import { exportState } from './support/stateDump.ts';
import { SlackStandIn, sendToBot, type StoredMessage } from '../dev/slack/slackStandIn.ts';
import {
  ADOPTER,
  ANNOUNCE_CHANNEL,
  BOT_TOKEN,
  SIGNING_SECRET,
  TEAM_B_CHANNEL,
  USERS,
  World,
  git,
  removeSeededRemotes,
  replyText,
} from './support/botHarness.ts';
import { announcementsOf, healthOf, processesIn, waitUntil } from './support/botProcess.ts';
import { spawnBot, type Spawned } from './support/spawnBot.ts';

const SEED = Number(process.env.CRASH_SEED ?? 20_160_802);
const ROUNDS = 30;
const PUBLISHER = 'public-data';
const CHANNELS = [ANNOUNCE_CHANNEL, 'C0ANNOUNCE2'];
const STAGE_NAMES = ['geo', 'cms', 'trial'];
/** Published (and adopted) each round: two versions, so four announcements and two pushes. */
const ROUND_STAGES = ['com.acme.geo', 'com.acme.cms'];
/** Bound on any one wait (start-up, settling, a reply) on a loaded 2-core machine. */
const WAIT_MS = 60_000;
/**
 * How long the remote's pre-receive hook holds a push: long enough for kills to land in it, short
 * enough that a push cut off by a kill has landed or failed before the restarted bot reconciles.
 */
const HOOK_SECONDS = 0.8;
/** Slack stores a post on arrival and answers after this many ms (30–150). */
const HOLD_MIN_MS = 30;
const HOLD_SPAN_MS = 120;
/** The bot's log line once it listens (LOG_LEVEL info), with its port. */
const LISTENING = /"port":(\d+)[^\n]*"msg":"smvbot starting: first scan"/;
const READY = /"msg":"smvbot ready"/;

type Mode = 'mid-post' | 'mid-push' | 'random';
interface RoundPlan {
  mode: Mode;
  /** After the aimed-at moment (or from the round's start, for `random`), wait this long, then kill. */
  delayMs: number;
  /** Kill the restarted bot once more during its start-up, this many ms after its first post (or its ready line). */
  startupKillMs: number | null;
}

/** mulberry32: small, fast, and the same sequence for the same seed everywhere. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

function planRounds(seed: number, rounds: number): RoundPlan[] {
  const rnd = prng(seed);
  return Array.from({ length: rounds }, () => {
    const r = rnd();
    const mode: Mode = r < 0.35 ? 'mid-post' : r < 0.7 ? 'mid-push' : 'random';
    const delayMs = Math.floor(mode === 'mid-post' ? rnd() * 100 : mode === 'mid-push' ? rnd() * 150 : rnd() * 1000);
    // Some restarts are killed again while they reconcile adoptions or post what the last kill left pending.
    const startupKillMs = rnd() < 0.15 ? Math.floor(rnd() * 100) : null;
    return { mode, delayMs, startupKillMs };
  });
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** `promise`, or `fallback` if it has not settled within `ms` (the timer does not outlive it). */
async function within<T, F>(promise: Promise<T>, ms: number, fallback: F): Promise<T | F> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([promise, new Promise<F>((r) => (timer = setTimeout(() => r(fallback), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

/** Polls until `probe` gives a value, within WAIT_MS unless told otherwise. */
const until = <T>(what: string, probe: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = WAIT_MS) => waitUntil(what, probe, timeoutMs);

/** Commit shas on the remote branch, and those among them the bot wrote (an `Adopted-by:` trailer). */
function remoteCommits(remote: string): { all: Set<string>; adopted: string[] } {
  const log = git(['--git-dir', remote, 'log', '--format=%H%x1f%B%x1e', 'main']);
  const all = new Set<string>();
  const adopted: string[] = [];
  for (const entry of log.split('\x1e')) {
    const [sha, body] = entry.trim().split('\x1f');
    if (!sha) continue;
    all.add(sha);
    if (/^Adopted-by: /m.test(body ?? '')) adopted.push(sha);
  }
  return { all, adopted };
}

interface AdoptSent {
  round: number;
  text: string;
  responseUrl: string;
}

interface Tally {
  kills: number;
  duringPost: number;
  duringPush: number;
  duringGit: number;
  duringStartup: number;
  aimedPostMissed: number;
  aimedPushMissed: number;
}

const cleanups: (() => Promise<void> | void)[] = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
  removeSeededRemotes();
});

describe('kill -9 at random moments (SPEC §6)', () => {
  it(`${ROUNDS} rounds of publish, adopt, kill -9 and restart: nothing duplicated, lost or unrecorded (seed ${SEED})`, async () => {
    const started = Date.now();
    const plan = planRounds(SEED, ROUNDS);
    const holdRnd = prng(SEED ^ 0x9e3779b9);

    const world = new World({ publisherChannels: CHANNELS });
    const slack = new SlackStandIn({ botToken: BOT_TOKEN, users: USERS });
    let bot: Spawned | undefined;
    const running = () => bot !== undefined && bot.child.exitCode === null && bot.child.signalCode === null;
    const output = () => `stdout:\n${bot?.stdout().slice(-3000)}\nstderr:\n${bot?.stderr().slice(-3000)}`;
    /** SIGKILL to the node process only: its git children live on, as after a real crash. */
    const kill9 = async () => {
      if (running()) bot!.child.kill('SIGKILL');
      await bot?.exited;
    };
    cleanups.push(async () => {
      await kill9();
      // Git left working by a killed bot (in the clone) and the remote's hooks (in the remote) end with the test.
      await endProcessesIn(world.root, { graceMs: 100 });
      await slack.close();
      world.cleanup();
    });
    await slack.start();

    // Scan every second (the World's yearly schedule would leave it to the file watcher alone).
    const config = parse(fs.readFileSync(world.configPath, 'utf8')) as { scan: { schedule: string } };
    config.scan.schedule = '*/1 * * * * *';
    fs.writeFileSync(world.configPath, stringify(config));

    // The remote holds every push a moment before taking it, so kills can land mid-push.
    const markers = path.join(world.root, 'pushes-in-progress');
    fs.mkdirSync(markers);
    fs.mkdirSync(path.join(world.remote, 'hooks'), { recursive: true });
    fs.writeFileSync(
      path.join(world.remote, 'hooks', 'pre-receive'),
      `#!/bin/sh\nmarker='${markers}'/push.$$\n: > "$marker"\ncat > /dev/null\nsleep ${HOOK_SECONDS}\nrm -f "$marker"\n`,
      { mode: 0o755 },
    );
    const pushHeld = () => fs.readdirSync(markers).length;

    // Slack stores each post when it arrives and answers a little later: a kill in between leaves
    // a message Slack has and the bot never heard about (the worst case for duplicates).
    let postsHeld = 0;
    const arrivals = new EventEmitter();
    /** `arrived`: true once a post (an announcement, if asked) reaches Slack, false after `ms` or `cancel()`. */
    const nextPost = (ms: number, announcementsOnly: boolean): { arrived: Promise<boolean>; cancel(): void } => {
      let done!: (arrived: boolean) => void;
      const arrived = new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => done(false), ms);
        const onPost = (announcement: boolean) => {
          if (announcement || !announcementsOnly) done(true);
        };
        done = (result) => {
          clearTimeout(timer);
          arrivals.off('post', onPost);
          resolve(result);
        };
        arrivals.on('post', onPost);
      });
      return { arrived, cancel: () => done(false) };
    };
    slack.setHandler('chat.postMessage', async (args, { standIn }) => {
      const channel = typeof args.channel === 'string' ? args.channel : '';
      if (!channel) return { ok: false, error: 'channel_not_found' };
      const text = typeof args.text === 'string' ? args.text : undefined;
      const blocks = Array.isArray(args.blocks) ? args.blocks : undefined;
      if (!text && !blocks?.length) return { ok: false, error: 'no_text' };
      const ts = standIn.nextTs();
      standIn.storeMessage({ channel, ts, text, blocks, metadata: args.metadata, threadTs: undefined, ephemeralTo: undefined, edited: false });
      const announcement = announcementsOf(args.metadata).length > 0;
      if (announcement) postsHeld++;
      arrivals.emit('post', announcement);
      try {
        await sleep(HOLD_MIN_MS + Math.floor(holdRnd() * HOLD_SPAN_MS));
      } finally {
        if (announcement) postsHeld--;
      }
      return { ok: true, channel, ts, message: { type: 'message', ts, text: text ?? '' } };
    });

    const cloneDir = path.join(world.dataDir, 'repos', 'client-model');
    const env = world.env({ SLACK_API_URL: slack.url, LOG_LEVEL: 'info' });
    let port = 0;
    const initialVersions = new Set(STAGE_NAMES.map((s) => `TCD.20160701.${s}`));
    const published: string[] = [];
    const adopts: AdoptSent[] = [];
    const tally: Tally = { kills: 0, duringPost: 0, duringPush: 0, duringGit: 0, duringStartup: 0, aimedPostMissed: 0, aimedPushMissed: 0 };
    const context = (label: string) => `${label} (seed ${SEED})`;

    const startups: number[] = [];
    const startAndWaitReady = async (label: string): Promise<void> => {
      const spawnedAt = Date.now();
      bot = spawnBot(env, world.root);
      port = Number((await bot.waitFor('stdout', LISTENING))[1]);
      await until(`${label}: /healthz 200`, async () => {
        if (!running()) throw new Error(`${context(label)}: the bot exited while starting:\n${output()}`);
        const health = await healthOf(port);
        return health?.status === 200 ? health : undefined;
      });
      startups.push(Date.now() - spawnedAt);
    };

    /** What was under way when the kill came, from the outside: Slack holding a post, the remote a push, git in the clone. */
    const kill = async (startup: boolean): Promise<void> => {
      const git = processesIn(cloneDir).map((p) => p.command);
      const holding = { posts: postsHeld, pushes: pushHeld() };
      const ready = READY.test(bot!.stdout());
      await kill9();
      tally.kills++;
      if (holding.posts > 0) tally.duringPost++;
      if (holding.pushes > 0 || git.some((c) => / push /.test(c))) tally.duringPush++;
      if (git.length) tally.duringGit++;
      if (startup && !ready) tally.duringStartup++;
    };

    const sendAdopt = (round: number, text: string): Promise<unknown> => {
      const request = slack.slashCommand({ text, userId: ADOPTER, channelId: TEAM_B_CHANNEL });
      adopts.push({ round, text, responseUrl: request.responseUrl });
      const url = `http://127.0.0.1:${port}/slack/events`;
      // The bot may die before it acks: that is part of the test, not a failure.
      return within(sendToBot(url, SIGNING_SECRET, request), 15_000, undefined).catch(() => undefined);
    };

    /** Invariants 1–4, as they must hold once a restarted bot is ready. */
    const checkInvariants = async (label: string, final = false): Promise<ReturnType<typeof exportState>> => {
      // 3 first: wait until the start-up reconciliation has settled every interrupted adoption.
      const state = await until(`${label}: no adoption left 'intended'`, () => {
        const s = exportState(world.dataDir);
        return s.adoptions.some((a) => a.state === 'intended') ? undefined : s;
      });
      const stored = new Map<string, StoredMessage[]>();
      // A combined announcement counts for each version it holds.
      for (const m of slack.messages()) {
        for (const a of announcementsOf(m.metadata)) {
          const key = `${a.publisher} ${a.version} ${m.channel}`;
          stored.set(key, [...(stored.get(key) ?? []), m]);
        }
      }
      // 1. At most one message per (version, channel) in Slack, across every restart so far.
      const duplicates = [...stored].filter(([, list]) => list.length > 1).map(([key, list]) => `${key} ×${list.length}`);
      expect(duplicates, context(`${label}: announcements Slack stored more than once`)).toEqual([]);

      // 2. Every version published so far is known and, per channel, posted or given a reason.
      const byName = new Map(state.versions.map((v) => [v.version, v]));
      const problems: string[] = [];
      for (const version of published) {
        const v = byName.get(version);
        if (!v) {
          problems.push(`${version}: complete on disk but not in the state`);
          continue;
        }
        for (const channel of CHANNELS) {
          const a = v.announcements[channel];
          const messages = stored.get(`${PUBLISHER} ${version} ${channel}`) ?? [];
          if (!a) problems.push(`${version} in ${channel}: no announcement row`);
          else if (a.status === 'posted') {
            if (messages.length !== 1 || messages[0]!.ts !== a.ts) problems.push(`${version} in ${channel}: posted as ${a.ts}, Slack has ${messages.map((m) => m.ts).join(', ') || 'nothing'}`);
          } else if (final ? a.status !== 'unknown' : a.status !== 'unknown' && a.status !== 'failed') {
            problems.push(`${version} in ${channel}: ${a.status} after a full scan (${a.lastError ?? 'no reason'})`);
          } else if (!a.lastError) {
            problems.push(`${version} in ${channel}: ${a.status} without a recorded reason`);
          }
        }
      }
      // The history the first start found stays silent: never announced, however often it restarts.
      for (const version of initialVersions) {
        for (const channel of CHANNELS) {
          if (byName.get(version)?.announcements[channel]?.status !== 'silent') problems.push(`${version} in ${channel}: not silent`);
          if (stored.has(`${PUBLISHER} ${version} ${channel}`)) problems.push(`${version} in ${channel}: announced, though it predates the first start`);
        }
      }
      expect(problems, context(`${label}: announcements`)).toEqual([]);

      // 3. The remote and the adoption log agree: landed ⇔ on the branch.
      const remote = remoteCommits(world.remote);
      const landed = new Set(state.adoptions.filter((a) => a.state === 'landed').map((a) => a.commit));
      const unrecorded = remote.adopted.filter((sha) => !landed.has(sha));
      expect(unrecorded, context(`${label}: commits on the remote without a landed adoption`)).toEqual([]);
      const missing = [...landed].filter((sha) => !remote.all.has(sha));
      expect(missing, context(`${label}: landed adoptions whose commit is not on the remote`)).toEqual([]);
      const abandonedThere = state.adoptions.filter((a) => a.state === 'abandoned' && remote.all.has(a.commit)).map((a) => a.commit);
      expect(abandonedThere, context(`${label}: adoptions recorded abandoned whose commit is on the remote`)).toEqual([]);
      return state;
    };

    // The first start records TCD.20160701.* silently; it is not killed.
    await startAndWaitReady('first start');
    await checkInvariants('first start');

    for (let round = 1; round <= ROUNDS; round++) {
      const { mode, delayMs, startupKillMs } = plan[round - 1]!;
      const label = `round ${round} (${mode}, ${delayMs} ms${startupKillMs === null ? '' : `, start-up kill at ${startupKillMs} ms`})`;
      const prefix = `CRASH.${String(round).padStart(3, '0')}`;
      const postArrives = nextPost(10_000, true);
      for (const stage of ROUND_STAGES) {
        const version = `${prefix}.${stage.split('.').pop()}`;
        world.publish(stage, version);
        published.push(version);
      }
      // Each round's versions are new, so every adopt is a change: a commit and a push.
      const commands = [sendAdopt(round, `adopt geo ${prefix}.geo`), sendAdopt(round, `adopt cms ${prefix}.cms`)];

      if (mode === 'mid-post') {
        if (!(await postArrives.arrived)) tally.aimedPostMissed++;
      } else if (mode === 'mid-push') {
        const held = await until('a push held by the remote', () => (pushHeld() > 0 ? true : undefined), 10_000).catch(() => false);
        if (!held) tally.aimedPushMissed++;
      }
      postArrives.cancel();
      await sleep(delayMs);
      await kill(false);
      await Promise.all(commands);

      if (startupKillMs !== null) {
        // Aimed at its start-up work: a post of the start-up scan or of the reconciliation, else
        // whatever it does until it says it is ready.
        const posting = nextPost(WAIT_MS, false);
        bot = spawnBot(env, world.root);
        const ready = bot.waitFor('stdout', READY).catch(() => undefined);
        await Promise.race([posting.arrived, ready]);
        posting.cancel();
        await sleep(startupKillMs);
        await kill(true);
      }
      await startAndWaitReady(label);
      await checkInvariants(label);
    }

    // The end: a version published now is announced in every channel and can be adopted, so
    // 30-odd crashes left neither the state nor the clone wedged.
    const last = 'CRASH.999.geo';
    world.publish('com.acme.geo', last);
    published.push(last);
    await until(`${last} announced in every channel`, () =>
      CHANNELS.every((c) => slack.messages(c).some((m) => announcementsOf(m.metadata).some((a) => a.version === last))) ? true : undefined,
    );
    // Adopts acked before a kill are resumed after it (durable commands, issue 24), in order: the
    // final one queues behind them, so they are let finish first.
    await until(
      'every resumed command done',
      async () => ((await healthOf(port))?.body.commands as { pending?: number } | undefined)?.pending === 0 ? true : undefined,
      240_000,
    );
    const finalAdopt = slack.slashCommand({ text: `adopt geo ${last}`, userId: ADOPTER, channelId: TEAM_B_CHANNEL });
    const ack = await sendToBot(`http://127.0.0.1:${port}/slack/events`, SIGNING_SECRET, finalAdopt);
    expect(ack.status).toBe(200);
    const answer = await slack.waitForResponse(finalAdopt.responseUrl, WAIT_MS);
    expect(replyText(answer.body)).toContain(`adopted geo ${last} for client-model`);
    expect(world.remoteFile()).toContain(`smv.stages.geo.version = ${last}`);

    // A clean scan after the last restart has seen everything: all posted, or unknown with the reason.
    const scansBefore = Number((await healthOf(port))?.body.scans ?? 0);
    await until('one more full scan', async () => (Number((await healthOf(port))?.body.scans ?? 0) >= scansBefore + 2 ? true : undefined));
    const state = await checkInvariants('the end', true);

    // SIGTERM still stops it cleanly, and the file it leaves is a sound database.
    bot!.child.kill('SIGTERM');
    const stopped = await within(bot!.exited, WAIT_MS, 'still running');
    expect(stopped, output()).toEqual({ code: 0, signal: null });
    const db = new Database(path.join(world.dataDir, DATABASE_FILE), { readonly: true, fileMustExist: true });
    try {
      expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    } finally {
      db.close();
    }
    expect(exportState(world.dataDir).versions).toHaveLength(state.versions.length);

    // No adoption was told twice (the reply, or the recovery note after a restart).
    const told = new Map<string, number>();
    const tell = (text: string) => {
      for (const sha of new Set([...text.matchAll(/— commit ([0-9a-f]{7})/g)].map((m) => m[1]!))) told.set(sha, (told.get(sha) ?? 0) + 1);
    };
    for (const { responseUrl } of [...adopts, { responseUrl: finalAdopt.responseUrl }]) {
      for (const r of slack.responses(responseUrl)) if (r.ok) tell(replyText(r.body));
    }
    for (const m of slack.messages(TEAM_B_CHANNEL)) tell(m.text ?? '');
    const landed = state.adoptions.filter((a) => a.state === 'landed');
    const toldTwice = landed.filter((a) => (told.get(a.commit.slice(0, 7)) ?? 0) > 1).map((a) => a.commit);
    expect(toldTwice, context('adoptions told more than once')).toEqual([]);

    const statuses = state.versions.flatMap((v) => Object.values(v.announcements).map((a) => a.status));
    const count = (s: string) => statuses.filter((x) => x === s).length;
    const unknownSlackHas = state.versions
      .flatMap((v) => Object.values(v.announcements).filter((a) => a.status === 'unknown').map((a) => `${a.publisher} ${a.version} ${a.channel}`))
      .filter((key) => slack.messages().some((m) => announcementsOf(m.metadata).some((a) => `${a.publisher} ${a.version} ${m.channel}` === key))).length;
    console.log(
      `crash test (seed ${SEED}): ${ROUNDS} rounds, ${tally.kills} kills -9 — ${tally.duringPost} while Slack held an announcement, ` +
        `${tally.duringPush} during a push, ${tally.duringGit} with git running in the clone, ${tally.duringStartup} during start-up ` +
        `(aimed at a post but none came: ${tally.aimedPostMissed}; at a push: ${tally.aimedPushMissed}). ` +
        `Announcements: ${count('posted')} posted, ${count('unknown')} unknown (${unknownSlackHas} of them in Slack), ${count('failed')} failed. ` +
        `Adoptions: ${adopts.length + 1} asked, ${landed.length} landed, ${state.adoptions.filter((a) => a.state === 'abandoned').length} abandoned, ` +
        `${landed.filter((a) => !told.has(a.commit.slice(0, 7))).length} landed but never told. ` +
        `${startups.length} starts to ready, ${(startups.reduce((a, b) => a + b, 0) / startups.length / 1000).toFixed(1)} s each on average; ` +
        `${Math.round((Date.now() - started) / 1000)} s in all.`,
    );
  }, 660_000);
});
