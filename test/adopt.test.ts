// SPEC §5 end to end: AdoptService over a real bare git remote, real publish trees and the real
// state store. Every assertion is about what a person sees: the remote's files and history, the
// refusal text, the audit log.
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { AdoptOutcome, UnpinOutcome } from '../src/core/adopt.ts';
import { slackAuthor } from '../src/core/pinPlan.ts';
import { resolveAdoptTarget } from '../src/slack/commandResolver.ts';
import { refusalText } from '../src/slack/render/refusals.ts';
import { exportState } from './support/stateDump.ts';
import { writeVersionFile } from '../dev/world/publishFixtures.ts';
import {
  ADMIN,
  ADOPTER,
  APP_CONF_PATH,
  DEFAULT_APP_CONF,
  DEFAULT_USER_CONF,
  STRANGER,
  TEST_COMMITTER,
  USER_CONF_PATH,
  createGitWorld,
  failGitCommand,
  interceptPush,
  type GitWorld,
  type GitWorldOptions,
} from './support/gitWorld.ts';

const worlds: GitWorld[] = [];
afterEach(async () => {
  await Promise.all(worlds.splice(0).map((w) => w.cleanup()));
});

async function world(options: GitWorldOptions = {}): Promise<GitWorld> {
  const w = await createGitWorld(options);
  worlds.push(w);
  return w;
}

function adopt(w: GitWorld, stage: string, version: string, userId: string = ADOPTER.id): Promise<AdoptOutcome> {
  return w.adoptAs({ stage, version, userId });
}

function unpin(w: GitWorld, stage: string, userId: string = ADOPTER.id): Promise<UnpinOutcome> {
  return w.unpinAs({ stage, userId });
}

/** Narrows an outcome to a refusal (fails the test with the outcome otherwise). */
function refusalOf(outcome: AdoptOutcome | UnpinOutcome): { ok: false; code: string; message: string } {
  if (outcome.ok) throw new Error(`expected a refusal, got ${JSON.stringify({ status: outcome.status })}`);
  return { ok: false, code: outcome.code, message: refusalText(outcome) };
}

function adopted(outcome: AdoptOutcome): Extract<AdoptOutcome, { status: 'adopted' }> {
  if (!outcome.ok || outcome.status !== 'adopted') throw new Error(`expected an adoption, got ${JSON.stringify(outcome)}`);
  return outcome;
}

/** `git diff --numstat` of one file between two remote commits: [added, removed]. */
function numstat(w: GitWorld, from: string, to: string, file = USER_CONF_PATH): [number, number] {
  const line = w.remoteGit(['diff', '--numstat', from, to, '--', file]).trim();
  const [added, removed] = line.split('\t');
  return [Number(added), Number(removed)];
}

/** The git subcommands the bot ran since the last call, in order (then forgets them). */
function gitCommandsSinceLast(w: GitWorld): string[] {
  return w.botGitCalls.splice(0).map((args) => args[0]!);
}

/** Snapshot of everything a remote holds that a failed adopt must not change. */
function remoteSnapshot(w: GitWorld) {
  return { refs: w.remoteRefs(), userConf: w.remoteFile(USER_CONF_PATH) };
}

/** A teammate pins cms by hand on the remote (a commit the bot has not fetched). */
function pinCmsByHand(w: GitWorld, version: string): string {
  const current = w.remoteFile(USER_CONF_PATH)!;
  const edited = current.replace(/^smv\.stages\.cms\.version = .*$/m, `smv.stages.cms.version = ${version}`);
  return w.commitToRemote({ [USER_CONF_PATH]: edited }, `Pin cms ${version} by hand\n`);
}

