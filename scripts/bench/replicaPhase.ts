// `--replicas N`: the same bot as N processes on one PostgreSQL schema (its own, dropped at the
// end), against the single process (SQLite) measured earlier in the same run:
//   - announcement p50, last `_SUCCESS` → chat.postMessage, with the leader scanning;
//   - adopt throughput: a burst of adopts for ONE consumer, spread over the replicas, against the
//     same burst sent to the single process (adopts for one consumer run one at a time either way);
//   - failover: kill -9 of the leader → another replica's /healthz says `role: leader`, and → a
//     version completed right after the kill is announced; N-1 samples (down to one replica left),
//     the worst reported.
import { performance } from 'node:perf_hooks';
import type { SlackStandIn } from '../../dev/slack/slackStandIn.ts';
import { createSchema, findPostgres, NEEDS_SERVER, type TestSchema } from '../../dev/world/postgres.ts';
import { runAnnouncePhase } from './announcePhase.ts';
import { freePort, startChildServer, type ChildServer } from './childServer.ts';
import type { Figure } from './report.ts';
import { SignedClient } from './signedClient.ts';
import { round, sleep } from './stats.ts';
import { ADOPTER, SIGNING_SECRET, TEAM_CHANNEL, type BenchWorld } from './world.ts';

/** The PostgreSQL server the replicas use; fails early, saying what is needed, when none answers. */
export async function requirePostgresServer(): Promise<string> {
  const found = await findPostgres();
  if ('url' in found) return found.url;
  throw new Error(`--replicas needs PostgreSQL: none reachable (${found.error}). ${NEEDS_SERVER}`);
}

export interface AdoptBurst {
  totalMs: number;
  sent: number;
  answeredAdopted: number;
  newCommits: number;
  landed: boolean;
}

/**
 * `count` adopts of distinct versions of one stage (never its current pin, so each is a real
 * change), for the one consumer, all sent at once; request i goes to urls[i % urls.length].
 */
export async function adoptBurst(
  world: BenchWorld,
  standIn: SlackStandIn,
  urls: string[],
  stage: number,
  count: number,
): Promise<AdoptBurst> {
  const base = world.baseName(stage);
  const pinned = new RegExp(`^smv\\.stages\\.${base}\\.version = (\\S+)$`, 'm').exec(world.remoteFile())?.[1];
  const versions = Array.from({ length: world.size.versionsPerStage }, (_, v) => world.versionName(stage, v))
    .filter((v) => v !== pinned)
    .slice(0, count);
  const clients = urls.map((url) => new SignedClient(url, SIGNING_SECRET));
  const commitsBefore = world.remoteCommitCount();
  const start = performance.now();
  try {
    const answers = await Promise.allSettled(
      versions.map(async (version, i) => {
        const req = standIn.slashCommand({ text: `adopt ${base} ${version}`, userId: ADOPTER, channelId: TEAM_CHANNEL });
        const ack = await clients[i % clients.length]!.send(req);
        if (ack.status !== 200 || ack.text.trim()) throw new Error(`/smv adopt ${version}: HTTP ${ack.status} ${ack.text}`);
        const text = JSON.stringify((await standIn.waitForResponse(req.responseUrl, 300_000)).body);
        if (!text.includes('adopted') || !text.includes('in_channel')) throw new Error(`/smv adopt ${version} did not land: ${text.slice(0, 300)}`);
      }),
    );
    const totalMs = performance.now() - start;
    const answeredAdopted = answers.filter((a) => a.status === 'fulfilled').length;
    const newCommits = world.remoteCommitCount() - commitsBefore;
    return { totalMs, sent: versions.length, answeredAdopted, newCommits, landed: answeredAdopted === versions.length && newCommits === versions.length };
  } finally {
    for (const c of clients) c.close();
  }
}

export interface SingleProcessFigures {
  announceP50Ms: number;
  /** spawn → /healthz 200 of the single process: what a crash costs it before it can do anything. */
  startupMs: number;
  adopts: AdoptBurst;
}

export interface ReplicaPhaseOptions {
  replicas: number;
  serverUrl: string;
  entry: string;
  nodeArgs: string[];
  announceVersions: number;
  adopts: number;
  /** The stage the replicas' adopt burst uses (another than the single process's). */
  adoptStage: number;
}

const leaderOf = async (servers: ChildServer[]): Promise<ChildServer | undefined> => {
  const roles = await Promise.all(servers.map((s) => s.healthz().then((h) => h.body.role, () => undefined)));
  const leaders = servers.filter((_, i) => roles[i] === 'leader');
  return leaders.length === 1 ? leaders[0] : undefined;
};

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs: number, everyMs = 20): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}

