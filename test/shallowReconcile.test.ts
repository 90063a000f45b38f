// Issue 24, "a landed adopt recorded as abandoned" (SPEC §6): reconciliation decides landed or
// abandoned from the remote branch's real history, whatever the depth of the replica's clone.
// Two replicas as the bot builds them (each its own clone in its own data dir, one shared state),
// real git against one bare remote; only the crash is staged, by setting an intent back.
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { AdoptService } from '../src/core/adopt.ts';
import { reconcileAdoptions } from '../src/core/reconcileAdoptions.ts';
import { ConsumerWorkspaces } from '../src/core/workspaces.ts';
import { CHECK_DEEPEN_FIRST, ConsumerRepo } from '../src/infra/git/consumerRepo.ts';
import { createGitRunner } from '../src/infra/git/gitRunner.ts';
import { RepoPinPublisher } from '../src/core/pinTransaction.ts';
import { DATABASE_FILE } from '../src/infra/state/sqliteState.ts';
import { ADOPTER, TEST_COMMITTER, countCalls, createGitWorld, type GitWorld } from './support/gitWorld.ts';

const worlds: GitWorld[] = [];
afterEach(async () => {
  await Promise.all(worlds.splice(0).map((w) => w.cleanup()));
});

const VERSIONS = ['TCD.20160901.geo', 'TCD.20160902.geo', 'TCD.20160903.geo'] as const;

/** Replica B: the same topology and state as the world's bot (replica A), its own clone in its own data dir. */
function secondReplica(w: GitWorld) {
  const calls: string[][] = [];
  const runner = countCalls(createGitRunner({ ...process.env, HOME: path.join(w.root, 'home') }), calls);
  const cloneDir = path.join(w.root, 'data-b', 'repos', w.consumer.name);
  const repo = new ConsumerRepo(runner, cloneDir, w.consumer.repo, w.consumer.branch);
  const workspaces = new ConsumerWorkspaces(() => repo);
  const adopt = new AdoptService({
    topology: w.topology,
    catalog: w.catalog,
    inspectVersion: (dir, version, o) => w.inspectVersion(dir, version, o),
    workspaces,
    publisher: new RepoPinPublisher({ state: w.state, committer: TEST_COMMITTER, sleep: async () => undefined }),
  });
  const adoptAs = async (version: string) => {
    const stage = w.topology.stage('com.acme.geo');
    if (!stage) throw new Error('no geo stage');
    return adopt.adopt({ consumer: w.consumer, stage, version, actor: { id: ADOPTER.id, name: ADOPTER.name } });
  };
  return { cloneDir, repo, workspaces, adoptAs, calls };
}

/** What a crash between push and settle leaves: the intent row still `intended`. */
function backToIntended(w: GitWorld, commit: string): string {
  const db = new Database(path.join(w.dataDir, DATABASE_FILE));
  try {
    const row = db.prepare('SELECT id FROM adoptions WHERE commit_sha = ?').get(commit) as { id: string } | undefined;
    if (!row) throw new Error(`no adoption row for ${commit}`);
    db.prepare("UPDATE adoptions SET state = 'intended', settled_at = NULL WHERE id = ?").run(row.id);
    return row.id;
  } finally {
    db.close();
  }
}

const reconcileOn = (w: GitWorld, workspaces: ConsumerWorkspaces) =>
  reconcileAdoptions({ state: w.state, topology: w.topology, workspaces, tellLanded: async () => undefined });

function isAncestorOnRemote(w: GitWorld, commit: string): boolean {
  try {
    w.remoteGit(['merge-base', '--is-ancestor', commit, 'refs/heads/main']);
    return true;
  } catch {
    return false;
  }
}

