// `npm run bench -- --stores` (issue 27): publish dirs on a real S3 API (moto) and a real HDFS
// (MiniDFSCluster, dfs.ls.limit 1,000 as on a real NameNode), 10,000 versions each.
//
// Per store:
//   - set-up (not a figure): 10,000 versions written, 16 in flight: each one module
//     `<stage>.Accounts.csv/part-00000` + `_SUCCESS`, over 5 stages; plus a 200-version history
//     under another dir for the bot process;
//   - floor: the minimal listing sequence of the store by a bare script in this process, raw
//     client only — S3: ListObjectsV2 of the whole prefix, no delimiter, paged; HDFS:
//     LISTSTATUS_BATCH of the publish dir, then of each version dir, then of each module dir
//     (what learns every version's `_SUCCESS` and sizes). Time and requests.
//   - smvbot: scanSource over openPublishSources(settings) — the bot's code path, requests counted
//     at the S3 client (a middleware) or the fetch WebHDFS goes through — on a fresh source (a first
//     start). Floor and smvbot runs alternate. Goals: time ≤ 1.5×, requests ≤ 1.2× the floor's.
//   - rescan with nothing new (every version known): requests = the root listing's pages, as a
//     bare delimited listing (S3) / LISTSTATUS_BATCH of the root (HDFS) counts them.
//   - announcement, the real bot process (`npm start`'s command) on the 200-version history:
//     last file written → chat.postMessage at the stand-in, (a) with POST /hooks/published sent
//     right after the last file (goal p50 ≤ 1 s), (b) without, scan.schedule every 5 s
//     (goal p50 ≤ 5 s + 1 s).
import { createHmac } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { stringify } from 'yaml';
import type { ApiCall, SlackStandIn } from '../../dev/slack/slackStandIn.ts';
import { inParallel, startMiniHdfs, type MiniHdfs } from '../../dev/world/hdfs.ts';
import { MOTO_CREDENTIALS, MOTO_REGION, startMoto, type Moto } from '../../dev/world/moto.ts';
import { botEnv } from '../../dev/world/worldParts.ts';
import { scanSource, type ScanOptions } from '../../src/core/publishSource.ts';
import type { StoreSettings } from '../../src/infra/config/env.ts';
import { openPublishSources, type StoreObservers } from '../../src/infra/publish/open.ts';
import { freePort, startChildServer, type ChildServer } from './childServer.ts';
import { againstFloor, againstLimit, type Figure } from './report.ts';
import { median, percentile, round, sleep } from './stats.ts';
import { BOT_TOKEN, SIGNING_SECRET } from './world.ts';

export type StoreName = 'moto' | 'hdfs';

export interface StoresPhaseOptions {
  /** Temp dir for configs and data dirs (the caller removes it). */
  root: string;
  stores: readonly StoreName[];
  versions: number;
  stages: number;
  /** Writes in flight while building a store's fixture. */
  writeConcurrency: number;
  /** Full scans of each kind (floor, smvbot), alternating; medians are the figures. */
  scanRuns: number;
  rescanRuns: number;
  /** Versions already there when the bot process starts (the announcement part). */
  announceHistory: number;
  announceSamples: number;
  /** `node <nodeArgs> <entry>`: the bot as `npm start` runs it. */
  bot: { entry: string; nodeArgs: string[] };
  standIn: SlackStandIn;
}

export interface StoresPhaseResult {
  figures: Figure[];
  /** What building each store's fixtures took (not a figure). */
  setups: { store: StoreName; versions: number; ms: number; startMs: number }[];
}

const BUCKET = 'bench-publish';
const MAIN_DIR = 'publish';
const ANNOUNCE_DIR = 'announce';
const PUBLISHER = 'public-data';
const CHANNEL = 'C0ANNOUNCE';
const HOOK_SECRET = 'bench-hook-secret-0123456789abcdef';
/** Entries (keys, names) per listing page: S3's maximum and a real NameNode's dfs.ls.limit. */
const PAGE = 1000;
const SCHEDULE_SECONDS = 5;
const PART_BODY = 'id,zip,amt\n1,02139,1.5\n2,10001,2.25\n';

