// smvbot.yml for connection consumers (SPEC §3): pinStyle, connections, connectionsPath,
// smvPublishDir, and every refusal listed in one message with the other problems.
import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { formatConfigProblems, loadConfig } from '../src/infra/config/index.ts';
import { smvReleaseOf } from '../src/domain/smvRelease.ts';

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

  it('lists an unknown stage and a shared connection in one message; a stage the consumer does not read needs no connection', async () => {
    const problems = problemsOf(
      await load('pinStyle: connection\nconnections: { geo: pdd, trial: pdd_trial, com.acme.cms: pdd, com.other.x: y }\nsmvPublishDir: /p', '[com.acme.geo, com.acme.cms, com.acme.score]'),
    );
    const message = formatConfigProblems(problems);
    expect(message).toContain('consumer modern-model: connections.trial: is not a known stage; known stages: com.acme.geo, com.acme.cms, com.acme.score');
    expect(message).toContain('consumer modern-model: connections.com.other.x: is not a known stage');
    expect(message).toContain('connection pdd is given to more than one stage (com.acme.geo, com.acme.cms)');
    expect(message).not.toContain('com.acme.score:');
    expect(problems).toHaveLength(3);
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
    expect(missing).toContain('consumers[0].connections: is required for connection pins');
    expect(missing).toContain('connection pins need `smvPublishDir`');

    const stray = formatConfigProblems(problemsOf(await load('connections: { geo: a, cms: b }\nsmvPublishDir: /p')));
    expect(stray).toContain('consumers[0].connections: only applies to connection pins (SMV v2r6 and later); SMV 2.1.1.3 pins stage versions');
    expect(stray).toContain('consumers[0].smvPublishDir: only applies to connection pins');

    const bad = formatConfigProblems(problemsOf(await load('pinStyle: connections')));
    expect(bad).toContain('consumers[0].pinStyle: must be one of "stageVersion", "connection"');
  });

  it('stops the bot at start-up with exit code 2 and the problems on stderr', async () => {
    await load('smvVersion: v2r4\nconnections: { geo: pdd_geo }\nsmvPublishDir: /p');
    const run = spawnSync(process.execPath, [path.join(PROJECT, 'node_modules/tsx/dist/cli.mjs'), path.join(PROJECT, 'src/main.ts')], {
      cwd: dir,
      env: { PATH: process.env.PATH ?? '', HOME: dir, ...env, SMVBOT_DATA_DIR: path.join(dir, 'data') },
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(run.status).toBe(2);
    expect(run.stderr).toContain('consumers[0].smvVersion: SMV v2r4 cannot be pinned: v2r2 to v2r5 removed stage versions (SMV commit 9fbb2ab5)');
  });
});

describe('smvVersion decides the pin kind, the files and the parser (SPEC §2 table)', () => {
  it('maps each SMV release to what it reads', () => {
    const rows: [string, string | null][] = [
      ['1.3.0-1', 'stage base java app,home,user'],
      ['1.3.0-2', 'stage base java app,home,user'],
      ['1.3.0-3', 'stage base-then-fqn java app,home,user'],
      ['1.5.2.8', 'stage base-then-fqn java app,home,user'],
      ['2.1.1.3', 'stage base-then-fqn java app,home,user'],
      ['2.2.0.0', 'stage base-then-fqn java app,home,user'],
      ['v2.3.0.0', 'stage base-then-fqn java app,home,user'],
      ['v2r0', 'stage base-then-fqn java app,home,user'],
      ['2r1', 'stage base-then-fqn java app,home,user'],
      ['v2r2', null],
      ['v2r5', null],
      ['v2r6', 'connection base-then-fqn jprops app,home,user'],
      ['v2r7', 'connection base-then-fqn jprops app,home,user'],
      ['v2r8', 'connection base-then-fqn jprops app,connections,home,user'],
      ['v2r11', 'connection base-then-fqn jprops app,connections,home,user'],
      ['v2r12', 'connection base-then-fqn jprops app,runtime,connections,home,user'],
      ['2.4r1', 'connection base-then-fqn jprops app,runtime,connections,home,user'],
      ['v2.4r1', 'connection base-then-fqn jprops app,runtime,connections,home,user'],
      ['3.0.0', null],
      ['latest', null],
    ];
    for (const [tag, expected] of rows) {
      const found = smvReleaseOf(tag);
      const shown = found.ok ? `${found.release.pins} ${found.release.stageKeys} ${found.release.dialect} ${found.release.layers.join(',')}` : null;
      expect(shown, tag).toBe(expected);
    }
  });

  it('defaults to 2.1.1.3 (stage pins), and pinStyle connection alone to 2.4r1', async () => {
    const plain = await load('confPath: conf/smv-user-conf.props');
    expect(plain.ok && plain.config.consumers[0]).toMatchObject({ smvVersion: '2.1.1.3' });
    const connection = await load('pinStyle: connection\nconnections: { geo: pdd_geo }\nsmvPublishDir: /p');
    expect(connection.ok && connection.config.consumers[0]).toMatchObject({ smvVersion: '2.4r1', pinStyle: 'connection', connectionsPath: 'conf/connections.props' });
  });

  it('pins connections from v2r6, into the user conf before v2r8 (SMV reads no connections.props there)', async () => {
    const v2r8 = await load('smvVersion: v2r8\nconnections: { geo: pdd_geo }\nsmvPublishDir: /p');
    expect(v2r8.ok && v2r8.config.consumers[0]).toMatchObject({ pinStyle: 'connection', connectionsPath: 'conf/connections.props' });
    const v2r6 = await load('smvVersion: v2r6\nconnections: { geo: pdd_geo }\nsmvPublishDir: /p');
    expect(v2r6.ok && v2r6.config.consumers[0]).toMatchObject({ pinStyle: 'connection', connectionsPath: 'conf/smv-user-conf.props' });
    const stage = await load('smvVersion: 2.2.0.0');
    expect(stage.ok && stage.config.consumers[0]).not.toHaveProperty('pinStyle');
  });

  it('lists every release problem in one message: unknown release, v2r2–v2r5, pinStyle that disagrees, a file the release never reads', async () => {
    const unknown = formatConfigProblems(problemsOf(await load('smvVersion: "3.0"')));
    expect(unknown).toContain('consumers[0].smvVersion: "3.0" is not a known SMV release');
    const gap = formatConfigProblems(problemsOf(await load('smvVersion: v2r3')));
    expect(gap).toContain('SMV v2r3 cannot be pinned: v2r2 to v2r5 removed stage versions (SMV commit 9fbb2ab5) and have no connections yet');
    expect(gap).toContain('Upgrade the consumer to v2r6 or later');
    const disagree = formatConfigProblems(problemsOf(await load('smvVersion: 2.1.1.3\npinStyle: connection\nconnections: { geo: a }\nsmvPublishDir: /p')));
    expect(disagree).toContain('consumers[0].pinStyle: is connection, but SMV 2.1.1.3 reads stage versions');
    const unread = formatConfigProblems(problemsOf(await load('smvVersion: v2r7\nconnectionsPath: conf/connections.props\nconnections: { geo: a }\nsmvPublishDir: /p')));
    expect(unread).toContain('consumers[0].connectionsPath: SMV v2r7 does not read "conf/connections.props"');
    expect(unread).toContain('(conf/connections.props is read from v2r8 on)');
  });
});
