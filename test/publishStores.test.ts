// Issue 27 end to end: the real bot with its publish dirs on a real S3 API (moto's server) and a
// real HDFS (MiniDFSCluster over WebHDFS). A version written into the store is announced once the
// publish hook asks for a scan (no schedule, no watcher here: only the hook can cause it); an
// adopt is refused while the consumer's copy on the store misses a file, and lands once it is there.
import { createHmac } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { ANNOUNCE_CHANNEL, BotUnderTest, STAGES, World, modulesFor, removeSeededRemotes } from './support/botHarness.ts';
import { startMiniHdfs, type MiniHdfs } from '../dev/world/hdfs.ts';
import { MOTO_CREDENTIALS, MOTO_REGION, startMoto, type Moto } from '../dev/world/moto.ts';
import { makeTempDir, removeDir, writeVersion } from '../dev/world/publishFixtures.ts';

const HOOK_SECRET = 'hook-secret-for-store-tests-0123';

/** A store the test writes into, and what the bot's config and environment need to read it. */
interface Store {
  /** The publishDir URL of a folder in the store. */
  url(folder: string): string;
  put(key: string, body: Buffer): Promise<void>;
  env: Record<string, string>;
  stop(): Promise<void>;
}

async function motoStore(): Promise<Store> {
  const moto: Moto = await startMoto();
  await moto.createBucket('smv-data');
  return {
    url: (folder) => `s3://smv-data/${folder}`,
    put: (key, body) => moto.put('smv-data', key, body),
    env: { AWS_ENDPOINT_URL_S3: moto.endpoint, AWS_REGION: MOTO_REGION },
    stop: () => moto.stop(),
  };
}

async function hdfsStore(): Promise<Store> {
  const hdfs: MiniHdfs = await startMiniHdfs();
  return {
    url: (folder) => hdfs.url(`/applications/${folder}`),
    put: (key, body) => hdfs.write(`/applications/${key}`, body),
    env: { SMVBOT_HDFS_USER: hdfs.superuser },
    stop: () => hdfs.stop(),
  };
}

/** Every file of a local tree, as paths relative to it. */
function filesIn(dir: string, rel = ''): string[] {
  return fs.readdirSync(path.join(dir, rel), { withFileTypes: true }).flatMap((d) => {
    const child = rel ? `${rel}/${d.name}` : d.name;
    return d.isDirectory() ? filesIn(dir, child) : [child];
  });
}

/** Writes a version the way the fixtures shape it, file by file, into `folder`; `skip` leaves files out. */
async function publishInto(store: Store, folder: string, version: string, stage: string, skip: (rel: string) => boolean = () => false): Promise<string[]> {
  const local = makeTempDir('smvbot-store-fixture-');
  try {
    writeVersion(local, version, modulesFor(stage));
    const files = filesIn(local);
    for (const rel of files) if (!skip(rel)) await store.put(`${folder}/${rel}`, fs.readFileSync(path.join(local, rel)));
    return files;
  } finally {
    removeDir(local);
  }
}

function signedHook(port: number, publisher: string, version: string): Promise<Response> {
  const body = JSON.stringify({ publisher, version });
  const ts = String(Math.floor(Date.now() / 1000));
  const sig = 'v0=' + createHmac('sha256', HOOK_SECRET).update(`v0:${ts}:${body}`).digest('hex');
  return fetch(`http://127.0.0.1:${port}/hooks/published`, {
    method: 'POST',
    body,
    headers: { 'content-type': 'application/json', 'x-smvbot-request-timestamp': ts, 'x-smvbot-signature': sig },
  });
}

const savedEnv = { ...process.env };
afterAll(() => {
  removeSeededRemotes();
  process.env = savedEnv;
});

describe.each([
  ['S3 (moto server)', motoStore],
  ['HDFS (MiniDFSCluster over WebHDFS)', hdfsStore],
])('publish dirs on %s', (_name, open) => {
  let store: Store;
  let world: World;
  let harness: BotUnderTest | undefined;
  beforeAll(async () => {
    store = await open();
    // The AWS SDK reads its credentials from the process environment (its default chain), as in production.
    process.env.AWS_ACCESS_KEY_ID = MOTO_CREDENTIALS.accessKeyId;
    process.env.AWS_SECRET_ACCESS_KEY = MOTO_CREDENTIALS.secretAccessKey;
    world = new World({ consumerPublishDir: true });
    for (const stage of STAGES) await publishInto(store, 'publish', `TCD.20160701.${stage.split('.').pop()}`, stage);
    const config = parse(fs.readFileSync(world.configPath, 'utf8')) as { publishers: { publishDir: string }[]; consumers: { publishDir?: string }[] };
    config.publishers[0]!.publishDir = store.url('publish');
    config.consumers[0]!.publishDir = store.url('teamb-publish');
    fs.writeFileSync(world.configPath, stringify(config));
  }, 180_000);
  afterAll(async () => {
    await harness?.stop();
    world?.cleanup();
    await store?.stop();
  });

  it('announces a version on the hook, refuses an adopt while the copy misses a file, and lands it once synced', async () => {
    harness = await BotUnderTest.start(world, undefined, { env: { ...store.env, SMVBOT_HOOK_SECRET: HOOK_SECRET } });
    const health = await harness.healthz();
    expect(health.status).toBe(200);
    // The history on the store was recorded at the first start, silently.
    expect(harness.slack.calls('chat.postMessage')).toHaveLength(0);
    expect(health.body.versions).toBe(3);

    const version = 'TCD.20160802.geo';
    await publishInto(store, 'publish', version, 'com.acme.geo');
    expect((await signedHook(harness.bot.port, 'public-data', version)).status).toBe(202);
    const announced = await harness.slack.waitForCall('chat.postMessage', (c) => c.ok && String(c.args.text).includes(version), 60_000);
    expect(announced.args.channel).toBe(ANNOUNCE_CHANNEL);

    // The consumer's copy on the store lacks the csv's part file: not synced, nothing committed.
    const before = world.remoteLog();
    const missing = (rel: string) => /\.csv\/part-00000$/.test(rel);
    const files = await publishInto(store, 'teamb-publish', version, 'com.acme.geo', missing);
    const refused = await harness.command(`adopt geo ${version}`);
    expect(refused.reply).toMatch(/does not match what was published for com\.acme\.geo: com\.acme\.geo\.GeoSummary\.csv is 0 bytes, published \d+/);
    expect(refused.reply).toContain(version);
    expect(world.remoteLog()).toEqual(before);

    // Synced: the same adopt lands, one commit pinning the version.
    const rel = files.find(missing)!;
    const local = makeTempDir('smvbot-store-fixture-');
    try {
      writeVersion(local, version, modulesFor('com.acme.geo'));
      await store.put(`teamb-publish/${rel}`, fs.readFileSync(path.join(local, rel)));
    } finally {
      removeDir(local);
    }
    const landed = await harness.command(`adopt geo ${version}`);
    expect(landed.reply).toMatch(new RegExp(`adopted geo ${version.replaceAll('.', '\\.')} for client-model`));
    expect(world.remoteLog()).toHaveLength(before.length + 1);
    expect(world.remoteFile()).toMatch(new RegExp(`^smv\\.stages\\.geo\\.version\\s*=\\s*${version.replaceAll('.', '\\.')}$`, 'm'));
  }, 240_000);
});
