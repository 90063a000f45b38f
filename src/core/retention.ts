// `/smv retention <publisher>` and GET /retention/<publisher> (SPEC §4, issue 28): which complete
// versions of a publisher no consumer pins effectively (safe to delete) and which are pinned, by
// whom, read from each consumer's repo as `/smv pins` reads it. A consumer whose repo cannot be
// read is named, and no version of a stage it could pin is called safe.
import type { EffectivePin } from '../domain/types.ts';
import type { VersionCatalog } from './catalog.ts';
import { pinTargetOf, type ConsumerSpec, type KnownStage, type Topology } from './topology.ts';

export interface RetentionPin {
  consumer: string;
  /** The repo file whose key SMV reads. */
  file: string;
  key: string;
}

export interface RetentionVersion {
  /** Stage FQN. */
  stage: string;
  /** What answers show (base name when unique). */
  stageName: string;
  version: string;
  /** No consumer pins it effectively, and every consumer that could was read. */
  safe: boolean;
  pinnedBy: RetentionPin[];
}

export interface RetentionReport {
  publisher: string;
  versions: RetentionVersion[];
  /** Consumers whose repo could not be read, and why. */
  unread: { consumer: string; reason: string }[];
  /** Files SMV merges that the bot cannot see (`~/.smv`): "safe" holds unless they pin. */
  unseen: string[];
}

export interface RetentionPorts {
  topology: Topology;
  catalog: VersionCatalog;
  /** The consumer's pins as SMV of its release reads them (throws when its repo cannot be read). */
  pinsOf(consumer: ConsumerSpec): Promise<{ pinOf(stage: KnownStage): EffectivePin; fileOf(pin: EffectivePin): string | null; unseen: string[] }>;
  describeReadError(error: unknown): string;
}

/** Whether `consumer` could pin `stage` at all (a connection consumer maps only the stages it reads). */
function couldPin(consumer: ConsumerSpec, stage: KnownStage): boolean {
  const target = pinTargetOf(consumer, stage.fqn);
  return target.style === 'stageVersion' || target.connection !== null;
}

export async function retentionOf(ports: RetentionPorts, publisherName: string): Promise<RetentionReport | { unknownPublisher: string; publishers: string[] }> {
  const { topology } = ports;
  const publisher = topology.publishers.find((p) => p.name === publisherName);
  if (!publisher) return { unknownPublisher: publisherName, publishers: topology.publishers.map((p) => p.name) };
  const stages = topology.stages.filter((s) => s.publisher.name === publisher.name);
  const pinned = new Map<string, RetentionPin[]>();
  const blind = new Set<string>();
  const unread: RetentionReport['unread'] = [];
  const unseen = new Set<string>();
  await Promise.all(
    topology.consumers.map(async (consumer) => {
      const relevant = stages.filter((stage) => couldPin(consumer, stage));
      if (relevant.length === 0) return;
      let pins: Awaited<ReturnType<RetentionPorts['pinsOf']>>;
      try {
        pins = await ports.pinsOf(consumer);
      } catch (error) {
        unread.push({ consumer: consumer.name, reason: ports.describeReadError(error) });
        for (const stage of relevant) blind.add(stage.fqn);
        return;
      }
      for (const file of pins.unseen) unseen.add(file);
      for (const stage of relevant) {
        const pin = pins.pinOf(stage);
        // Only what SMV reads protects a version: an unlisted stage's key or a non-hdfs connection is not read.
        if (pin.version === null || pin.key === null || pin.unlisted || pin.unmanaged) continue;
        const at = `${stage.fqn}\u0000${pin.version}`;
        pinned.set(at, [...(pinned.get(at) ?? []), { consumer: consumer.name, file: pins.fileOf(pin) ?? '?', key: pin.key }]);
      }
    }),
  );
  const versions: RetentionVersion[] = [];
  for (const stage of stages) {
    for (const entry of await ports.catalog.versionsOf(stage.fqn)) {
      const pinnedBy = (pinned.get(`${stage.fqn}\u0000${entry.version}`) ?? []).sort((a, b) => a.consumer.localeCompare(b.consumer));
      versions.push({ stage: stage.fqn, stageName: stage.displayName, version: entry.version, safe: pinnedBy.length === 0 && !blind.has(stage.fqn), pinnedBy });
    }
  }
  unread.sort((a, b) => a.consumer.localeCompare(b.consumer));
  return { publisher: publisher.name, versions, unread, unseen: [...unseen] };
}

/** The JSON of GET /retention/<publisher> (SPEC §4). */
export function retentionJson(report: RetentionReport) {
  return {
    publisher: report.publisher,
    versions: report.versions.map((v) => ({ stage: v.stage, version: v.version, safe: v.safe, pinnedBy: v.pinnedBy })),
    unread: report.unread.map((u) => u.consumer),
  };
}
