// smvbot.yml for connection consumers (SPEC §3): pinStyle, connections, connectionsPath,
// smvPublishDir, and every refusal listed in one message with the other problems.
import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { formatConfigProblems, loadConfig } from '../src/infra/config.ts';

const PROJECT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const env = { SLACK_BOT_TOKEN: 'xoxb-1-2-abc', SLACK_SIGNING_SECRET: 'secret-0123456789', SMVBOT_CONFIG: 'smvbot.yml' };

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'smvbot-connconfig-'));
  await mkdir(path.join(dir, 'publish'));
  await mkdir(path.join(dir, 'team-c-publish'));
  await mkdir(path.join(dir, 'modern-model'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A topology with stages geo, cms (com.acme) and org.other.geo, and one consumer given by `consumer` (YAML lines). */
async function load(consumer: string, stages = '[com.acme.geo, com.acme.cms]') {
  await writeFile(
    path.join(dir, 'smvbot.yml'),
    `publishers:\n  - name: public-data\n    publishDir: publish\n    stages: ${stages}\n    channels: [C0ANNOUNCE]\n` +
      `consumers:\n  - name: modern-model\n    repo: modern-model\n${consumer.replace(/^/gm, '    ')}\n`,
  );
  return loadConfig({ env, cwd: dir });
}

function problemsOf(result: Awaited<ReturnType<typeof load>>): string[] {
  if (result.ok) throw new Error('expected configuration problems, got a valid config');
  return result.problems;
}

describe('connection consumers in smvbot.yml', () => {
  it('loads pinStyle connection with stages mapped by base name or FQN, defaults filled in', async () => {
    const result = await load('pinStyle: connection\nconnections: { geo: pdd_geo, com.acme.cms: pdd_cms }\nsmvPublishDir: hdfs:///data/team-c/publish');
    if (!result.ok) throw new Error(formatConfigProblems(result.problems));
    expect(result.config.consumers[0]).toMatchObject({
      pinStyle: 'connection',
      connectionsPath: 'conf/connections.props',
      connections: { 'com.acme.geo': 'pdd_geo', 'com.acme.cms': 'pdd_cms' },
      smvPublishDir: 'hdfs:///data/team-c/publish',
    });
  });

  it('uses publishDir as smvPublishDir when that is not given, and takes another connectionsPath', async () => {
    const result = await load('pinStyle: connection\nconnections: { geo: a, cms: b }\npublishDir: team-c-publish\nconnectionsPath: app/conf/connections.props');
    if (!result.ok) throw new Error(formatConfigProblems(result.problems));
    expect(result.config.consumers[0]).toMatchObject({ smvPublishDir: path.join(dir, 'team-c-publish'), connectionsPath: 'app/conf/connections.props' });
  });

  it('leaves stage-pin consumers as they were', async () => {
    const result = await load('confPath: conf/smv-user-conf.props');
    if (!result.ok) throw new Error(formatConfigProblems(result.problems));
    expect(result.config.consumers[0]).not.toHaveProperty('pinStyle');
    expect(result.config.consumers[0]).not.toHaveProperty('connections');
  });

  it('lists a stage with no connection, an unknown stage and a shared connection in one message', async () => {
    const problems = problemsOf(
      await load('pinStyle: connection\nconnections: { geo: pdd, trial: pdd_trial, com.acme.cms: pdd, com.other.x: y }\nsmvPublishDir: /p', '[com.acme.geo, com.acme.cms, com.acme.score]'),
    );
    const message = formatConfigProblems(problems);
    expect(message).toContain('consumer modern-model: connections.trial: is not a known stage; known stages: com.acme.geo, com.acme.cms, com.acme.score');
    expect(message).toContain('consumer modern-model: connections.com.other.x: is not a known stage');
    expect(message).toContain('connection pdd is given to more than one stage (com.acme.geo, com.acme.cms)');
    expect(message).toContain('no connection for stage com.acme.score');
    expect(problems).toHaveLength(4);
  });

  it('refuses an ambiguous base name, a stage mapped twice and a bad connection name', async () => {
    const ambiguous = formatConfigProblems(
      problemsOf(await load('pinStyle: connection\nconnections: { geo: a, com.acme.geo: b, org.other.geo: c, cms: d }\nsmvPublishDir: /p', '[com.acme.geo, org.other.geo, com.acme.cms]')),
    );
    expect(ambiguous).toContain('connections.geo: is the base name of several stages (com.acme.geo, org.other.geo); use their FQNs as keys instead');

    const twice = formatConfigProblems(problemsOf(await load('pinStyle: connection\nconnections: { geo: a, com.acme.geo: b, cms: c }\nsmvPublishDir: /p')));
    expect(twice).toContain('connections.com.acme.geo: stage com.acme.geo is already mapped (as geo); give each stage one entry');

    const badName = formatConfigProblems(problemsOf(await load('pinStyle: connection\nconnections: { geo: "bad name", cms: b }\nsmvPublishDir: /p')));
    expect(badName).toContain('"bad name" is not a usable SMV connection name');
  });

  it('refuses pinStyle connection without connections or a publish dir, and connection keys without pinStyle', async () => {
    const missing = formatConfigProblems(problemsOf(await load('pinStyle: connection')));
    expect(missing).toContain('consumers[0].connections: is required with pinStyle connection');
    expect(missing).toContain('pinStyle connection needs `smvPublishDir`');

    const stray = formatConfigProblems(problemsOf(await load('connections: { geo: a, cms: b }\nsmvPublishDir: /p')));
    expect(stray).toContain('consumers[0].connections: only applies to connection pins: add `pinStyle: connection`');
    expect(stray).toContain('consumers[0].smvPublishDir: only applies to connection pins');

    const bad = formatConfigProblems(problemsOf(await load('pinStyle: connections')));
    expect(bad).toContain('consumers[0].pinStyle: must be one of "stageVersion", "connection"');
  });

  it('stops the bot at start-up with exit code 2 and the problems on stderr', async () => {
    await load('pinStyle: connection\nconnections: { geo: pdd_geo }\nsmvPublishDir: /p');
    const run = spawnSync(process.execPath, [path.join(PROJECT, 'node_modules/tsx/dist/cli.mjs'), path.join(PROJECT, 'src/main.ts')], {
      cwd: dir,
      env: { PATH: process.env.PATH ?? '', HOME: dir, ...env, SMVBOT_DATA_DIR: path.join(dir, 'data') },
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(run.status).toBe(2);
    expect(run.stderr).toContain('no connection for stage com.acme.cms');
  });
});