describe('reconciliation on a replica whose clone is shallow', () => {
  it('records an adopt another replica pushed below its shallow boundary as landed (the issue 24 repro)', async () => {
    const w = await createGitWorld({ versions: VERSIONS.map((version) => ({ version, stages: ['com.acme.geo'] })) });
    worlds.push(w);
    const b = secondReplica(w);

    // Replica B fetches once (its clone is now shallow at the remote's first commit) …
    await b.repo.resetToRemote();
    // … A adopts s01, s02; B adopts s03: B's fetch is --depth=1, so its clone is shallow at s02.
    const s01 = await w.adoptAs({ stage: 'geo', version: VERSIONS[0], userId: ADOPTER.id });
    const s02 = await w.adoptAs({ stage: 'geo', version: VERSIONS[1], userId: ADOPTER.id });
    const s03 = await b.adoptAs(VERSIONS[2]);
    for (const outcome of [s01, s02, s03]) expect(outcome).toMatchObject({ ok: true, status: 'adopted' });
    if (!s01.ok || s01.status !== 'adopted' || !s02.ok || s02.status !== 'adopted') throw new Error('adopt failed');
    const shallow = w.git(['-C', b.cloneDir, 'rev-parse', '--is-shallow-repository']).trim();
    expect(shallow, "B's clone is shallow").toBe('true');
    expect(w.git(['-C', b.cloneDir, 'cat-file', '-t', s02.commit]).trim()).toBe('commit');
    expect(() => w.git(['-C', b.cloneDir, 'cat-file', '-e', s01.commit]), "s01 is below B's boundary").toThrow();

    // A died after pushing s01 and before settling it.
    const id = backToIntended(w, s01.commit);
    expect((await w.state.unsettledAdoptions()).map((i) => i.id)).toEqual([id]);

    const summary = await reconcileOn(w, b.workspaces);
    expect(summary).toMatchObject({ landed: 1, abandoned: 0, unknown: [] });
    expect(await w.state.unsettledAdoptions()).toEqual([]);
    const rows = await w.state.adoptions();
    expect(rows.filter((r) => r.commit === s01.commit)).toHaveLength(1);
    // The remote agrees.
    expect(isAncestorOnRemote(w, s01.commit)).toBe(true);

    // B's deepened clone still adopts as before (its next fetch is --depth=1 again).
    const again = await b.adoptAs(VERSIONS[0]);
    expect(again).toMatchObject({ ok: true, status: 'adopted' });
    expect(w.remoteFile('conf/smv-user-conf.props')).toContain(`smv.stages.geo.version = ${VERSIONS[0]}`);
  });

  it('finds a commit many commits below the tip, and still records a commit the branch never got as abandoned', async () => {
    const w = await createGitWorld({ versions: VERSIONS.map((version) => ({ version, stages: ['com.acme.geo'] })) });
    worlds.push(w);
    const b = secondReplica(w);
    const s01 = await w.adoptAs({ stage: 'geo', version: VERSIONS[0], userId: ADOPTER.id });
    if (!s01.ok || s01.status !== 'adopted') throw new Error('adopt failed');
    // Teammates push more than one deepening round on top of it; B then clones at depth 1.
    for (let i = 0; i < CHECK_DEEPEN_FIRST * 2; i++) w.commitToRemote({ [`notes/${i}.txt`]: `${i}\n` }, `note ${i}`);
    await b.repo.resetToRemote();
    backToIntended(w, s01.commit);
    // A commit that never reached the branch: made in A's clone on top of the old tip, never pushed.
    w.git(['-C', w.cloneDir, 'commit', '-q', '--allow-empty', '-m', 'never pushed']);
    const lost = w.git(['-C', w.cloneDir, 'rev-parse', 'HEAD']).trim();
    await w.state.recordAdoptionIntent({
      id: 'lost-1',
      intendedAt: new Date().toISOString(),
      action: 'adopt',
      consumer: w.consumer.name,
      stage: 'com.acme.geo',
      from: VERSIONS[0],
      to: VERSIONS[1],
      commit: lost,
      parent: s01.commit,
      mode: 'push',
      target: 'main',
      user: { id: ADOPTER.id, name: ADOPTER.name },
      channel: 'C0TEAMB',
    });

    const summary = await reconcileOn(w, b.workspaces);
    expect(summary).toMatchObject({ landed: 1, abandoned: 1, unknown: [] });
    expect(isAncestorOnRemote(w, s01.commit)).toBe(true);
    expect(isAncestorOnRemote(w, lost)).toBe(false);
    // B fetched the branch's history in a few deepening rounds, not one commit at a time.
    const fetches = b.calls.filter((args) => args[0] === 'fetch').length;
    console.log(`reconcile on a clone ${CHECK_DEEPEN_FIRST * 2 + 3} commits deep: ${fetches} fetches`);
  });
});
