// Announcements that stay true (SPEC §4): when a version is deprecated (or that is taken back) or
// adopted, every message announcing it is rendered again from the state and updated in place.
// Best effort: the deprecation or adoption itself has happened whether or not Slack takes the update.
import { KeyedQueue } from './keyedQueue.ts';
import type { AnnouncementBatch, AnnouncementNotes } from './announcementDelivery.ts';
import type { StatePort } from './statePort.ts';
import type { VersionRecord } from '../domain/records.ts';
import type { ReleaseFacts } from './releaseFacts.ts';

export interface AnnouncementUpdatePorts {
  state: Pick<StatePort, 'postedMessagesOf' | 'messageContents' | 'deprecationsOf' | 'adoptions'>;
  /** Replaces the message `ts` in `channel` with this rendering (chat.update). */
  update(channel: string, ts: string, batch: AnnouncementBatch): Promise<void>;
  /** The same schema change and data-quality facts the first post showed. */
  describe?: (publisher: string, version: VersionRecord) => Promise<ReleaseFacts | null>;
  log?: { warn(obj: object, msg: string): void };
}

/** How many adoptions of a stage are looked through for a version's "Adopted by" lines. */
const ADOPTIONS_LOOKED_AT = 200;

export class AnnouncementUpdates {
  // One update per message at a time, each rendered from the state as it is when it runs:
  // two adoptions landing together cannot leave the older rendering last.
  private readonly queue = new KeyedQueue(100);

  constructor(private readonly ports: AnnouncementUpdatePorts) {}

  /** Every message announcing the version, rendered again with its notes. */
  async refresh(publisher: string, version: string): Promise<void> {
    let messages: { channel: string; ts: string }[];
    try {
      messages = await this.ports.state.postedMessagesOf(publisher, version);
    } catch (error) {
      this.ports.log?.warn({ err: error, publisher, version }, 'could not look up the announcements to update');
      return;
    }
    // updateOne logs its own failures; the queue refuses only when full, and then the updates already
    // waiting for the message render the state as it is when they run, this change included.
    await Promise.all(messages.map(({ channel, ts }) => this.queue.run(`${channel}\0${ts}`, () => this.updateOne(channel, ts)).catch(() => undefined)));
  }

  private async updateOne(channel: string, ts: string): Promise<void> {
    try {
      const { versions, layout } = await this.ports.state.messageContents(channel, ts);
      if (!versions.length) return;
      const annotated = await Promise.all(
        versions.map(async (v) => ({
          ...v,
          notes: await this.notesOf(v.version.version, v.version.stages),
          facts: await this.factsOf(v.publisher, v.version),
        })),
      );
      const place = layout ?? { part: 1, parts: 1, total: annotated.length };
      await this.ports.update(channel, ts, { ...place, versions: annotated });
    } catch (error) {
      this.ports.log?.warn({ err: error, channel, ts }, 'could not update an announcement');
    }
  }

  /** The schema facts, or none when they cannot be read: the update still shows what it is for (warned). */
  private async factsOf(publisher: string, version: VersionRecord): Promise<ReleaseFacts | null> {
    if (!this.ports.describe) return null;
    try {
      return await this.ports.describe(publisher, version);
    } catch (error) {
      this.ports.log?.warn({ publisher, version: version.version, err: (error as Error).message }, 'could not read the schema change of a version; updating its announcement without');
      return null;
    }
  }

  private async notesOf(version: string, stages: readonly string[]): Promise<AnnouncementNotes> {
    const deprecated = (await Promise.all(stages.map((stage) => this.ports.state.deprecationsOf(stage)))).flat().filter((d) => d.version === version);
    const adoptions = (await Promise.all(stages.map((stage) => this.ports.state.adoptions({ stage, limit: ADOPTIONS_LOOKED_AT })))).flat();
    const latestPerConsumer = new Map<string, AnnouncementNotes['adoptedBy'][number] & { at: string }>();
    for (const a of adoptions) {
      if (a.action !== 'adopt' || a.to !== version) continue;
      const seen = latestPerConsumer.get(a.consumer);
      if (!seen || a.at > seen.at) latestPerConsumer.set(a.consumer, { consumer: a.consumer, stage: a.stage, user: a.user, at: a.at });
    }
    const adoptedBy = [...latestPerConsumer.values()].sort((x, y) => x.at.localeCompare(y.at)).map(({ consumer, stage, user }) => ({ consumer, stage, user }));
    return { deprecated, adoptedBy };
  }
}