describe('adopt: the pin edit lands on the remote branch', () => {
  it('replaces an existing pin, changing exactly that one line', async () => {
    const w = await world();
    const before = w.remoteHead()!;

    const outcome = adopted(await adopt(w, 'geo', 'TCD.20160802.geo'));

    expect(outcome).toMatchObject({ version: 'TCD.20160802.geo', previous: 'TCD.20160701.geo', mode: 'push' });
    expect(outcome.stage.fqn).toBe('com.acme.geo');
    const head = w.remoteHead()!;
    expect(outcome.commit).toBe(head);
    expect(numstat(w, before, head)).toEqual([1, 1]);
    expect(w.remoteFile(USER_CONF_PATH)).toBe(
      DEFAULT_USER_CONF.replace('smv.stages.geo.version = TCD.20160701.geo', 'smv.stages.geo.version = TCD.20160802.geo'),
    );
    // Nothing else in the commit: only the user conf changed.
    expect(w.remoteGit(['diff', '--name-only', before, head]).trim()).toBe(USER_CONF_PATH);
    expect(w.remoteLog().map((c) => c.parents)).toEqual([[before], []]);
  });

  it('appends a pin the user conf does not have yet, on a new last line', async () => {
    const w = await world();
    const before = w.remoteHead()!;

    const outcome = adopted(await adopt(w, 'trial', 'TCD.20160802.trial'));

    expect(outcome.previous).toBeNull();
    expect(w.remoteFile(USER_CONF_PATH)).toBe(DEFAULT_USER_CONF + 'smv.stages.trial.version = TCD.20160802.trial\n');
    expect(numstat(w, before, w.remoteHead()!)).toEqual([1, 0]);
  });

  it('creates the user conf when the repo has none (and does not ignore it)', async () => {
    const w = await world({ repoFiles: { [APP_CONF_PATH]: DEFAULT_APP_CONF, 'README.md': '# client-model\n' } });

    const outcome = adopted(await adopt(w, 'geo', 'TCD.20160802.geo'));

    expect(outcome.previous).toBeNull();
    expect(w.remoteFile(USER_CONF_PATH)).toBe('smv.stages.geo.version = TCD.20160802.geo\n');
    expect(w.remoteFile(APP_CONF_PATH)).toBe(DEFAULT_APP_CONF);
    expect(w.remoteLog()[0]!.message).toContain('Previous: none\n');
  });

  it('answers already-pinned and commits nothing when the pin is already effective', async () => {
    const w = await world();
    const before = remoteSnapshot(w);

    const outcome = await adopt(w, 'geo', 'TCD.20160701.geo');

    expect(outcome).toMatchObject({ ok: true, status: 'already-pinned', version: 'TCD.20160701.geo' });
    expect(outcome.ok && outcome.status === 'already-pinned' && outcome.pin).toEqual({
      version: 'TCD.20160701.geo',
      key: 'smv.stages.geo.version',
      source: 'user',
    });
    expect(remoteSnapshot(w)).toEqual(before);
    expect(w.remoteLog()).toHaveLength(1);
    expect(await w.state.adoptions()).toEqual([]);
  });

  it('keeps a CRLF file CRLF on every line, when replacing and when appending', async () => {
    const crlf = DEFAULT_USER_CONF.replace(/\n/g, '\r\n');
    const w = await world({ repoFiles: { [USER_CONF_PATH]: crlf, [APP_CONF_PATH]: DEFAULT_APP_CONF } });

    adopted(await adopt(w, 'geo', 'TCD.20160802.geo'));
    adopted(await adopt(w, 'trial', 'TCD.20160802.trial'));

    const text = w.remoteFile(USER_CONF_PATH)!;
    expect(text).toBe(
      crlf.replace('TCD.20160701.geo', 'TCD.20160802.geo') + 'smv.stages.trial.version = TCD.20160802.trial\r\n',
    );
    const lines = text.split('\n');
    expect(lines.pop()).toBe('');
    for (const line of lines) expect(line.endsWith('\r')).toBe(true);
  });

  it('keeps bytes that are not UTF-8 (Java reads props files as ISO-8859-1)', async () => {
    const latin1 = Buffer.from(`# \xC9quipe B \xB7 r\xE9glages locaux\n${DEFAULT_USER_CONF}`, 'latin1');
    const w = await world({ repoFiles: { [USER_CONF_PATH]: latin1, [APP_CONF_PATH]: DEFAULT_APP_CONF } });

    adopted(await adopt(w, 'geo', 'TCD.20160802.geo'));

    const expected = Buffer.from(latin1.toString('latin1').replace('TCD.20160701.geo', 'TCD.20160802.geo'), 'latin1');
    expect(w.remoteFileBytes(USER_CONF_PATH)!.equals(expected)).toBe(true);
  });

  it('refuses a file that is not UTF-8 for a Python SMV consumer (SMV itself would stop on it), changing nothing', async () => {
    const latin1 = Buffer.from('# \xC9quipe C\nsmv.conn.pdd_geo.type = hdfs\n', 'latin1');
    const w = await world({
      consumer: { smvVersion: '2.4r1', connections: { 'com.acme.geo': 'pdd_geo' }, smvPublishDir: 'hdfs:///pub' },
      repoFiles: { 'conf/connections.props': latin1, [APP_CONF_PATH]: DEFAULT_APP_CONF },
    });
    const before = w.remoteHead();
    const refused = refusalOf(await adopt(w, 'geo', 'TCD.20160802.geo'));
    expect(refused.code).toBe('unsafe-repo-file');
    expect(refused.message).toContain('`conf/connections.props` in the consumer repo is not valid UTF-8, and Python SMV reads props files in the locale');
    expect(w.remoteHead()).toBe(before);
    expect(w.remoteFileBytes('conf/connections.props')!.equals(latin1)).toBe(true);
  });

  it('writes the commit as the Slack user, committed by the configured identity, with the exact message', async () => {
    const w = await world();

    const outcome = adopted(await adopt(w, 'geo', 'TCD.20160802.geo'));

    const [commit] = w.remoteLog();
    expect(commit!.sha).toBe(outcome.commit);
    expect(commit!.message).toBe(
      'Adopt geo TCD.20160802.geo for client-model\n' +
        '\n' +
        'Previous: TCD.20160701.geo\n' +
        'Adopted-by: Ada Lovelace (U0ADOPTER)\n',
    );
    expect(commit!.author).toEqual({ name: 'Ada Lovelace', email: 'U0ADOPTER@users.slack.invalid' });
    expect(commit!.committer).toEqual(TEST_COMMITTER);
  });

  it('records the adoption in the state store (audit log), persisted to the state file', async () => {
    const w = await world();

    const outcome = adopted(await adopt(w, 'geo', 'TCD.20160802.geo'));

    const expected = {
      action: 'adopt',
      consumer: 'client-model',
      stage: 'com.acme.geo',
      from: 'TCD.20160701.geo',
      to: 'TCD.20160802.geo',
      commit: outcome.commit,
      mode: 'push',
      user: { id: ADOPTER.id, name: ADOPTER.name },
    };
    expect(await w.state.adoptions()).toEqual([expect.objectContaining(expected)]);
    expect(outcome.record).toEqual((await w.state.adoptions())[0]);
    await w.state.close();
    // What a restart reads: the SQLite file itself.
    expect(exportState(w.dataDir).adoptions).toEqual([expect.objectContaining({ ...expected, state: 'landed' })]);
  });

  it('resolves `latest` to the newest complete version, skipping a newer one still being written', async () => {
    const w = await world();
    await w.publish({
      version: 'TCD.20160903.geo',
      modules: [{ fqn: 'com.acme.geo.ZipMaster', incomplete: 'no-success' }],
      mtime: new Date('2016-09-03T12:00:00Z'),
    });

    const outcome = adopted(await adopt(w, 'geo', 'latest'));

    expect(outcome.version).toBe('TCD.20160802.geo');
    expect(w.remoteFile(USER_CONF_PATH)).toContain('smv.stages.geo.version = TCD.20160802.geo\n');
  });
});

