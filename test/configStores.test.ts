// publishDir on HDFS and S3 (SPEC §3/§4, issue 27): URLs are accepted by shape (a NameNode may be
// down at start-up: that shows in /healthz), credentials in them are refused without echoing them,
// and a connection consumer on S3 must say how SMV names its publish dir.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { formatConfigProblems, loadConfig } from '../src/infra/config/index.ts';

const env = { SLACK_BOT_TOKEN: 'xoxb-1111-2222-SeCrEtBoTtOkEn', SLACK_SIGNING_SECRET: '8f742231b10e8888abcd99yyyzzz85a5', SMVBOT_CONFIG: 'smvbot.yml' };
let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'smvbot-config-stores-'));
  await mkdir(path.join(dir, 'repo'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function load(publishDir: string, consumer: Record<string, string> = {}, extraEnv: Record<string, string> = {}) {
  const extra = Object.entries(consumer).map(([k, v]) => `    ${k}: ${v.startsWith('{') ? v : JSON.stringify(v)}`).join('\n');
  await writeFile(
    path.join(dir, 'smvbot.yml'),
    `publishers:\n  - name: public-data\n    publishDir: ${JSON.stringify(publishDir)}\n    stages: [com.acme.geo]\n    channels: [C0ANNOUNCE]\n` +
      `consumers:\n  - name: client-model\n    repo: repo\n${extra}\n`,
  );
  return loadConfig({ env: { ...env, ...extraEnv }, cwd: dir });
}

describe('publishDir on a remote store', () => {
  it.each([
    ['webhdfs://nn1:9870,nn2:9870/applications/shareddata/', 'webhdfs://nn1:9870,nn2:9870/applications/shareddata'],
    ['swebhdfs://nn1/data', 'swebhdfs://nn1:9871/data'],
    ['s3://smv-data/team-a/publish/', 's3://smv-data/team-a/publish'],
    ['s3://smv-data', 's3://smv-data'],
  ])('accepts %s (as %s) without touching the network', async (given, canonical) => {
    const loaded = await load(given);
    if (!loaded.ok) throw new Error(formatConfigProblems(loaded.problems));
    expect(loaded.config.publishers[0]!.publishDir).toBe(canonical);
  });

  it.each([
    ['hdfs:///applications/shareddata', /uses hdfs:\/\/, which the bot cannot read \(read HDFS over WebHDFS: webhdfs:\/\/namenode:9870\/path\)/],
    ['s3a://bucket/prefix', /uses s3a:\/\/.*write it s3:\/\/bucket\/prefix/],
    ['s3://Bad_Bucket/x', /bucket/],
  ])('refuses %s, saying what to write', async (given, message) => {
    const loaded = await load(given);
    expect(loaded.ok).toBe(false);
    if (!loaded.ok) expect(formatConfigProblems(loaded.problems)).toMatch(message);
  });

  it('refuses credentials in the URL without repeating them', async () => {
    const hdfs = await load('webhdfs://alice:hunter22-secret@nn1:9870/data');
    const s3 = await load('s3://AKIAXXXX:wJalrXUtnFEMIsecret@bucket/data');
    for (const loaded of [hdfs, s3]) {
      expect(loaded.ok).toBe(false);
      if (loaded.ok) continue;
      const text = formatConfigProblems(loaded.problems);
      expect(text).toMatch(/credentials|user info|user or/);
      expect(text).not.toContain('hunter22');
      expect(text).not.toContain('wJalrXUtnFEMIsecret');
    }
  });

  it('a connection consumer on S3 must give smvPublishDir; on WebHDFS it defaults to hdfs://<path>', async () => {
    const connection = { smvVersion: '2.4r1', connections: '{ geo: pdd_geo }' };
    const onS3 = await load('s3://smv-data/pub', { ...connection, publishDir: 's3://smv-data/teamc' });
    expect(onS3.ok).toBe(false);
    if (!onS3.ok) expect(formatConfigProblems(onS3.problems)).toMatch(/smvPublishDir.*is required when publishDir is on S3/);
    const onHdfs = await load('webhdfs://nn1:9870/pub', { ...connection, publishDir: 'webhdfs://nn1:9870/data/teamc' });
    if (!onHdfs.ok) throw new Error(formatConfigProblems(onHdfs.problems));
    expect(onHdfs.config.consumers[0]!.smvPublishDir).toBe('hdfs:///data/teamc');
  });

  it('reads the store settings from the environment: timeout, HDFS user and token, S3 endpoint; a bad timeout is a problem', async () => {
    const loaded = await load('s3://smv-data/pub', {}, { SMVBOT_STORE_TIMEOUT_SECONDS: '5', SMVBOT_HDFS_USER: 'smvbot', SMVBOT_HDFS_DELEGATION_TOKEN: 'tok-123456789', AWS_ENDPOINT_URL_S3: 'http://127.0.0.1:9000' });
    if (!loaded.ok) throw new Error(formatConfigProblems(loaded.problems));
    expect(loaded.config.store).toMatchObject({ timeoutSeconds: 5, hdfs: { user: 'smvbot', delegationToken: 'tok-123456789' }, s3: { endpoint: 'http://127.0.0.1:9000' } });
    expect(loaded.config.store.secrets).toContain('tok-123456789');
    const bad = await load('s3://smv-data/pub', {}, { SMVBOT_STORE_TIMEOUT_SECONDS: 'soon' });
    expect(bad.ok).toBe(false);
    if (!bad.ok) expect(formatConfigProblems(bad.problems)).toMatch(/SMVBOT_STORE_TIMEOUT_SECONDS must be a number of seconds/);
  });
});