/** Requests, by kind (an op or an S3 command, `…/` for a delimited listing). */
class Requests {
  readonly byKind = new Map<string, number>();
  total = 0;
  count(kind: string): void {
    this.total++;
    this.byKind.set(kind, (this.byKind.get(kind) ?? 0) + 1);
  }
  reset(): void {
    this.total = 0;
    this.byKind.clear();
  }
  text(): string {
    return [...this.byKind].map(([k, n]) => `${k} ${n}`).join(', ');
  }
}

/** What a bare listing sequence learnt: versions whose module has `_SUCCESS`, and data bytes. */
interface FloorOutcome {
  requests: number;
  withSuccess: number;
  bytes: number;
}

interface BenchStore {
  name: StoreName;
  label: string;
  floorWhat: string;
  /** publishDir URL of a dir of the store. */
  url(dir: string): string;
  write(dir: string, rel: string, body: string): Promise<void>;
  /** The minimal listing sequence, by a bare script (raw client, no smvbot code). */
  floor(dir: string): Promise<FloorOutcome>;
  /** Pages of a bare listing of the dir's children (what a rescan must cost). */
  rootPages(dir: string): Promise<number>;
  settings: StoreSettings;
  /** Counts every request smvbot's sources send. */
  observers(requests: Requests): StoreObservers;
  /** What the bot process needs in its environment to reach the store. */
  env: Record<string, string>;
  stop(): Promise<void>;
}

function baseSettings(): Omit<StoreSettings, 's3' | 'hdfs'> {
  return { timeoutSeconds: 30, secrets: [] };
}

async function motoStore(): Promise<BenchStore> {
  const moto = await startMoto();
  await moto.createBucket(BUCKET);
  // The SDK's default credential chain (what the bot uses) reads these; so does this process's smvbot.
  process.env.AWS_ACCESS_KEY_ID = MOTO_CREDENTIALS.accessKeyId;
  process.env.AWS_SECRET_ACCESS_KEY = MOTO_CREDENTIALS.secretAccessKey;
  const bareClient = () => new S3Client({ endpoint: moto.endpoint, forcePathStyle: true, region: MOTO_REGION, credentials: MOTO_CREDENTIALS });
  return {
    name: 'moto',
    label: 'S3 (moto)',
    floorWhat: 'bare ListObjectsV2 of the prefix, no delimiter',
    url: (dir) => `s3://${BUCKET}/${dir}`,
    write: (dir, rel, body) => moto.put(BUCKET, `${dir}/${rel}`, body),
    async floor(dir) {
      const client = bareClient();
      const prefix = `${dir}/`;
      const successes = new Set<string>();
      let bytes = 0;
      let requests = 0;
      let token: string | undefined;
      try {
        do {
          const page = await client.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: prefix, MaxKeys: PAGE, ...(token !== undefined && { ContinuationToken: token }) }));
          requests++;
          for (const object of page.Contents ?? []) {
            const rel = object.Key!.slice(prefix.length);
            if (rel.endsWith('/_SUCCESS')) successes.add(rel.slice(0, rel.indexOf('/')));
            else bytes += object.Size ?? 0;
          }
          token = page.IsTruncated ? page.NextContinuationToken : undefined;
        } while (token !== undefined);
      } finally {
        client.destroy();
      }
      return { requests, withSuccess: successes.size, bytes };
    },
    async rootPages(dir) {
      const client = bareClient();
      let pages = 0;
      let token: string | undefined;
      try {
        do {
          const page = await client.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: `${dir}/`, Delimiter: '/', MaxKeys: PAGE, ...(token !== undefined && { ContinuationToken: token }) }));
          pages++;
          token = page.IsTruncated ? page.NextContinuationToken : undefined;
        } while (token !== undefined);
      } finally {
        client.destroy();
      }
      return pages;
    },
    settings: { ...baseSettings(), hdfs: {}, s3: { endpoint: moto.endpoint, region: MOTO_REGION } },
    observers: (requests) => ({
      onS3Client: (client) =>
        client.middlewareStack.add(
          (next, context) => (args) => {
            const query = (args.request as { query?: Record<string, unknown> }).query ?? {};
            requests.count(`${context.commandName ?? 'request'}${query.delimiter !== undefined ? ' (delimited)' : ''}`);
            return next(args);
          },
          { step: 'finalizeRequest', name: 'benchRequestCounter' },
        ),
    }),
    env: {
      AWS_ENDPOINT_URL_S3: moto.endpoint,
      AWS_ACCESS_KEY_ID: MOTO_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: MOTO_CREDENTIALS.secretAccessKey,
      AWS_REGION: MOTO_REGION,
    },
    stop: () => moto.stop(),
  };
}