describe('adopt: a durable command resumed after its worker died', () => {
  it('a pin its dead worker pushed (intent left unsettled) is this command\'s: answered "adopted" with that commit and settled landed, not "already pinned"', async () => {
    let killAfterPush = true;
    const w = await world({
      wrapRepo: (repo) => ({
        resetToRemote: () => repo.resetToRemote(),
        readFile: (relPath) => repo.readFile(relPath),
        isIgnored: (relPath) => repo.isIgnored(relPath),
        commitFile: (relPath, text, commit) => repo.commitFile(relPath, text, commit),
        // The worker dies right after the remote took its push: nothing settled, nothing answered.
        push: async (target, opts) => {
          const pushed = await repo.push(target, opts);
          if (killAfterPush) {
            killAfterPush = false;
            throw new Error('worker killed after its push');
          }
          return pushed;
        },
        containsCommit: (target, commit) => repo.containsCommit(target, commit),
        readRemoteFiles: (relPaths) => repo.readRemoteFiles(relPaths),
      }),
    });
    const receivedAt = new Date(Date.now() - 1000).toISOString();
    await expect(adopt(w, 'geo', 'TCD.20160802.geo')).rejects.toThrow('worker killed after its push');
    const pushed = w.remoteHead()!;
    expect(await w.state.unsettledAdoptions()).toHaveLength(1);

    const target = resolveAdoptTarget(w.topology, 'geo', w.consumer.name, undefined);
    if (!target.ok) throw new Error('geo does not resolve');
    const actor = { id: ADOPTER.id, name: ADOPTER.name };
    const resumed = adopted(await w.adopt.adopt({ consumer: target.consumer, stage: target.stage, version: 'TCD.20160802.geo', actor, resumedSince: receivedAt }));
    expect(resumed.commit).toBe(pushed);
    expect(resumed.previous).toBe('TCD.20160701.geo');
    expect(w.remoteHead()).toBe(pushed);
    expect(await w.state.unsettledAdoptions()).toEqual([]);
    expect((await w.state.adoptions({})).map((a) => [a.to, a.commit])).toEqual([['TCD.20160802.geo', pushed]]);

    // Resumed once more after that landing was settled (and told): its own landing, said as such, nothing new.
    const settled = await w.adopt.adopt({ consumer: target.consumer, stage: target.stage, version: 'TCD.20160802.geo', actor, resumedSince: receivedAt });
    expect(settled).toMatchObject({ ok: true, status: 'already-pinned', landedBefore: { commit: pushed, to: 'TCD.20160802.geo', from: 'TCD.20160701.geo' } });
    // Asked again later (a new command, or a resumed one received after that landing): already pinned, as ever.
    const again = await w.adopt.adopt({ consumer: target.consumer, stage: target.stage, version: 'TCD.20160802.geo', actor, resumedSince: new Date().toISOString() });
    expect(again).toMatchObject({ ok: true, status: 'already-pinned' });
    expect(again).not.toHaveProperty('landedBefore');
    expect(w.remoteHead()).toBe(pushed);
    expect(await adopt(w, 'geo', 'TCD.20160802.geo')).toMatchObject({ ok: true, status: 'already-pinned' });
  });
});

describe('adopt: who may adopt', () => {
  it('refuses a user who is neither an adopter nor an admin, and writes nothing', async () => {
    const w = await world();
    const before = remoteSnapshot(w);

    const refusal = refusalOf(await adopt(w, 'geo', 'TCD.20160802.geo', STRANGER.id));

    expect(refusal.code).toBe('not-authorised');
    expect(refusal.message).toBe(
      'You are not allowed to change pins for `client-model`. Ask <@U0ADOPTER>, <@U0ADMIN> to run it, or ' +
        'ask an admin to add your Slack user id (U0STRANGER) to `adopters` of `client-model` in smvbot.yml.',
    );
    expect(remoteSnapshot(w)).toEqual(before);
    expect(fs.existsSync(w.cloneDir)).toBe(false);
    expect(await w.state.adoptions()).toEqual([]);
  });

  it('tells a refused user to ask an admin when nobody else may adopt', async () => {
    const w = await world({ admins: [], consumer: { adopters: [] } });

    const refusal = refusalOf(await adopt(w, 'geo', 'TCD.20160802.geo', STRANGER.id));

    expect(refusal.message).toBe(
      'You are not allowed to change pins for `client-model`. Ask an admin to add your Slack user id (U0STRANGER) to `adopters` of `client-model` in smvbot.yml.',
    );
  });

  it('lets anyone adopt when adopters is "*"', async () => {
    const w = await world({ consumer: { adopters: ['*'] } });

    const outcome = adopted(await adopt(w, 'geo', 'TCD.20160802.geo', STRANGER.id));

    expect(w.remoteLog()[0]!.author.name).toBe(STRANGER.name);
    expect(outcome.record.user).toEqual({ id: STRANGER.id, name: STRANGER.name });
  });

  it('lets an admin adopt for a consumer whose adopters do not list them', async () => {
    const w = await world();

    adopted(await adopt(w, 'geo', 'TCD.20160802.geo', ADMIN.id));

    expect(w.remoteLog()[0]!.message).toContain('Adopted-by: Grace Hopper (U0ADMIN)\n');
  });
});

