// A post Slack refused for good (not_in_channel, …) is not retried on every scan, but again an
// hour later (SPEC §4, issue 13): the use case with the real SQLite state, the real publish-dir
// scanner and a clock the test moves. The announce port stands for Slack's answers.
import { describe, expect, it } from 'vitest';
import { ScanAndAnnounce } from '../src/core/scanAndAnnounce.ts';
import { LocalPublishSource } from '../src/infra/publish/localSource.ts';
import { exportState } from './support/stateDump.ts';
import { classifyPostFailure } from '../src/slack/postFailures.ts';
import { writeVersion } from '../dev/world/publishFixtures.ts';
import { tempStates } from './support/tempState.ts';

const temp = tempStates();

function refusal(error: string): Error {
  return Object.assign(new Error(`An API error occurred: ${error}`), { code: 'slack_webapi_platform_error', data: { ok: false, error } });
}

describe('failed posts over time', () => {
  it('are left alone by scans within the hour, and posted once an hour has passed', async () => {
    const publishDir = temp.dir();
    const { state, dataDir } = await temp.open();
    let clock = Date.parse('2024-05-01T10:00:00Z');
    const answers: ('not_in_channel' | 'ok')[] = ['not_in_channel', 'ok'];
    const posted: string[] = [];
    const scanner = new ScanAndAnnounce({
      publishers: [{ name: 'public-data', publishDir, stages: ['com.acme.geo'], channels: ['C0ANNOUNCE'], settleSeconds: 0 }],
      sources: (dir) => new LocalPublishSource(dir),
      state,
      announce: async (channel, { versions }) => {
        const answer = answers.shift() ?? 'ok';
        if (answer !== 'ok') throw refusal(answer);
        posted.push(...versions.map((what) => `${channel} ${what.version.version}`));
        return { ts: `${clock / 1000}.000100` };
      },
      classifyPostFailure,
      now: () => new Date(clock),
    });

    await scanner.trigger(); // first sight: history recorded silently
    writeVersion(publishDir, 'TCD.20160802.geo', [{ fqn: 'com.acme.geo.GeoSummary' }]);
    expect(await scanner.trigger()).toMatchObject({ announced: 0, failedPosts: 1 });
    const failed = () => exportState(dataDir).versions.find((v) => v.version === 'TCD.20160802.geo')!.announcements.C0ANNOUNCE!;
    expect(failed()).toMatchObject({ status: 'failed', lastError: expect.stringContaining('not_in_channel') });

    clock += 59 * 60_000;
    expect(await scanner.trigger()).toMatchObject({ announced: 0, failedPosts: 0 });
    expect(failed().status).toBe('failed');

    clock += 2 * 60_000;
    expect(await scanner.trigger()).toMatchObject({ announced: 1, failedPosts: 0 });
    expect(posted).toEqual(['C0ANNOUNCE TCD.20160802.geo']);
    expect(failed()).toMatchObject({ status: 'posted', attempts: 2 });
  });
});