interface HdfsStatus {
  pathSuffix: string;
  type: string;
  length: number;
}

async function hdfsStore(): Promise<BenchStore> {
  const hdfs: MiniHdfs = await startMiniHdfs({ lsLimit: PAGE, heapMb: 1024 });
  const user = hdfs.superuser;
  /** LISTSTATUS_BATCH of `hdfsPath`, page by page, with plain fetch; `requests` counts each page. */
  async function* listBatch(hdfsPath: string, onRequest: () => void): AsyncGenerator<HdfsStatus[]> {
    let after: string | undefined;
    for (;;) {
      const query = new URLSearchParams({ op: 'LISTSTATUS_BATCH', 'user.name': user, ...(after !== undefined && { startafter: after }) });
      const res = await fetch(`http://${hdfs.nameNode}/webhdfs/v1${hdfsPath.split('/').map(encodeURIComponent).join('/')}?${query}`);
      onRequest();
      if (!res.ok) throw new Error(`LISTSTATUS_BATCH ${hdfsPath}: HTTP ${res.status} ${await res.text()}`);
      const doc = (await res.json()) as { DirectoryListing: { partialListing: { FileStatuses: { FileStatus: HdfsStatus[] } }; remainingEntries: number } };
      const page = doc.DirectoryListing.partialListing.FileStatuses.FileStatus;
      yield page;
      if (doc.DirectoryListing.remainingEntries <= 0 || page.length === 0) return;
      after = page[page.length - 1]!.pathSuffix;
    }
  }
  return {
    name: 'hdfs',
    label: 'HDFS (MiniDFSCluster)',
    floorWhat: 'bare LISTSTATUS_BATCH of the root, each version, each module',
    url: (dir) => hdfs.url(`/${dir}`),
    write: (dir, rel, body) => hdfs.write(`/${dir}/${rel}`, body),
    async floor(dir) {
      let requests = 0;
      const onRequest = () => void requests++;
      let withSuccess = 0;
      let bytes = 0;
      const versions: string[] = [];
      for await (const page of listBatch(`/${dir}`, onRequest)) for (const s of page) if (s.type === 'DIRECTORY') versions.push(s.pathSuffix);
      for (const version of versions) {
        const modules: string[] = [];
        for await (const page of listBatch(`/${dir}/${version}`, onRequest)) for (const s of page) if (s.type === 'DIRECTORY') modules.push(s.pathSuffix);
        let success = modules.length > 0;
        for (const module of modules) {
          let has = false;
          for await (const page of listBatch(`/${dir}/${version}/${module}`, onRequest)) {
            for (const s of page) {
              if (s.pathSuffix === '_SUCCESS') has = true;
              else if (s.type === 'FILE') bytes += s.length;
            }
          }
          success &&= has;
        }
        if (success) withSuccess++;
      }
      return { requests, withSuccess, bytes };
    },
    async rootPages(dir) {
      let pages = 0;
      for await (const _page of listBatch(`/${dir}`, () => void pages++));
      return pages;
    },
    settings: { ...baseSettings(), hdfs: { user }, s3: {} },
    observers: (requests) => ({
      fetch: (url, init) => {
        requests.count(new URL(url).searchParams.get('op') ?? 'request');
        return fetch(url, init);
      },
    }),
    env: { SMVBOT_HDFS_USER: user },
    stop: () => hdfs.stop(),
  };
}

function stageFqns(count: number): string[] {
  return Array.from({ length: count }, (_, i) => `com.acme.s${String(i).padStart(2, '0')}`);
}