describe('adopt: only complete, existing, synced versions', () => {
  it('refuses a version that was never published, listing the newest ones', async () => {
    const w = await world();
    const before = remoteSnapshot(w);

    const refusal = refusalOf(await adopt(w, 'geo', 'TCD.20160999.geo'));

    expect(refusal.code).toBe('unknown-version');
    expect(refusal.message).toBe(
      'There is no published version "TCD.20160999.geo" for com.acme.geo. Newest complete versions of com.acme.geo: ' +
        'TCD.20160802.geo, TCD.20160701.geo. See `/smv releases com.acme.geo` for more.',
    );
    expect(remoteSnapshot(w)).toEqual(before);
  });

  it('refuses a version of another stage', async () => {
    const w = await world();

    const refusal = refusalOf(await adopt(w, 'geo', 'TCD.20160802.cms'));

    expect(refusal.code).toBe('version-lacks-stage');
    expect(refusal.message).toContain('Version TCD.20160802.cms holds com.acme.cms only, not com.acme.geo.');
  });

  it('refuses a version whose csv has no _SUCCESS yet', async () => {
    const w = await world();
    await w.publish({ version: 'TCD.20160903.geo', modules: [{ fqn: 'com.acme.geo.ZipMaster', incomplete: 'no-success' }] });
    const before = remoteSnapshot(w);

    const refusal = refusalOf(await adopt(w, 'geo', 'TCD.20160903.geo'));

    expect(refusal.code).toBe('version-incomplete');
    expect(refusal.message).toContain('Version TCD.20160903.geo is not complete yet: com.acme.geo.ZipMaster.csv has no _SUCCESS yet.');
    expect(refusal.message).toContain('Wait for the publish to finish');
    expect(remoteSnapshot(w)).toEqual(before);
  });

  it('refuses a name that is not a version directory name', async () => {
    const w = await world();

    const refusal = refusalOf(await adopt(w, 'geo', '../TCD.20160802.geo'));

    expect(refusal.code).toBe('invalid-version');
    expect(refusal.message).toContain('contains a path separator');
  });

  it('refuses a version missing from the consumer publish dir, saying how to sync it', async () => {
    const w = await world({ consumerPublishDir: true });
    fs.rmSync(path.join(w.consumerPublishDir!, 'TCD.20160802.geo'), { recursive: true });
    const before = remoteSnapshot(w);

    const refusal = refusalOf(await adopt(w, 'geo', 'TCD.20160802.geo'));

    expect(refusal.code).toBe('not-synced');
    expect(refusal.message).toBe(
      `Version TCD.20160802.geo is not in the consumer's publish dir ${w.consumerPublishDir} yet. ` +
        `Sync it, e.g. \`rsync -a ${w.publishDir}/TCD.20160802.geo/ ${w.consumerPublishDir}/TCD.20160802.geo/\`, then try again.`,
    );
    expect(remoteSnapshot(w)).toEqual(before);
  });

  it('refuses a synced copy whose file sizes differ, naming the file', async () => {
    const w = await world({ consumerPublishDir: true });
    writeVersionFile(w.consumerPublishDir!, 'TCD.20160802.geo', 'com.acme.geo.GeoMaster.csv/part-00000', 'truncated\n');

    const refusal = refusalOf(await adopt(w, 'geo', 'TCD.20160802.geo'));

    expect(refusal.code).toBe('sync-differs');
    expect(refusal.message).toMatch(/does not match what was published for com\.acme\.geo: com\.acme\.geo\.GeoMaster\.csv is 10 bytes, published 30\. Sync it/);
    expect(refusal.message).toContain(`rsync -a ${w.publishDir}/TCD.20160802.geo/ ${w.consumerPublishDir}/TCD.20160802.geo/`);
  });

  it('adopts a version that is fully synced', async () => {
    const w = await world({ consumerPublishDir: true });

    adopted(await adopt(w, 'geo', 'TCD.20160802.geo'));
  });
});