export async function runReplicaPhase(
  world: BenchWorld,
  standIn: SlackStandIn,
  single: SingleProcessFigures,
  opts: ReplicaPhaseOptions,
  progress: (msg: string) => void,
): Promise<Figure[]> {
  const n = opts.replicas;
  let schema: TestSchema | undefined;
  const servers: ChildServer[] = [];
  try {
    schema = await createSchema(opts.serverUrl);
    progress(`replicas: ${n} bot processes on PostgreSQL schema ${schema.schema}`);
    const start = async () => {
      const port = await freePort();
      const env = { ...world.env(world.newDataDir(), standIn.url, port), SMVBOT_DATABASE_URL: schema!.url };
      const server = await startChildServer({ entry: opts.entry, env, cwd: world.root, port, nodeArgs: opts.nodeArgs, readyTimeoutMs: 600_000 });
      servers.push(server);
      return server;
    };
    // The first one leads and records every published version in the empty database.
    let t = performance.now();
    await start();
    const firstStartMs = performance.now() - t;
    t = performance.now();
    await Promise.all(Array.from({ length: n - 1 }, start));
    const otherStartMs = performance.now() - t;
    progress(`replicas: first (leader, records ${world.size.stages * world.size.versionsPerStage} versions) ready in ${(firstStartMs / 1000).toFixed(1)} s, the other ${n - 1} in ${(otherStartMs / 1000).toFixed(1)} s`);
    const figures: Figure[] = [
      {
        figure: `replicas${n}_startup_ms`,
        value: firstStartMs,
        unit: 'ms',
        floor: single.startupMs,
        floorWhat: 'first replica, empty database → /healthz 200; floor: single process (SQLite), every version known',
        ratio: firstStartMs / single.startupMs,
        goal: null,
        met: null,
        extra: { others_ready_ms: round(otherStartMs) },
      },
    ];

    // Announcements, with the leader's watcher and schedule running and the others following.
    const leader = await until('one leader', () => leaderOf(servers), 30_000);
    const [announce] = await runAnnouncePhase(world, standIn, leader, { versions: opts.announceVersions }, (msg) => progress(`replicas: ${msg}`));
    figures.push({
      ...announce!,
      figure: `replicas${n}_announce_p50_ms`,
      floor: single.announceP50Ms,
      ratio: announce!.value / single.announceP50Ms,
      floorWhat: 'last _SUCCESS → chat.postMessage; floor: single process (SQLite), this run',
    });

    // Adopt throughput for one consumer, spread over the replicas.
    const burst = await adoptBurst(world, standIn, servers.map((s) => s.eventsUrl), opts.adoptStage, opts.adopts);
    progress(
      `replicas: ${burst.sent} adopts for one consumer over ${n} replicas: ${burst.answeredAdopted} answered "adopted", ${burst.newCommits} commits, ${burst.totalMs.toFixed(0)} ms ` +
        `(single process: ${single.adopts.totalMs.toFixed(0)} ms)`,
    );
    figures.push({
      figure: `replicas${n}_adopt_${burst.sent}_one_consumer_ms`,
      value: burst.totalMs,
      unit: 'ms',
      floor: single.adopts.totalMs,
      floorWhat: `the same ${single.adopts.sent} adopts (one consumer, all at once) to the single process, this run`,
      ratio: burst.totalMs / single.adopts.totalMs,
      goal: `all ${burst.sent} land`,
      met: burst.landed && single.adopts.landed,
      samples: 1,
      extra: {
        adopts_per_s: round((burst.sent / burst.totalMs) * 1000),
        single_adopts_per_s: round((single.adopts.sent / single.adopts.totalMs) * 1000),
        answered: burst.answeredAdopted,
        new_commits: burst.newCommits,
      },
    });

    // Failover: kill -9 the leader while a version completes; repeat down to one replica.
    const toLeader: number[] = [];
    const toAnnounce: number[] = [];
    let alive = [...servers];
    while (alive.length > 1) {
      const current = await until('one leader', () => leaderOf(alive), 30_000);
      const stage = toLeader.length % world.stages.length;
      const version = world.freshVersionName(stage);
      await current.kill9();
      const killedAt = Date.now();
      world.publish(stage, version);
      alive = alive.filter((s) => s !== current);
      await until('another replica to lead', () => leaderOf(alive), 60_000, 10);
      toLeader.push(Date.now() - killedAt);
      const call = await standIn.waitForCall(
        'chat.postMessage',
        (c) => c.ok && (c.args.metadata as { event_payload?: { version?: string } } | undefined)?.event_payload?.version === version,
        120_000,
      );
      toAnnounce.push(call.atMs - killedAt);
    }
    progress(`replicas: failover after kill -9 of the leader: leader in ${toLeader.join(', ')} ms; new version announced in ${toAnnounce.join(', ')} ms`);
    figures.push(
      {
        figure: `replicas${n}_failover_leader_ms`,
        value: Math.max(...toLeader),
        unit: 'ms',
        floor: single.startupMs,
        floorWhat: 'kill -9 of the leader → another /healthz role leader (worst of N-1); floor: single process restart (spawn → /healthz 200)',
        ratio: Math.max(...toLeader) / single.startupMs,
        // A follower tries for the lock every second; the lock is free the moment the process dies.
        goal: '<=2000ms',
        met: Math.max(...toLeader) <= 2000,
        samples: toLeader.length,
        extra: { all_ms: toLeader.join(' ') },
      },
      {
        figure: `replicas${n}_failover_announce_ms`,
        value: Math.max(...toAnnounce),
        unit: 'ms',
        floor: single.startupMs,
        floorWhat: 'kill -9 of the leader → a version completed then is announced (worst of N-1); floor as above',
        ratio: Math.max(...toAnnounce) / single.startupMs,
        goal: null,
        met: null,
        samples: toAnnounce.length,
        extra: { all_ms: toAnnounce.join(' ') },
      },
    );
    const rss = servers.filter((s) => alive.includes(s)).map((s) => s.memory().rssMb);
    progress(`replicas: RSS of the last one ${rss.map((r) => r.toFixed(1)).join(', ')} MB`);
    return figures;
  } catch (error) {
    for (const s of servers) progress(`output of replica ${s.pid}:\n${s.output().slice(-3000)}`);
    throw error;
  } finally {
    for (const s of servers) await s.stop().catch(() => undefined);
    await schema?.drop().catch((error: unknown) => progress(`could not drop schema ${schema?.schema}: ${String(error)}`));
  }
}