/** Version `i`: stages take turns, one day apart per stage, like SMV publish versions. */
function versionOf(i: number, stages: readonly string[], year = 2016): { version: string; stage: string } {
  const stage = stages[i % stages.length]!;
  const day = new Date(Date.UTC(year, 0, 1) + Math.floor(i / stages.length) * 86_400_000).toISOString().slice(0, 10).replaceAll('-', '');
  return { version: `TCD.${day}.${stage.split('.').pop()}`, stage };
}

/** One complete version: the part file, then `_SUCCESS` last (as Spark writes it). */
async function writeVersion(store: BenchStore, dir: string, version: string, stage: string): Promise<void> {
  const moduleDir = `${version}/${stage}.Accounts.csv`;
  await store.write(dir, `${moduleDir}/part-00000`, PART_BODY);
  await store.write(dir, `${moduleDir}/_SUCCESS`, '');
}

async function writeVersions(store: BenchStore, dir: string, count: number, stages: readonly string[], width: number): Promise<void> {
  const indexes = Array.from({ length: count }, (_, i) => i);
  await inParallel(indexes, width, async (i) => {
    const { version, stage } = versionOf(i, stages);
    await writeVersion(store, dir, version, stage);
  });
}

export async function runStoresPhase(opts: StoresPhaseOptions, progress: (msg: string) => void): Promise<StoresPhaseResult> {
  const figures: Figure[] = [];
  const setups: StoresPhaseResult['setups'] = [];
  const stages = stageFqns(opts.stages);
  for (const name of opts.stores) {
    const startedAt = performance.now();
    progress(`${name}: starting the store`);
    const store = name === 'moto' ? await motoStore() : await hdfsStore();
    const startMs = performance.now() - startedAt;
    try {
      const writeStart = performance.now();
      progress(`${name}: writing ${opts.versions} versions (+${opts.announceHistory} for the bot process), ${opts.writeConcurrency} in flight`);
      await writeVersions(store, MAIN_DIR, opts.versions, stages, opts.writeConcurrency);
      await writeVersions(store, ANNOUNCE_DIR, opts.announceHistory, stages, opts.writeConcurrency);
      const setupMs = performance.now() - writeStart;
      setups.push({ store: name, versions: opts.versions + opts.announceHistory, ms: setupMs, startMs });
      progress(`${name}: written in ${(setupMs / 1000).toFixed(1)} s (store started in ${(startMs / 1000).toFixed(1)} s)`);
      figures.push(...(await scanFigures(store, stages, opts, progress)));
      figures.push(...(await announceFigures(store, stages, opts, progress)));
    } finally {
      await store.stop();
    }
  }
  return { figures, setups };
}