describe('adopt: the consumer repo', () => {
  it('refuses when confPath is git-ignored (SMV template .gitignore) and pushes nothing', async () => {
    const gitignore = fs.readFileSync('/work/shared/smv-samples/enterprise/gitignore.template', 'utf8');
    const w = await world({ repoFiles: { '.gitignore': gitignore, [APP_CONF_PATH]: DEFAULT_APP_CONF } });
    const before = remoteSnapshot(w);

    const refusal = refusalOf(await adopt(w, 'geo', 'TCD.20160802.geo'));

    expect(refusal.code).toBe('conf-ignored');
    expect(refusal.message).toBe(
      "`conf/smv-user-conf.props` is git-ignored in `client-model` (SMV's project template ignores it), so a pin committed there " +
        'would never reach anyone. Either track it (remove it from .gitignore and commit it), or point `confPath` in smvbot.yml ' +
        'at a tracked config file. Nothing was changed.',
    );
    expect(remoteSnapshot(w)).toEqual(before);
    expect(w.remoteLog()).toHaveLength(1);
  });

  it('re-applies on top of a commit pushed between its fetch and its push; both changes survive, history stays linear', async () => {
    let foreign = '';
    const w = await world({
      wrapRepo: (repo, self) =>
        interceptPush(repo, (attempt) => {
          if (attempt === 1) foreign = pinCmsByHand(self, 'TCD.20160802.cms');
        }),
    });
    const initial = w.remoteHead()!;

    const outcome = adopted(await adopt(w, 'geo', 'TCD.20160802.geo'));

    const log = w.remoteLog();
    expect(log.map((c) => c.sha)).toEqual([outcome.commit, foreign, initial]);
    expect(log.map((c) => c.parents.length)).toEqual([1, 1, 0]);
    expect(log[0]!.parents).toEqual([foreign]);
    const text = w.remoteFile(USER_CONF_PATH)!;
    expect(text).toContain('smv.stages.geo.version = TCD.20160802.geo\n');
    expect(text).toContain('smv.stages.cms.version = TCD.20160802.cms\n');
    expect(numstat(w, foreign, outcome.commit)).toEqual([1, 1]);
  });

  it('gives up with a clear answer when the remote moves on every attempt, leaving only the foreign commits', async () => {
    const foreign: string[] = [];
    const w = await world({
      maxPushAttempts: 3,
      wrapRepo: (repo, self) =>
        interceptPush(repo, (attempt) => {
          foreign.push(self.commitToRemote({ [`notes/${attempt}.md`]: `busy ${attempt}\n` }, `Busy ${attempt}\n`));
        }),
    });

    const refusal = refusalOf(await adopt(w, 'geo', 'TCD.20160802.geo'));

    expect(refusal.code).toBe('remote-busy');
    expect(refusal.message).toBe(
      "`client-model`'s branch `main` kept moving while I pushed (3 attempts). Nothing was changed. Try the same command again in a minute.",
    );
    expect(w.remoteHead()).toBe(foreign[2]);
    expect(w.remoteFile(USER_CONF_PATH)).toBe(DEFAULT_USER_CONF);
    expect(await w.state.adoptions()).toEqual([]);
  });

  it('lands 10 concurrent adopts for 10 stages as 10 linear commits', async () => {
    const stages = Array.from({ length: 10 }, (_, i) => `com.acme.s${i}`);
    const w = await world({ stages, versions: stages.map((fqn, i) => ({ version: `TCD.20160802.s${i}`, stages: [fqn] })) });
    const initial = w.remoteHead()!;

    const outcomes = await Promise.all(stages.map((_, i) => adopt(w, `s${i}`, `TCD.20160802.s${i}`)));

    for (const outcome of outcomes) expect(adopted(outcome).previous).toBeNull();
    const log = w.remoteLog();
    expect(log).toHaveLength(11);
    expect(log.every((c) => c.parents.length <= 1)).toBe(true);
    expect(w.remoteGit(['rev-list', '--merges', 'main']).trim()).toBe('');
    expect(log.at(-1)!.sha).toBe(initial);
    expect(new Set(log.slice(0, 10).map((c) => c.sha))).toEqual(new Set(outcomes.map((o) => adopted(o).commit)));
    const text = w.remoteFile(USER_CONF_PATH)!;
    expect(text.startsWith(DEFAULT_USER_CONF)).toBe(true);
    for (let i = 0; i < 10; i++) expect(text).toContain(`smv.stages.s${i}.version = TCD.20160802.s${i}\n`);
    expect(await w.state.adoptions()).toHaveLength(10);
  });

  it('in branch mode pushes smvbot/adopt/<stage>/<version> for review and leaves main untouched', async () => {
    const w = await world({ consumer: { mode: 'branch' } });
    const main = w.remoteHead()!;

    const outcome = adopted(await adopt(w, 'geo', 'TCD.20160802.geo'));

    expect(outcome.branch).toBe('smvbot/adopt/geo/TCD.20160802.geo');
    expect(outcome.mode).toBe('branch');
    expect(w.remoteRefs()).toEqual({ 'refs/heads/main': main, 'refs/heads/smvbot/adopt/geo/TCD.20160802.geo': outcome.commit });
    expect(w.remoteFile(USER_CONF_PATH, 'smvbot/adopt/geo/TCD.20160802.geo')).toContain('smv.stages.geo.version = TCD.20160802.geo\n');
    expect(w.remoteFile(USER_CONF_PATH)).toBe(DEFAULT_USER_CONF);
    expect(w.remoteLog('smvbot/adopt/geo/TCD.20160802.geo')[0]!.parents).toEqual([main]);
    expect((await w.state.adoptions())[0]).toMatchObject({ mode: 'branch', branch: 'smvbot/adopt/geo/TCD.20160802.geo' });

    // Adopting again replaces the review branch with a fresh commit on the current main.
    w.commitToRemote({ 'README.md': '# client-model\n\nmoved on\n' }, 'Docs\n');
    const again = adopted(await adopt(w, 'geo', 'TCD.20160802.geo'));
    expect(w.remoteLog('smvbot/adopt/geo/TCD.20160802.geo')[0]!.parents).toEqual([w.remoteHead()]);
    expect(w.remoteRefs()['refs/heads/smvbot/adopt/geo/TCD.20160802.geo']).toBe(again.commit);
  });

  it('answers with git\'s gist and leaves the remote unchanged when the remote rejects every push', async () => {
    const w = await world();
    w.installRemoteHook('pre-receive', '#!/bin/sh\necho "push refused: main is protected, open a merge request" >&2\nexit 1\n');
    const before = remoteSnapshot(w);

    const refusal = refusalOf(await adopt(w, 'geo', 'TCD.20160802.geo'));

    expect(refusal.code).toBe('git-failed');
    expect(refusal.message).toMatch(
      new RegExp(
        `^Could not update \`client-model\` \\(${w.remote.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}, branch \`main\`\\): ` +
          'remote: push refused: main is protected, open a merge request / ! \\[remote rejected\\] HEAD -&gt; main \\(pre-receive hook declined\\)',
      ),
    );
    expect(refusal.message).toMatch(/Nothing was changed on the remote\. The server refused the push \(a hook or rule\); ask its owners what it requires, or use `mode: branch`\.$/);
    expect(remoteSnapshot(w)).toEqual(before);
    expect(await w.state.adoptions()).toEqual([]);
  });

  it('gives up on a push that hangs, without claiming the remote is untouched', async () => {
    const w = await world({ gitTimeoutMs: 2500 });
    const release = path.join(w.root, 'release-hook');
    // Hangs until released (so no process outlives the test), then rejects the push anyway.
    // Bounded (30 s) and gone with its folder, so no hook outlives the test run.
    w.installRemoteHook(
      'pre-receive',
      `#!/bin/sh\ni=0\nwhile [ ! -e '${release}' ] && [ -d '${w.root}' ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i+1)); done\nexit 1\n`,
    );
    const before = remoteSnapshot(w);

    const refusal = refusalOf(await adopt(w, 'geo', 'TCD.20160802.geo'));
    fs.writeFileSync(release, '');

    expect(refusal.code).toBe('git-failed');
    // The bot cannot know whether a push cut off by its timeout landed, so it says to check.
    expect(refusal.message).toContain(
      '): git timed out (is the remote reachable?). The push may or may not have reached the remote: check `main` (or `/smv pins`) before trying again.',
    );
    expect(remoteSnapshot(w)).toEqual(before);
  });

  it('never shows credentials embedded in the repo URL', async () => {
    // Port 9 on loopback: nothing listens, so git fails fast and its URL appears in the answer.
    const w = await world({ consumer: { repo: 'https://smvbot:s3cr3t-token@127.0.0.1:9/team-b/client-model.git' } });

    const refusal = refusalOf(await adopt(w, 'geo', 'TCD.20160802.geo'));

    expect(refusal.code).toBe('git-failed');
    expect(refusal.message).not.toContain('s3cr3t-token');
    expect(refusal.message).toContain('https://***@127.0.0.1:9/team-b/client-model.git');
  });

  it('answers with git\'s gist when the configured branch does not exist on the remote', async () => {
    const w = await world({ consumer: { branch: 'release' } });
    w.remoteGit(['branch', '-m', 'release', 'main']);
    const before = remoteSnapshot(w);

    const refusal = refusalOf(await adopt(w, 'geo', 'TCD.20160802.geo'));

    expect(refusal.code).toBe('git-failed');
    expect(refusal.message).toContain("fatal: branch 'release' does not exist on the remote");
    expect(remoteSnapshot(w)).toEqual(before);
  });
});

