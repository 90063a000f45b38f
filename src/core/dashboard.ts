import type { Freeze } from '../domain/records.ts';
import type { CatalogEntry, VersionCatalog } from './catalog.ts';
import { adoptTarget, describeReadError, mapWithLimit, oldEnoughFor } from './digest.ts';
import type { StagePin } from './pinsReport.ts';
import type { ConsumerSpec, Topology } from './topology.ts';

/** Consumers whose repos are read at once when an admin opens the dashboard. */
const READS_AT_ONCE = 4;

/** One stage of a consumer on the dashboard. */
export interface DashboardRow extends StagePin {
  /** What an Adopt latest button pins: the newest version the consumer may adopt now, when the pin is behind it or gone (none while it is frozen). */
  adopt: CatalogEntry | null;
}

export type DashboardConsumer =
  /** `freeze`: the consumer's freeze in force (`/smv freeze`), else null. */
  | { consumer: ConsumerSpec; ok: true; rows: DashboardRow[]; readAt: string; freeze: Freeze | null }
  | { consumer: ConsumerSpec; ok: false; error: string };

export interface Dashboard {
  userId: string;
  admin: boolean;
  /** The consumers the user may adopt for, in config order; empty for a stranger. */
  consumers: DashboardConsumer[];
}

export interface DashboardPorts {
  topology: Topology;
  /** PinsService.report: here with `fresh: false`, so opening the tab often reuses recent reads. */
  report(consumer: ConsumerSpec, opts: { fresh: boolean }): Promise<{ files: { readAt: string }; stages: StagePin[]; freeze?: Freeze | null }>;
  catalog: VersionCatalog;
  now(): Date;
  log?: { warn(obj: object, msg: string): void };
}

/** SPEC §4 App Home: the pins of every consumer the user may adopt for (all of them for admins). */
export async function dashboardFor(ports: DashboardPorts, userId: string): Promise<Dashboard> {
  const { topology } = ports;
  const admin = topology.admins.includes(userId);
  const mine = topology.consumers.filter((c) => topology.mayAdopt(c, userId));
  const now = ports.now();
  const consumers = await mapWithLimit(mine, READS_AT_ONCE, async (consumer): Promise<DashboardConsumer> => {
    try {
      const { files, stages, freeze = null } = await ports.report(consumer, { fresh: false });
      const oldEnough = oldEnoughFor(consumer, now);
      // A frozen consumer gets no Adopt buttons: a click could only be refused.
      const rows = await Promise.all(
        stages.map(async (sp): Promise<DashboardRow> => ({ ...sp, adopt: freeze ? null : await adoptTarget(ports.catalog, sp, oldEnough) })),
      );
      return { consumer, ok: true, rows, readAt: files.readAt, freeze };
    } catch (error) {
      ports.log?.warn({ err: error, consumer: consumer.name }, 'App Home: reading pins failed');
      return { consumer, ok: false, error: describeReadError(error) };
    }
  });
  return { userId, admin, consumers };
}