async function scanFigures(store: BenchStore, stages: readonly string[], opts: StoresPhaseOptions, progress: (msg: string) => void): Promise<Figure[]> {
  const n = opts.versions;
  const url = store.url(MAIN_DIR);
  const requests = new Requests();
  // As the bot's VersionScan asks: a first scan (nothing known) or a rescan with every version known.
  const scanOpts = (known: boolean): ScanOptions => ({ stages, settleSeconds: 0, columns: false, listed: () => known, firstScan: !known });
  // A fresh source per full scan, as a bot starting up opens it.
  const freshSource = () => openPublishSources(store.settings, store.observers(requests))(url);

  const floorMs: number[] = [];
  const floorRequests: number[] = [];
  const fullMs: number[] = [];
  const fullRequests: number[] = [];
  let fullKinds = '';
  let lastSource = freshSource();
  // One of each untimed first: sockets, JIT and the store's caches as warm for both.
  for (let run = -1; run < opts.scanRuns; run++) {
    let t = performance.now();
    const floor = await store.floor(MAIN_DIR);
    const fMs = performance.now() - t;
    if (floor.withSuccess !== n) throw new Error(`${store.name} floor saw ${floor.withSuccess} versions with _SUCCESS, expected ${n}`);

    requests.reset();
    lastSource = freshSource();
    t = performance.now();
    const result = await scanSource(lastSource, scanOpts(false));
    const sMs = performance.now() - t;
    const complete = result.versions.filter((v) => v.complete).length;
    if (complete !== n || !result.listedAll) {
      throw new Error(`${store.name} full scan found ${complete} complete versions of ${n} (listedAll ${result.listedAll}): ${result.problems.slice(0, 5).join('; ')}`);
    }
    const bytes = result.versions.reduce((sum, v) => sum + v.bytes, 0);
    if (bytes !== floor.bytes) throw new Error(`${store.name}: smvbot counted ${bytes} data bytes, the floor ${floor.bytes}`);
    if (run < 0) {
      progress(`${store.name}: warm-up floor ${fMs.toFixed(0)} ms (${floor.requests} requests), smvbot ${sMs.toFixed(0)} ms (${requests.total}: ${requests.text()})`);
      continue;
    }
    floorMs.push(fMs);
    floorRequests.push(floor.requests);
    fullMs.push(sMs);
    fullRequests.push(requests.total);
    fullKinds = requests.text();
    progress(`${store.name}: full scan ${run + 1}/${opts.scanRuns}: floor ${fMs.toFixed(0)} ms (${floor.requests} requests), smvbot ${sMs.toFixed(0)} ms (${requests.total}: ${fullKinds})`);
  }

  // Nothing new: every version known, on the source the last full scan used (as the bot's next scan).
  const rootPages = await store.rootPages(MAIN_DIR);
  const rescanMs: number[] = [];
  const rescanRequests: number[] = [];
  for (let i = 0; i < opts.rescanRuns; i++) {
    requests.reset();
    const t = performance.now();
    const result = await scanSource(lastSource, scanOpts(true));
    rescanMs.push(performance.now() - t);
    rescanRequests.push(requests.total);
    if (result.versions.length !== 0 || !result.listedAll) throw new Error(`${store.name} rescan read ${result.versions.length} versions (listedAll ${result.listedAll})`);
  }
  progress(`${store.name}: rescans with nothing new: ${rescanRequests.join(', ')} requests (${requests.text()}), ${rescanMs.map((m) => m.toFixed(0)).join(', ')} ms; root listing ${rootPages} pages`);

  const s = store.name;
  const samples = (xs: number[]) => xs.map((x) => round(x)).join(' ');
  return [
    againstFloor(`${s}_scan_full_ms`, median(fullMs), median(floorMs), 1.5, {
      samples: fullMs.length,
      floorWhat: `${store.floorWhat} (median of ${floorMs.length})`,
      extra: { store: store.label, versions: n, smvbot_runs_ms: samples(fullMs), floor_runs_ms: samples(floorMs) },
    }),
    againstFloor(`${s}_scan_full_requests`, median(fullRequests), median(floorRequests), 1.2, {
      unit: 'count',
      samples: fullRequests.length,
      floorWhat: `the same bare sequence's requests`,
      extra: { store: store.label, versions: n, smvbot_requests: fullKinds },
    }),
    againstFloor(`${s}_rescan_nothing_new_requests`, Math.max(...rescanRequests), rootPages, 1, {
      unit: 'count',
      samples: rescanRequests.length,
      floorWhat: `root listing pages (${store.name === 'moto' ? 'delimited ListObjectsV2' : 'LISTSTATUS_BATCH'}; ceil(${n}/${PAGE}) = ${Math.ceil(n / PAGE)})`,
      extra: { store: store.label, versions: n, rescan_ms: round(median(rescanMs)), expected_pages: Math.ceil(n / PAGE) },
    }),
  ];
}

function announces(version: string) {
  return (call: ApiCall) => {
    const meta = call.args.metadata as { event_payload?: { version?: string } } | undefined;
    return call.ok && (meta?.event_payload?.version === version || String(call.args.text ?? '').includes(version));
  };
}

/** POST /hooks/published, signed as a publisher's wrapper signs it. */
async function postHook(port: number, version: string): Promise<void> {
  const body = JSON.stringify({ publisher: PUBLISHER, version });
  const ts = String(Math.floor(Date.now() / 1000));
  const signature = 'v0=' + createHmac('sha256', HOOK_SECRET).update(`v0:${ts}:${body}`).digest('hex');
  const res = await fetch(`http://127.0.0.1:${port}/hooks/published`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-smvbot-request-timestamp': ts, 'x-smvbot-signature': signature },
    body,
  });
  const text = await res.text();
  if (res.status !== 202) throw new Error(`POST /hooks/published: HTTP ${res.status} ${text}`);
}

