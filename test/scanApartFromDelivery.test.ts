// Posting runs apart from scanning (issue 10: a rescan that found one new version waited for its
// post, about 1 s when Slack's pacing applied): a scan while a post hangs records at once, and
// everything is still posted exactly once. The use case with the real SQLite state and scanner.
import { describe, expect, it } from 'vitest';
import { ScanAndAnnounce } from '../src/core/scanAndAnnounce.ts';
import { LocalPublishSource } from '../src/infra/publish/localSource.ts';
import { exportState } from './support/stateDump.ts';
import { writeVersion } from '../dev/world/publishFixtures.ts';
import { tempStates } from './support/tempState.ts';

const temp = tempStates();

describe('scans and posts run apart', () => {
  it('a scan while a post is still waiting on Slack records the new version at once; each is posted once', async () => {
    const publishDir = temp.dir();
    const { state, dataDir } = await temp.open();
    const posted: string[] = [];
    let release: () => void = () => undefined;
    let slackAnswers = Promise.resolve();
    const scanner = new ScanAndAnnounce({
      publishers: [{ name: 'public-data', publishDir, stages: ['com.acme.geo'], channels: ['C0ANNOUNCE'], settleSeconds: 0 }],
      sources: (dir) => new LocalPublishSource(dir),
      state,
      announce: async (channel, { versions }) => {
        await slackAnswers;
        posted.push(...versions.map((v) => `${channel} ${v.version.version}`));
        return { ts: `${1700000000 + posted.length}.000100` };
      },
    });
    await scanner.trigger(); // first sight: history recorded silently

    slackAnswers = new Promise((resolve) => (release = resolve));
    writeVersion(publishDir, 'TCD.20160801.geo', [{ fqn: 'com.acme.geo.GeoSummary' }]);
    const first = scanner.trigger();
    // Its post hangs: the next scan does not wait for it.
    await expect.poll(() => exportState(dataDir).versions.find((v) => v.version === 'TCD.20160801.geo')?.announcements.C0ANNOUNCE?.status).toBe('in_flight');
    writeVersion(publishDir, 'TCD.20160802.geo', [{ fqn: 'com.acme.geo.GeoSummary' }]);
    expect(await scanner.trigger({ post: false })).toMatchObject({ recorded: 1 });
    expect(posted).toEqual([]);
    expect(exportState(dataDir).versions.find((v) => v.version === 'TCD.20160802.geo')?.announcements.C0ANNOUNCE?.status).toBe('pending');

    release();
    expect(await first).toMatchObject({ recorded: 1, announced: 1 });
    expect(await scanner.trigger()).toMatchObject({ recorded: 0, announced: 1 });
    expect(await scanner.trigger()).toMatchObject({ recorded: 0, announced: 0 });
    expect(posted).toEqual(['C0ANNOUNCE TCD.20160801.geo', 'C0ANNOUNCE TCD.20160802.geo']);
  });
});
