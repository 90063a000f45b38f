// `/smv releases` for every stage lists stages only until an answer is full: 1,500 stages cost
// what the message shows, and the answer still says how many it left out. A real SQLite store
// under the catalog; its reads are counted on the way through.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { StateCatalog } from '../src/core/catalog.ts';
import { listReleases } from '../src/core/releases.ts';
import type { StatePort } from '../src/core/statePort.ts';
import { Topology } from '../src/core/topology.ts';
import { SqliteState } from '../src/infra/state/sqliteState.ts';
import { releasesAnswerFull, renderReleases } from '../src/slack/render/answers.ts';
import { AT, newVersion } from './support/stateRecords.ts';

const STAGES = Array.from({ length: 1500 }, (_, i) => `com.acme.area${String(i).padStart(4, '0')}.s${String(i).padStart(4, '0')}`);

let dataDir: string;
let store: StatePort;
beforeEach(async () => {
  dataDir = await mkdtemp(path.join(os.tmpdir(), 'smvbot-releases-'));
  store = (await SqliteState.open(dataDir)).store;
  const versions = STAGES.flatMap((stage, i) =>
    [1, 2].map((d) => newVersion(`TCD.2016080${d}.s${String(i).padStart(4, '0')}`, { stages: [stage], modules: [{ fqn: `${stage}.Zip`, stage, bytes: 10 }] })),
  );
  await store.recordVersions('public-data', versions, { channels: ['C0ANNOUNCE'], silent: true, at: AT });
});
afterEach(async () => {
  await store.close();
  await rm(dataDir, { recursive: true, force: true });
});

describe('`/smv releases` of every stage', () => {
  it('reads only the stages an answer can show, and counts the rest in "… and N more"', async () => {
    const topology = new Topology([{ name: 'public-data', publishDir: dataDir, stages: STAGES, channels: ['C0ANNOUNCE'], settleSeconds: 0 }], [], []);
    const asked = new Set<string>();
    const catalog = new StateCatalog({
      versionsOfStage: (stage, opts) => {
        asked.add(stage);
        return store.versionsOfStage(stage, opts);
      },
      countPublishedOfStage: (stage) => store.countPublishedOfStage(stage),
    });
    const { list, unlisted } = await listReleases(topology, catalog, { full: releasesAnswerFull });
    expect(list.length + unlisted).toBe(1500);
    expect(asked.size).toBe(list.length);
    expect(list.length).toBeLessThan(1500 / 2);

    const message = renderReleases(list, null, undefined, unlisted);
    const text = (message.blocks ?? []).map((b) => JSON.stringify(b)).join('\n');
    const shown = STAGES.filter((s) => text.includes(`\`${s}\``));
    const more = Number(/… and (\d+) more/.exec(text)?.[1]);
    // In the topology's order, none skipped, and every stage either shown or counted.
    expect(shown).toEqual(topology.stages.slice(0, shown.length).map((s) => s.fqn));
    expect(shown.length + more).toBe(1500);
    expect(shown.length).toBeLessThanOrEqual(list.length);
  });
});