describe('adopt: the bot\'s own clone', () => {
  it('recovers from a lock file left in its clone by a crash mid-commit', async () => {
    const w = await world();
    adopted(await adopt(w, 'geo', 'TCD.20160802.geo'));
    fs.writeFileSync(path.join(w.cloneDir, '.git', 'index.lock'), '');

    const outcome = adopted(await adopt(w, 'cms', 'TCD.20160802.cms'));

    expect(w.remoteHead()).toBe(outcome.commit);
    expect(w.remoteFile(USER_CONF_PATH)).toContain('smv.stages.cms.version = TCD.20160802.cms\n');
  });

  it('recovers from a clone left half-made (a crash right after `git init`, before the first fetch)', async () => {
    const w = await world();
    fs.mkdirSync(w.cloneDir, { recursive: true });
    w.git(['init', '-q', w.cloneDir]);

    const outcome = adopted(await adopt(w, 'cms', 'TCD.20160802.cms'));

    expect(w.remoteHead()).toBe(outcome.commit);
    expect(w.remoteFile(USER_CONF_PATH)).toContain('smv.stages.cms.version = TCD.20160802.cms\n');
  });

  it('recovers from a folder without `.git` where the clone should be (a crash before `git init`)', async () => {
    const w = await world();
    fs.mkdirSync(path.join(w.cloneDir, 'conf'), { recursive: true });
    fs.writeFileSync(path.join(w.cloneDir, USER_CONF_PATH), 'half written');

    const outcome = adopted(await adopt(w, 'cms', 'TCD.20160802.cms'));

    expect(w.remoteHead()).toBe(outcome.commit);
    expect(w.remoteFile(USER_CONF_PATH)).toBe(DEFAULT_USER_CONF.replace('TCD.20160701.cms', 'TCD.20160802.cms'));
  });

  it('uses the repo URL from the config even when the clone remembers another one', async () => {
    const w = await world();
    adopted(await adopt(w, 'geo', 'TCD.20160802.geo'));
    // A clone made by an older bot, or before the consumer's repo moved.
    w.git(['-C', w.cloneDir, 'config', 'remote.origin.url', path.join(w.root, 'gone.git')]);

    const outcome = adopted(await adopt(w, 'cms', 'TCD.20160802.cms'));

    expect(w.remoteHead()).toBe(outcome.commit);
  });

  it('lands the same commit whatever the operator\'s global git config says (identity, signing, hooks)', async () => {
    const w = await world();
    const hooks = path.join(w.root, 'global-hooks');
    fs.mkdirSync(hooks);
    fs.writeFileSync(path.join(hooks, 'prepare-commit-msg'), '#!/bin/sh\necho "[JIRA-123]" >> "$1"\n', { mode: 0o755 });
    fs.writeFileSync(path.join(hooks, 'pre-push'), '#!/bin/sh\necho "talisman: push blocked" >&2\nexit 1\n', { mode: 0o755 });
    fs.appendFileSync(
      path.join(w.root, 'home', '.gitconfig'),
      `[user]\n\tname = Operator Personal\n\temail = operator@personal.example\n[commit]\n\tgpgsign = true\n[core]\n\thooksPath = ${hooks}\n`,
    );

    const outcome = adopted(await adopt(w, 'geo', 'TCD.20160802.geo'));

    const [commit] = w.remoteLog();
    expect(commit!.sha).toBe(outcome.commit);
    expect(commit!.message).toBe(
      'Adopt geo TCD.20160802.geo for client-model\n\nPrevious: TCD.20160701.geo\nAdopted-by: Ada Lovelace (U0ADOPTER)\n',
    );
    expect(commit!.author.name).toBe(ADOPTER.name);
    expect(commit!.committer).toEqual(TEST_COMMITTER);
  });
});

