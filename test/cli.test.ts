// `npx smvbot pins|adopt|unpin … --dir <checkout>` (SPEC §7) as a user runs it: the CLI compiled as
// `npm run build` compiles it (into a folder of the test's own, so no other test's dist/ is touched),
// a real smvbot.yml, a checkout on disk; what it prints, its exit code and the files after.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const PROJECT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const USER = 'conf/smv-user-conf.props';
const APP = 'conf/smv-app-conf.props';
const CONN = 'conf/connections.props';

let root: string;
let cli: string;
let built: string;

beforeAll(() => {
  root = mkdtempSync(path.join(os.tmpdir(), 'smvbot-cli-'));
  // Inside the project, so the compiled files find its node_modules as dist/ does.
  mkdirSync(path.join(PROJECT, 'node_modules/.cache'), { recursive: true });
  built = mkdtempSync(path.join(PROJECT, 'node_modules/.cache/smvbot-cli-test-'));
  const outDir = path.join(built, 'dist');
  execFileSync(process.execPath, [path.join(PROJECT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json', '--outDir', outDir, '--tsBuildInfoFile', path.join(root, 'tsbuildinfo')], {
    cwd: PROJECT,
    stdio: 'inherit',
    timeout: 150_000,
  });
  // `npx smvbot` runs the package's bin: dist/cli.js, which the build makes from src/cli.ts.
  const bin = (JSON.parse(readFileSync(path.join(PROJECT, 'package.json'), 'utf8')) as { bin: Record<string, string> }).bin.smvbot!;
  cli = path.join(outDir, path.relative('dist', bin));
  for (const dir of ['publish', 'repo-b', 'repo-c']) mkdirSync(path.join(root, dir));
  writeFileSync(
    path.join(root, 'smvbot.yml'),
    [
      'publishers:',
      '  - { name: public-data, publishDir: publish, stages: [com.acme.geo, com.acme.cms], channels: [C0ANNOUNCE] }',
      'consumers:',
      '  - { name: client-model, repo: repo-b, smvVersion: 2.1.1.3 }',
      '  - { name: modern-model, repo: repo-c, smvVersion: 2.4r1, connections: { geo: pdd_geo }, smvPublishDir: "hdfs:///pub" }',
      '',
    ].join('\n'),
  );
}, 180_000);

afterAll(() => {
  if (root) rmSync(root, { recursive: true, force: true });
  if (built) rmSync(built, { recursive: true, force: true });
});

function checkout(files: Record<string, string>): string {
  const dir = mkdtempSync(path.join(root, 'checkout-'));
  for (const [file, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
    writeFileSync(path.join(dir, file), text);
  }
  return dir;
}

function smvbot(...args: string[]) {
  const run = spawnSync(process.execPath, [cli, ...args], {
    cwd: PROJECT,
    env: { PATH: process.env.PATH ?? '', HOME: root, SMVBOT_CONFIG: path.join(root, 'smvbot.yml') },
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

describe('npx smvbot on a local checkout', () => {
  it('pins --json: what SMV of the consumer reads, per stage', () => {
    const dir = checkout({ [APP]: 'smv.stages = com.acme.geo\n', [USER]: 'smv.stages.geo.version = TCD.1\nsmv.stages.cms.version = TCD.2\n' });
    const run = smvbot('pins', 'client-model', '--dir', dir, '--json');
    expect(run.status).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual([
      { stage: 'cms', version: null, file: null, key: null },
      { stage: 'geo', version: 'TCD.1', file: USER, key: 'smv.stages.geo.version' },
    ]);
  });

  it('adopt edits the file as the bot would commit it, and says what SMV reads now', () => {
    const user = '# pins\r\nsmv.stages.geo.version = TCD.1\r\nspark.x = 1\r\n';
    const dir = checkout({ [APP]: 'smv.stages = com.acme.geo\n', [USER]: user });
    const run = smvbot('adopt', 'client-model', 'geo', 'TCD.20160802.geo', '--dir', dir, '--json');
    expect(run.status).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual({ changed: true, file: USER, previous: 'TCD.1', effective: 'TCD.20160802.geo' });
    expect(readFileSync(path.join(dir, USER), 'utf8')).toBe(user.replace('TCD.1', 'TCD.20160802.geo'));
  });

  it('refuses with exit code 1 and changes nothing: a stage SMV does not list, a bad version', () => {
    const dir = checkout({ [APP]: 'smv.stages = com.acme.cms\n', [USER]: 'a = 1\n' });
    const run = smvbot('adopt', 'client-model', 'geo', 'TCD.2', '--dir', dir, '--json');
    expect(run.status).toBe(1);
    expect(JSON.parse(run.stdout).refused).toContain('`smv.stages = com.acme.cms, com.acme.geo`');
    const bad = smvbot('adopt', 'client-model', 'cms', '../x', '--dir', dir);
    expect(bad.status).toBe(1);
    expect(bad.stdout).toContain('Refused: Version');
    expect(readFileSync(path.join(dir, USER), 'utf8')).toBe('a = 1\n');
  });

  it('adopts and unpins a connection consumer with Python SMV rules, naming ~/.smv once', () => {
    const dir = checkout({ [CONN]: 'smv.conn.pdd_geo.type = hdfs\n# old data in C:\\data\\\n' });
    const adopt = smvbot('adopt', 'modern-model', 'geo', 'V2', '--dir', dir);
    expect(adopt.status).toBe(0);
    expect(adopt.stdout).toContain(`Edited ${CONN}: pinned geo to V2`);
    expect(adopt.stdout.match(/~\/\.smv\/smv-user-conf\.props/g)).toHaveLength(1);
    expect(readFileSync(path.join(dir, CONN), 'utf8')).toBe('smv.conn.pdd_geo.type = hdfs\nsmv.conn.pdd_geo.path = hdfs:///pub/V2\n# old data in C:\\data\\\n');
    const unpin = smvbot('unpin', 'modern-model', 'geo', '--dir', dir, '--json');
    expect(JSON.parse(unpin.stdout)).toEqual({ changed: true, file: CONN, previous: 'V2', effective: null });
  });

  it('says how to call it when the words are off (exit code 2)', () => {
    const run = smvbot('adopt', 'client-model');
    expect(run.status).toBe(2);
    expect(run.stderr).toContain('smvbot adopt <consumer> <stage> <version> --dir <checkout>');
  });
});
