// A publish dir on a store that cannot be listed (issue 27, "Cost"): the bot keeps every version it
// knew, and /healthz names the publish dir with the store's cause — here an S3 bucket that does
// not exist (moto's server) and an S3 endpoint that accepts and never answers (a timeout).
import fs from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { MOTO_CREDENTIALS, MOTO_REGION, startMoto, type Moto } from '../dev/world/moto.ts';
import { BotUnderTest, World, removeSeededRemotes } from './support/botHarness.ts';
import { startBlackHole, type BlackHole } from './support/remotes.ts';

const savedEnv = { ...process.env };
const cleanups: (() => Promise<void> | void)[] = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
  removeSeededRemotes();
  process.env = savedEnv;
});

/** A world whose publisher's publishDir is `url`. */
function worldOn(url: string): World {
  const world = new World();
  cleanups.push(() => world.cleanup());
  const config = parse(fs.readFileSync(world.configPath, 'utf8')) as { publishers: { publishDir: string }[] };
  config.publishers[0]!.publishDir = url;
  fs.writeFileSync(world.configPath, stringify(config));
  return world;
}

async function problemsOf(harness: BotUnderTest): Promise<{ kind: string; cause?: string; detail: string }[]> {
  const health = await harness.healthz();
  return health.body.problems as { kind: string; cause?: string; detail: string }[];
}

describe('a publish dir on a store that cannot be listed', () => {
  it('a missing S3 bucket: /healthz says publish-dir with cause not-found, and no secret', async () => {
    const moto: Moto = await startMoto();
    cleanups.push(() => moto.stop());
    process.env.AWS_ACCESS_KEY_ID = MOTO_CREDENTIALS.accessKeyId;
    process.env.AWS_SECRET_ACCESS_KEY = 'a-secret-key-0123456789-abcdefghijk';
    const harness = await BotUnderTest.start(worldOn('s3://no-such-bucket/publish'), undefined, { env: { AWS_ENDPOINT_URL_S3: moto.endpoint, AWS_REGION: MOTO_REGION } });
    cleanups.push(() => harness.stop());
    const problems = await problemsOf(harness);
    const problem = problems.find((p) => p.kind === 'publish-dir');
    expect(problem).toMatchObject({ kind: 'publish-dir', cause: 'not-found' });
    expect(problem!.detail).toMatch(/^public-data: publishDir s3:\/\/no-such-bucket\/publish does not exist \(yet\)/);
    expect(JSON.stringify(problems)).not.toContain('a-secret-key-0123456789');
  });

  it('an S3 endpoint that never answers: the scan ends (no hang) and /healthz says cause timeout', async () => {
    const hole: BlackHole = await startBlackHole();
    cleanups.push(() => hole.stop());
    process.env.AWS_ACCESS_KEY_ID = MOTO_CREDENTIALS.accessKeyId;
    process.env.AWS_SECRET_ACCESS_KEY = MOTO_CREDENTIALS.secretAccessKey;
    const harness = await BotUnderTest.start(worldOn('s3://smv-data/publish'), undefined, {
      env: { AWS_ENDPOINT_URL_S3: `http://127.0.0.1:${hole.port}`, AWS_REGION: MOTO_REGION, SMVBOT_STORE_TIMEOUT_SECONDS: '1' },
    });
    cleanups.push(() => harness.stop());
    const problem = (await problemsOf(harness)).find((p) => p.kind === 'publish-dir');
    expect(problem).toMatchObject({ kind: 'publish-dir', cause: 'timeout' });
    expect(hole.accepted).toBeGreaterThan(0);
  });
});
