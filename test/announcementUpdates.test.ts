// Announcements updated in place (SPEC §4) when the schema facts of a version cannot be read: the
// use case with the real SQLite state; the describe port stands for a version dir that fails to
// read, the update port for Slack's chat.update.
import { describe, expect, it } from 'vitest';
import { AnnouncementUpdates } from '../src/core/announcementUpdates.ts';
import type { AnnouncementBatch } from '../src/core/announcementDelivery.ts';
import { createLogger } from '../src/infra/runtime/logger.ts';
import { AT, KEY, newVersion } from './support/stateRecords.ts';
import { tempStates } from './support/tempState.ts';

const temp = tempStates();

describe('updating an announcement', () => {
  it('without the schema facts when they cannot be read: still updated, and the failure is logged', async () => {
    const { state } = await temp.open();
    await state.recordVersions('public-data', [newVersion(KEY.version)], { channels: [KEY.channel], silent: false, at: AT });
    await state.claimAnnouncements([KEY], AT);
    await state.markPosted([KEY], '1722592860.000100', AT);
    await state.deprecate({ stage: 'com.acme.geo', version: KEY.version, reason: 'wrong zip codes', by: { id: 'U0ADMIN', name: 'Ada Admin' }, at: AT });
    const lines: string[] = [];
    const updated: { channel: string; ts: string; batch: AnnouncementBatch }[] = [];
    const updates = new AnnouncementUpdates({
      state,
      describe: async () => {
        throw new Error('EIO: i/o error, read');
      },
      update: async (channel, ts, batch) => void updated.push({ channel, ts, batch }),
      log: createLogger({ level: 'info', destination: { write: (line: string) => void lines.push(line) } }),
    });

    await updates.refresh('public-data', KEY.version);

    expect(updated).toHaveLength(1);
    expect(updated[0]).toMatchObject({ channel: KEY.channel, ts: '1722592860.000100' });
    expect(updated[0]!.batch.versions[0]).toMatchObject({ facts: null, notes: { deprecated: [{ version: KEY.version, reason: 'wrong zip codes' }] } });
    const warned = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(warned).toEqual([
      expect.objectContaining({
        level: 40,
        publisher: 'public-data',
        version: KEY.version,
        err: 'EIO: i/o error, read',
        msg: 'could not read the schema change of a version; updating its announcement without',
      }),
    ]);
  });
});