describe('adopt: git processes per adopt (each costs the bot 10-20 ms of event loop)', () => {
  it('runs at most 5 git commands to adopt on a tracked user conf, and 4 once the clone is there', async () => {
    const w = await world();

    adopted(await adopt(w, 'geo', 'TCD.20160802.geo'));
    const first = gitCommandsSinceLast(w);
    adopted(await adopt(w, 'cms', 'TCD.20160802.cms'));
    const second = gitCommandsSinceLast(w);

    expect(first.length).toBeLessThanOrEqual(5);
    expect(first).toEqual(['init', 'fetch', 'checkout', 'commit', 'push']);
    expect(second.length).toBeLessThanOrEqual(5);
    expect(second).toEqual(['fetch', 'checkout', 'commit', 'push']);
    expect(w.remoteFile(USER_CONF_PATH)).toBe(
      DEFAULT_USER_CONF.replace('TCD.20160701.geo', 'TCD.20160802.geo').replace('TCD.20160701.cms', 'TCD.20160802.cms'),
    );
  });

  it('asks git whether a user conf that does not exist yet is ignored, and adds it before committing', async () => {
    const w = await world({ repoFiles: { [APP_CONF_PATH]: DEFAULT_APP_CONF } });
    adopted(await adopt(w, 'cms', 'TCD.20160802.cms'));
    w.commitToRemote({ [USER_CONF_PATH]: null }, 'Drop the user conf\n');
    gitCommandsSinceLast(w);

    adopted(await adopt(w, 'geo', 'TCD.20160802.geo'));

    expect(gitCommandsSinceLast(w)).toEqual(['fetch', 'checkout', 'check-ignore', 'add', 'commit', 'push']);
    expect(w.remoteFile(USER_CONF_PATH)).toBe('smv.stages.geo.version = TCD.20160802.geo\n');
  });

  it('runs no git at all for a refusal, and only fetch and checkout for already-pinned', async () => {
    const w = await world();

    refusalOf(await adopt(w, 'geo', 'TCD.20160999.geo'));
    expect(gitCommandsSinceLast(w)).toEqual([]);
    await adopt(w, 'geo', 'TCD.20160701.geo');
    expect(gitCommandsSinceLast(w)).toEqual(['init', 'fetch', 'checkout']);
  });

  it('a commit that fails after creating the user conf leaves nothing behind for the next adopt', async () => {
    const w = await world({ repoFiles: { [APP_CONF_PATH]: DEFAULT_APP_CONF }, wrapGit: (git) => failGitCommand(git, 'commit') });

    const refusal = refusalOf(await adopt(w, 'geo', 'TCD.20160802.geo'));
    expect(refusal.code).toBe('git-failed');
    expect(fs.existsSync(path.join(w.cloneDir, USER_CONF_PATH))).toBe(true);
    gitCommandsSinceLast(w);

    adopted(await adopt(w, 'cms', 'TCD.20160802.cms'));

    // Without the clean, the failed adopt's geo pin would have ridden along in this commit.
    expect(w.remoteFile(USER_CONF_PATH)).toBe('smv.stages.cms.version = TCD.20160802.cms\n');
    expect(gitCommandsSinceLast(w)).toEqual(['fetch', 'checkout', 'clean', 'check-ignore', 'add', 'commit', 'push']);
  });

  it('a commit of the tracked user conf that fails leaves the next adopt on the remote text', async () => {
    const w = await world({ wrapGit: (git) => failGitCommand(git, 'commit') });

    expect(refusalOf(await adopt(w, 'geo', 'TCD.20160802.geo')).code).toBe('git-failed');
    const outcome = adopted(await adopt(w, 'cms', 'TCD.20160802.cms'));

    expect(outcome.previous).toBe('TCD.20160701.cms');
    expect(w.remoteFile(USER_CONF_PATH)).toBe(DEFAULT_USER_CONF.replace('TCD.20160701.cms', 'TCD.20160802.cms'));
  });
});

