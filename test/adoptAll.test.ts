// Several stages adopted at once (issue #28): `AdoptService.adoptAll` over a real bare git remote,
// real publish trees and the real state store. One commit or none: what the remote, its history
// and the audit log hold afterwards, and what the user is told.
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { AdoptAllOutcome } from '../src/core/adopt.ts';
import { reconcileAdoptions } from '../src/core/reconcileAdoptions.ts';
import type { AdoptionRecord } from '../src/domain/records.ts';
import { refusalText } from '../src/slack/render/refusals.ts';
import {
  ADMIN,
  ADOPTER,
  APP_CONF_PATH,
  DEFAULT_USER_CONF,
  STRANGER,
  TEST_COMMITTER,
  USER_CONF_PATH,
  createGitWorld,
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

const NAMES: Record<string, string> = { [ADOPTER.id]: ADOPTER.name, [ADMIN.id]: ADMIN.name, [STRANGER.id]: STRANGER.name };

/** `/smv adopt geo V1 cms V2` for the world's consumer: stages typed as base names or FQNs. */
function adoptAll(w: GitWorld, pairs: [string, string][], opts: { userId?: string; resumedSince?: string } = {}): Promise<AdoptAllOutcome> {
  const userId = opts.userId ?? ADOPTER.id;
  return w.adopt.adoptAll({
    consumer: w.consumer,
    pairs: pairs.map(([stage, version]) => {
      const resolved = w.topology.resolveStage(stage);
      if (!resolved.ok) throw new Error(`${stage} does not resolve`);
      return { stage: resolved.stage, version };
    }),
    actor: { id: userId, name: NAMES[userId] ?? userId },
    channel: 'C0TEAMB',
    ...(opts.resumedSince !== undefined ? { resumedSince: opts.resumedSince } : {}),
  });
}

function adopted(outcome: AdoptAllOutcome): Extract<AdoptAllOutcome, { status: 'adopted' }> {
  if (!outcome.ok || outcome.status !== 'adopted') throw new Error(`expected an adoption, got ${JSON.stringify(outcome.ok ? outcome.status : outcome)}`);
  return outcome;
}

function refusalOf(outcome: AdoptAllOutcome): { code: string; message: string } {
  if (outcome.ok) throw new Error(`expected a refusal, got ${outcome.status}`);
  return { code: outcome.code, message: refusalText(outcome) };
}

function remoteSnapshot(w: GitWorld) {
  return { refs: w.remoteRefs(), userConf: w.remoteFile(USER_CONF_PATH) };
}

const AUGUST = DEFAULT_USER_CONF.replace('TCD.20160701.geo', 'TCD.20160802.geo').replace('TCD.20160701.cms', 'TCD.20160802.cms');

describe('adopt several stages: one commit', () => {
  it('lands both pins in one commit, with a Previous line per stage, and a history row per stage naming that commit', async () => {
    const w = await world();
    const before = w.remoteHead()!;

    const outcome = adopted(await adoptAll(w, [['geo', 'TCD.20160802.geo'], ['cms', 'latest']]));

    const [commit, initial] = w.remoteLog();
    expect(initial!.sha).toBe(before);
    expect(commit!.sha).toBe(outcome.commit);
    expect(commit!.parents).toEqual([before]);
    expect(commit!.message).toBe(
      'Adopt geo TCD.20160802.geo, cms TCD.20160802.cms for client-model\n' +
        '\n' +
        'Previous: geo TCD.20160701.geo\n' +
        'Previous: cms TCD.20160701.cms\n' +
        'Adopted-by: Ada Lovelace (U0ADOPTER)\n',
    );
    expect(commit!.author).toEqual({ name: 'Ada Lovelace', email: 'U0ADOPTER@users.slack.invalid' });
    expect(commit!.committer).toEqual(TEST_COMMITTER);
    // Exactly the two pin lines changed, every other byte kept.
    expect(w.remoteFile(USER_CONF_PATH)).toBe(AUGUST);
    expect(w.remoteGit(['diff', '--name-only', before, commit!.sha]).trim()).toBe(USER_CONF_PATH);

    expect(outcome.stages.map((s) => [s.stage.fqn, s.status, s.version, s.status === 'adopted' ? s.previous : null])).toEqual([
      ['com.acme.geo', 'adopted', 'TCD.20160802.geo', 'TCD.20160701.geo'],
      ['com.acme.cms', 'adopted', 'TCD.20160802.cms', 'TCD.20160701.cms'],
    ]);
    const history = await w.state.adoptions({ consumer: 'client-model' });
    expect(history.map((r) => [r.stage, r.from, r.to, r.commit, r.user.id])).toEqual([
      ['com.acme.cms', 'TCD.20160701.cms', 'TCD.20160802.cms', outcome.commit, ADOPTER.id],
      ['com.acme.geo', 'TCD.20160701.geo', 'TCD.20160802.geo', outcome.commit, ADOPTER.id],
    ]);
    expect(await w.state.unsettledAdoptions()).toEqual([]);
  });

  it('leaves a stage already pinned to its version out of the commit; all of them pinned commits nothing', async () => {
    const w = await world();

    const outcome = adopted(await adoptAll(w, [['geo', 'TCD.20160701.geo'], ['trial', 'TCD.20160802.trial']]));

    expect(w.remoteLog()[0]!.message).toBe('Adopt trial TCD.20160802.trial for client-model\n\nPrevious: trial none\nAdopted-by: Ada Lovelace (U0ADOPTER)\n');
    expect(w.remoteFile(USER_CONF_PATH)).toBe(DEFAULT_USER_CONF + 'smv.stages.trial.version = TCD.20160802.trial\n');
    expect(outcome.stages.map((s) => s.status)).toEqual(['already-pinned', 'adopted']);
    expect((await w.state.adoptions()).map((r) => r.stage)).toEqual(['com.acme.trial']);

    const head = w.remoteHead();
    const again = await adoptAll(w, [['geo', 'TCD.20160701.geo'], ['trial', 'latest']]);
    expect(again).toMatchObject({ ok: true, status: 'already-pinned' });
    expect(again.ok && again.stages.map((s) => s.status)).toEqual(['already-pinned', 'already-pinned']);
    expect(w.remoteHead()).toBe(head);
    expect(await w.state.adoptions()).toHaveLength(1);
  });

  it('re-applies every stage on top of a commit pushed between its fetch and its push', async () => {
    let foreign = '';
    const w = await world({
      wrapRepo: (repo, self) =>
        interceptPush(repo, (attempt) => {
          if (attempt === 1) foreign = self.commitToRemote({ 'notes/a.md': 'a teammate\n' }, 'Notes\n');
        }),
    });

    const outcome = adopted(await adoptAll(w, [['geo', 'TCD.20160802.geo'], ['cms', 'TCD.20160802.cms']]));

    const log = w.remoteLog();
    expect(log.map((c) => c.sha).slice(0, 2)).toEqual([outcome.commit, foreign]);
    expect(log[0]!.parents).toEqual([foreign]);
    expect(w.remoteFile(USER_CONF_PATH)).toBe(AUGUST);
    // The first attempt's intents were abandoned; the landed ones name the commit that is there.
    expect((await w.state.adoptions()).map((r) => r.commit)).toEqual([outcome.commit, outcome.commit]);
  });

  it('in branch mode pushes one review branch naming every stage and version', async () => {
    const w = await world({ consumer: { mode: 'branch' } });
    const main = w.remoteHead()!;

    const outcome = adopted(await adoptAll(w, [['geo', 'TCD.20160802.geo'], ['cms', 'TCD.20160802.cms']]));

    const branch = 'smvbot/adopt/geo+cms/TCD.20160802.geo+TCD.20160802.cms';
    expect(outcome).toMatchObject({ mode: 'branch', branch });
    expect(w.remoteRefs()).toEqual({ 'refs/heads/main': main, [`refs/heads/${branch}`]: outcome.commit });
    expect(w.remoteFile(USER_CONF_PATH, branch)).toBe(AUGUST);
  });

  it('writes every connection path (and the types it adds) into conf/connections.props for a connection consumer', async () => {
    const connections = ['# Team C connections', 'smv.conn.pdd_cms.type = hdfs', 'smv.conn.pdd_cms.path = hdfs:///pub/TCD.20160701.cms', ''].join('\n');
    const w = await world({
      consumer: { smvVersion: '2.4r1', connections: { 'com.acme.geo': 'pdd_geo', 'com.acme.cms': 'pdd_cms' }, smvPublishDir: 'hdfs:///pub' },
      repoFiles: { 'conf/connections.props': connections, [APP_CONF_PATH]: 'smv.appName = Team C\n' },
    });

    const outcome = adopted(await adoptAll(w, [['geo', 'TCD.20160802.geo'], ['cms', 'TCD.20160802.cms']]));

    expect(w.remoteFile('conf/connections.props')).toBe(
      [
        '# Team C connections',
        'smv.conn.pdd_cms.type = hdfs',
        'smv.conn.pdd_cms.path = hdfs:///pub/TCD.20160802.cms',
        '# smv.conn.pdd_geo.type added by smvbot with the pin below; /smv unpin removes it',
        'smv.conn.pdd_geo.type = hdfs',
        'smv.conn.pdd_geo.path = hdfs:///pub/TCD.20160802.geo',
        '',
      ].join('\n'),
    );
    expect(w.remoteLog()[0]!.message).toBe(
      'Adopt geo TCD.20160802.geo, cms TCD.20160802.cms for client-model\n\nPrevious: geo none\nPrevious: cms TCD.20160701.cms\nAdopted-by: Ada Lovelace (U0ADOPTER)\n',
    );
    expect((await w.state.adoptions()).map((r) => [r.stage, r.from, r.to, r.commit])).toEqual([
      ['com.acme.cms', 'TCD.20160701.cms', 'TCD.20160802.cms', outcome.commit],
      ['com.acme.geo', null, 'TCD.20160802.geo', outcome.commit],
    ]);
  });

  it('refuses a connection consumer\'s stage it maps to no connection, committing nothing for the others', async () => {
    const w = await world({
      consumer: { smvVersion: '2.4r1', connections: { 'com.acme.geo': 'pdd_geo' }, smvPublishDir: 'hdfs:///pub' },
      repoFiles: { 'conf/connections.props': '', [APP_CONF_PATH]: 'smv.appName = Team C\n' },
    });
    const before = w.remoteRefs();

    const refusal = refusalOf(await adoptAll(w, [['geo', 'TCD.20160802.geo'], ['cms', 'TCD.20160802.cms']]));

    expect(refusal.code).toBe('stages-refused');
    expect(refusal.message).toContain('• cms `TCD.20160802.cms`: `client-model` pins SMV connections (pinStyle connection), but smvbot.yml names no connection for cms');
    expect(w.remoteRefs()).toEqual(before);
  });
});

describe('adopt several stages: all or nothing', () => {
  it('one stage not synced to the consumer\'s publish dir: nothing is committed, and the answer names that stage\'s problem', async () => {
    const w = await world({ consumerPublishDir: true });
    const copy = path.join(w.consumerPublishDir!, 'TCD.20160802.cms');
    const missing = fs.readdirSync(copy).find((f) => f.endsWith('.csv'))!;
    fs.rmSync(path.join(copy, missing), { recursive: true });
    const before = remoteSnapshot(w);

    const refusal = refusalOf(await adoptAll(w, [['geo', 'TCD.20160802.geo'], ['cms', 'TCD.20160802.cms']]));

    expect(refusal.code).toBe('stages-refused');
    const lines = refusal.message.split('\n');
    expect(lines).toEqual([
      'Nothing was adopted for `client-model`: the stages are adopted together or not at all, and one cannot be adopted:',
      expect.stringMatching(new RegExp(`^• cms \`TCD\\.20160802\\.cms\`: The copy of TCD\\.20160802\\.cms in .* does not match what was published for com\\.acme\\.cms: ${missing.replaceAll('.', '\\.')} missing\\. Sync it`)),
    ]);
    expect(remoteSnapshot(w)).toEqual(before);
    expect(await w.state.adoptions()).toEqual([]);
    expect(await w.state.unsettledAdoptions()).toEqual([]);
    // No git at all: every stage is checked before the clone is touched.
    expect(w.botGitCalls).toEqual([]);
  });

  it('tells every stage\'s problem at once, in the order asked', async () => {
    const w = await world();
    const before = remoteSnapshot(w);

    const refusal = refusalOf(await adoptAll(w, [['geo', 'TCD.20990101.geo'], ['cms', 'TCD.20160802.cms'], ['trial', '../x']]));

    const lines = refusal.message.split('\n');
    expect(lines[0]).toBe('Nothing was adopted for `client-model`: the stages are adopted together or not at all, and 2 cannot be adopted:');
    expect(lines[1]).toMatch(/^• geo `TCD\.20990101\.geo`: There is no published version "TCD\.20990101\.geo" for com\.acme\.geo\. Newest complete versions/);
    expect(lines[2]).toMatch(/^• trial `\.\.\/x`: Version "\.\.\/x" contains a path separator\./);
    expect(lines).toHaveLength(3);
    expect(remoteSnapshot(w)).toEqual(before);
  });

  it('refuses the same stage named twice (as a base name and as its FQN), and a user who may not adopt, before checking anything', async () => {
    const w = await world();
    const before = remoteSnapshot(w);

    const twice = refusalOf(await adoptAll(w, [['geo', 'TCD.20160802.geo'], ['cms', 'latest'], ['com.acme.geo', 'latest']]));
    expect(twice).toEqual({ code: 'stage-twice', message: 'geo is named 2 times (`TCD.20160802.geo`, `latest`): name each stage once, with the version to pin. Nothing was changed.' });

    const stranger = refusalOf(await adoptAll(w, [['geo', 'TCD.20160802.geo'], ['cms', 'latest']], { userId: STRANGER.id }));
    expect(stranger.code).toBe('not-authorised');
    expect(remoteSnapshot(w)).toEqual(before);
    expect(w.botGitCalls).toEqual([]);
  });
});

describe('adopt several stages: concurrency and crashes', () => {
  it('two multi-stage adopts sent at once for one consumer both land, one after the other, as two linear commits', async () => {
    const w = await world({
      versions: [
        { version: 'TCD.20160701.geo', stages: ['com.acme.geo'] },
        { version: 'TCD.20160701.cms', stages: ['com.acme.cms'] },
        { version: 'TCD.20160802', stages: ['com.acme.geo', 'com.acme.cms', 'com.acme.trial'] },
        { version: 'TCD.20160903', stages: ['com.acme.geo', 'com.acme.cms', 'com.acme.trial'] },
      ],
    });
    const initial = w.remoteHead()!;

    const [first, second] = await Promise.all([
      adoptAll(w, [['geo', 'TCD.20160802'], ['cms', 'TCD.20160802']]),
      adoptAll(w, [['cms', 'TCD.20160903'], ['trial', 'TCD.20160903']], { userId: ADMIN.id }),
    ]);

    const a = adopted(first!);
    const b = adopted(second!);
    const log = w.remoteLog();
    // In arrival order, each on the other's tip: no merge, nothing lost.
    expect(log.map((c) => c.sha)).toEqual([b.commit, a.commit, initial]);
    expect(log.map((c) => c.parents)).toEqual([[a.commit], [initial], []]);
    expect(log[0]!.message).toBe('Adopt cms TCD.20160903, trial TCD.20160903 for client-model\n\nPrevious: cms TCD.20160802\nPrevious: trial none\nAdopted-by: Grace Hopper (U0ADMIN)\n');
    expect(w.remoteFile(USER_CONF_PATH)).toBe(
      DEFAULT_USER_CONF.replace('TCD.20160701.geo', 'TCD.20160802').replace('TCD.20160701.cms', 'TCD.20160903') + 'smv.stages.trial.version = TCD.20160903\n',
    );
    expect((await w.state.adoptions()).map((r) => [r.stage, r.to, r.commit])).toEqual([
      ['com.acme.trial', 'TCD.20160903', b.commit],
      ['com.acme.cms', 'TCD.20160903', b.commit],
      ['com.acme.cms', 'TCD.20160802', a.commit],
      ['com.acme.geo', 'TCD.20160802', a.commit],
    ]);
  });

  it('killed after its push: the restart\'s reconciliation settles every stage of the commit as landed and tells the channel once; the resumed command answers with that commit', async () => {
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
    await expect(adoptAll(w, [['geo', 'TCD.20160802.geo'], ['cms', 'TCD.20160802.cms']])).rejects.toThrow('worker killed after its push');
    const pushed = w.remoteHead()!;
    const intents = await w.state.unsettledAdoptions();
    expect(intents.map((i) => [i.stage, i.commit])).toEqual([
      ['com.acme.geo', pushed],
      ['com.acme.cms', pushed],
    ]);
    expect(new Set(intents.map((i) => i.id)).size).toBe(2);

    // A restart reconciles first.
    const told: { channel: string; records: readonly AdoptionRecord[] }[] = [];
    const landed: AdoptionRecord[] = [];
    const summary = await reconcileAdoptions({
      state: w.state,
      topology: w.topology,
      workspaces: w.workspaces,
      tellLanded: async (channel, records) => void told.push({ channel, records }),
      onLanded: (record) => void landed.push(record),
    });
    expect(summary).toMatchObject({ landed: 2, abandoned: 0, unknown: [] });
    expect(told).toHaveLength(1);
    expect(told[0]!.channel).toBe('C0TEAMB');
    expect(told[0]!.records.map((r) => [r.stage, r.from, r.to, r.commit])).toEqual([
      ['com.acme.geo', 'TCD.20160701.geo', 'TCD.20160802.geo', pushed],
      ['com.acme.cms', 'TCD.20160701.cms', 'TCD.20160802.cms', pushed],
    ]);
    expect(landed).toHaveLength(2);
    expect(await w.state.unsettledAdoptions()).toEqual([]);

    // The durable command, resumed: its own landing, told already, said to the user; nothing new committed.
    const resumed = await adoptAll(w, [['geo', 'TCD.20160802.geo'], ['cms', 'TCD.20160802.cms']], { resumedSince: receivedAt });
    expect(resumed).toMatchObject({ ok: true, status: 'already-pinned' });
    expect(resumed.ok && resumed.status === 'already-pinned' && resumed.landedBefore?.map((r) => r.commit)).toEqual([pushed, pushed]);
    expect(w.remoteHead()).toBe(pushed);
    expect(await w.state.adoptions()).toHaveLength(2);
  });

  it('killed after its push and resumed before any reconciliation: answered "adopted" with that commit, every stage settled landed', async () => {
    let killAfterPush = true;
    const w = await world({
      wrapRepo: (repo) => ({
        ...interceptPush(repo, () => undefined),
        push: async (target, opts) => {
          const pushed = await repo.push(target, opts);
          if (killAfterPush) {
            killAfterPush = false;
            throw new Error('worker killed after its push');
          }
          return pushed;
        },
      }),
    });
    const receivedAt = new Date(Date.now() - 1000).toISOString();
    await expect(adoptAll(w, [['geo', 'TCD.20160802.geo'], ['trial', 'TCD.20160802.trial']])).rejects.toThrow('worker killed');
    const pushed = w.remoteHead()!;

    const resumed = adopted(await adoptAll(w, [['geo', 'TCD.20160802.geo'], ['trial', 'TCD.20160802.trial']], { resumedSince: receivedAt }));

    expect(resumed.commit).toBe(pushed);
    expect(resumed.stages.map((s) => (s.status === 'adopted' ? [s.stage.fqn, s.previous] : null))).toEqual([
      ['com.acme.geo', 'TCD.20160701.geo'],
      ['com.acme.trial', null],
    ]);
    expect(await w.state.unsettledAdoptions()).toEqual([]);
    expect((await w.state.adoptions()).map((r) => r.commit)).toEqual([pushed, pushed]);
    expect(w.remoteLog()).toHaveLength(2);
  });
});