async function startBot(store: BenchStore, stages: readonly string[], opts: StoresPhaseOptions, mode: 'hook' | 'schedule'): Promise<ChildServer> {
  const configPath = path.join(opts.root, `smvbot-${store.name}-${mode}.yml`);
  const dataDir = path.join(opts.root, `data-${store.name}-${mode}`);
  fs.mkdirSync(dataDir, { recursive: true });
  // With the hook, the schedule is hourly: what announces a version is the hook alone.
  const schedule = mode === 'hook' ? '0 * * * *' : `*/${SCHEDULE_SECONDS} * * * * *`;
  fs.writeFileSync(
    configPath,
    stringify({
      scan: { schedule },
      publishers: [{ name: PUBLISHER, publishDir: store.url(ANNOUNCE_DIR), stages, channels: [CHANNEL], settleSeconds: 0 }],
    }),
  );
  const port = await freePort();
  const env = botEnv(
    { home: opts.root, configPath, dataDir, botToken: BOT_TOKEN, signingSecret: SIGNING_SECRET },
    { SLACK_API_URL: opts.standIn.url, PORT: String(port), LOG_LEVEL: 'warn', ...store.env, ...(mode === 'hook' ? { SMVBOT_HOOK_SECRET: HOOK_SECRET } : {}) },
  );
  return startChildServer({ entry: opts.bot.entry, nodeArgs: opts.bot.nodeArgs, env, cwd: opts.root, port });
}

async function announceFigures(store: BenchStore, stages: readonly string[], opts: StoresPhaseOptions, progress: (msg: string) => void): Promise<Figure[]> {
  const figures: Figure[] = [];
  let fresh = 0;
  for (const mode of ['hook', 'schedule'] as const) {
    opts.standIn.clearRecords();
    const bot = await startBot(store, stages, opts, mode);
    try {
      const known = Number((await bot.healthz()).body.versions ?? Number.NaN);
      if (opts.standIn.calls('chat.postMessage').length !== 0) throw new Error(`the bot announced history on its first start:\n${bot.output()}`);
      const latencies: number[] = [];
      for (let i = 0; i < opts.announceSamples; i++) {
        // Dated 2099+: newer than the history, never used before.
        const { version, stage } = versionOf(fresh++, stages, 2099);
        // Without the hook, writes land anywhere in the schedule's period. With it, a second apart:
        // the poster paces each channel at Slack's one post a second (after a burst of 3), and a
        // sample is the latency of one version, not of a queue.
        await sleep(mode === 'schedule' ? Math.random() * SCHEDULE_SECONDS * 1000 : 1100);
        await writeVersion(store, ANNOUNCE_DIR, version, stage);
        const writtenAt = Date.now();
        if (mode === 'hook') await postHook(bot.port, version);
        const call = await opts.standIn.waitForCall('chat.postMessage', announces(version), 30_000).catch((err: Error) => {
          throw new Error(`${store.name} (${mode}): ${version} was not announced: ${err.message}\n${bot.output()}`);
        });
        latencies.push(call.atMs - writtenAt);
      }
      progress(`${store.name}: announce (${mode}, ${known} versions known): ${latencies.map((l) => l.toFixed(0)).join(', ')} ms`);
      const extra = { store: store.label, history_versions: known, max_ms: round(Math.max(...latencies)), p90_ms: round(percentile(latencies, 90)), runs_ms: latencies.map((l) => round(l, 0)).join(' ') };
      figures.push(
        mode === 'hook'
          ? againstLimit(`${store.name}_announce_hook_p50_ms`, median(latencies), 'ms', 1000, {
              samples: latencies.length,
              floorWhat: 'last file written → chat.postMessage, POST /hooks/published after the last file',
              extra,
            })
          : againstLimit(`${store.name}_announce_schedule_p50_ms`, median(latencies), 'ms', SCHEDULE_SECONDS * 1000 + 1000, {
              samples: latencies.length,
              floorWhat: `last file written → chat.postMessage, no hook, scan.schedule every ${SCHEDULE_SECONDS} s`,
              extra,
            }),
      );
    } finally {
      const code = await bot.stop();
      if (code !== 0) progress(`${store.name}: bot (${mode}) exited with code ${code}:\n${bot.output()}`);
    }
  }
  return figures;
}