describe('unpin', () => {
  it('removes every pin key of the stage from the user conf', async () => {
    const userConf = DEFAULT_USER_CONF + 'smv.stages.com.acme.geo.version = TCD.20160701.geo\n';
    const w = await world({ repoFiles: { [USER_CONF_PATH]: userConf, [APP_CONF_PATH]: DEFAULT_APP_CONF } });
    const before = w.remoteHead()!;

    const outcome = await unpin(w, 'geo');

    expect(outcome).toMatchObject({ ok: true, status: 'unpinned', previous: 'TCD.20160701.geo' });
    expect(outcome.ok && outcome.status === 'unpinned' && outcome.stillPinnedBy).toEqual({ version: null, key: null, source: null });
    expect(w.remoteFile(USER_CONF_PATH)).toBe(DEFAULT_USER_CONF.replace('smv.stages.geo.version = TCD.20160701.geo\n', ''));
    expect(numstat(w, before, w.remoteHead()!)).toEqual([0, 2]);
    const [commit] = w.remoteLog();
    expect(commit!.message).toBe('Unpin geo for client-model\n\nPrevious: TCD.20160701.geo\nUnpinned-by: Ada Lovelace (U0ADOPTER)\n');
    expect(commit!.committer).toEqual(TEST_COMMITTER);
    expect((await w.state.adoptions())[0]).toMatchObject({ action: 'unpin', stage: 'com.acme.geo', from: 'TCD.20160701.geo', to: null });
  });

  it('reports the app conf pin that still applies after the user conf pin is gone', async () => {
    const appConf = DEFAULT_APP_CONF + 'smv.stages.cms.version = TCD.20160701.cms\n';
    const userConf = DEFAULT_USER_CONF.replace('TCD.20160701.cms', 'TCD.20160802.cms');
    const w = await world({ repoFiles: { [USER_CONF_PATH]: userConf, [APP_CONF_PATH]: appConf } });

    const outcome = await unpin(w, 'cms');

    expect(outcome).toMatchObject({
      ok: true,
      status: 'unpinned',
      previous: 'TCD.20160802.cms',
      stillPinnedBy: { version: 'TCD.20160701.cms', key: 'smv.stages.cms.version', source: 'app' },
    });
    expect(w.remoteFile(USER_CONF_PATH)).not.toContain('smv.stages.cms.version');
  });

  it('answers not-pinned and commits nothing when the user conf has no pin for the stage', async () => {
    const w = await world();
    const before = remoteSnapshot(w);

    const outcome = await unpin(w, 'trial');

    expect(outcome).toMatchObject({ ok: true, status: 'not-pinned', stillPinnedBy: { version: null, key: null, source: null } });
    expect(remoteSnapshot(w)).toEqual(before);
    expect(await w.state.adoptions()).toEqual([]);
  });

  it('refuses an unauthorised user', async () => {
    const w = await world();
    const before = remoteSnapshot(w);

    expect(refusalOf(await unpin(w, 'geo', STRANGER.id)).code).toBe('not-authorised');
    expect(remoteSnapshot(w)).toEqual(before);
  });
});

describe('adopt: requests that name nothing known', () => {
  it('refuses an unknown stage, listing the known ones', async () => {
    const w = await world();

    const refusal = refusalOf(await adopt(w, 'geography', 'TCD.20160802.geo'));

    expect(refusal).toEqual({
      ok: false,
      code: 'unknown-stage',
      message: 'Unknown stage `geography`. Known stages: cms, geo, trial. Type one of them (base name or FQN), e.g. `cms`.',
    });
  });

  it('refuses an unknown consumer, listing the known ones', async () => {
    const w = await world();

    const refusal = refusalOf(await w.adoptAs({ consumer: 'client-modle', stage: 'geo', version: 'TCD.20160802.geo', userId: ADOPTER.id }));

    expect(refusal.message).toBe('There is no consumer called `client-modle`. Known consumers: `client-model`.');
  });

  it('refuses `latest` for a stage with no complete version yet', async () => {
    const w = await world({ stages: ['com.acme.geo', 'com.acme.cms', 'com.acme.trial', 'com.acme.claims'] });

    const refusal = refusalOf(await adopt(w, 'claims', 'latest'));

    expect(refusal.code).toBe('no-versions');
    expect(refusal.message).toBe(
      'No complete version of claims has been published yet, so there is no latest to adopt. Try `/smv releases` later.',
    );
  });
});

describe('soak time with a fixed clock', () => {
  // TCD.20160802.geo completed 2016-08-02 12:00 UTC (its files' mtime); the clock says 20:00 that day.
  const now = () => new Date('2016-08-02T20:00:00Z');

  it('refuses a version younger than minAgeHours, naming when it becomes adoptable; latest takes the newest old enough', async () => {
    const w = await world({ consumer: { minAgeHours: 24 }, now });
    const before = w.remoteHead();
    const refused = refusalOf(await adopt(w, 'geo', 'TCD.20160802.geo'));
    expect(refused.code).toBe('too-new');
    expect(refused.message).toContain('TCD.20160802.geo completed 2016-08-02 12:00 UTC');
    expect(refused.message).toContain('it becomes adoptable at 2016-08-03 12:00 UTC');
    expect(w.remoteHead()).toBe(before);
    // The pin already is TCD.20160701.geo: latest (the newest old enough) changes nothing.
    const latest = await adopt(w, 'geo', 'latest');
    expect(latest).toMatchObject({ ok: true, status: 'already-pinned', version: 'TCD.20160701.geo' });
  });

  it('lets an admin adopt inside the soak time and says it was skipped', async () => {
    const w = await world({ consumer: { minAgeHours: 24 }, now });
    const outcome = adopted(await adopt(w, 'geo', 'TCD.20160802.geo', ADMIN.id));
    expect(outcome.soakSkipped).toEqual({ minAgeHours: 24, adoptableAt: '2016-08-03T12:00:00.000Z' });
    expect(w.remoteFile(USER_CONF_PATH)).toContain('smv.stages.geo.version = TCD.20160802.geo');
  });

  it('after the soak time the same version is adoptable by an adopter', async () => {
    const w = await world({ consumer: { minAgeHours: 24 }, now: () => new Date('2016-08-03T12:00:00Z') });
    expect(adopted(await adopt(w, 'geo', 'TCD.20160802.geo')).soakSkipped).toBeUndefined();
  });
});

describe('slackAuthor', () => {
  it.each([
    ['Bea Lopez', 'Bea Lopez'],
    ['  José <admin>  ', 'José admin'],
    ['...', 'U0ODD'],
    ['<>', 'U0ODD'],
    ['', 'U0ODD'],
  ])('authors %j as %j with a non-routable address', (name, expected) => {
    expect(slackAuthor({ id: 'U0ODD', name })).toEqual({ name: expected, email: 'U0ODD@users.slack.invalid' });
  });
});
