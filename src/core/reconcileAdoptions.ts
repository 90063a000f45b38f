import type { AdoptionIntent, AdoptionRecord } from '../domain/records.ts';
import type { StatePort } from './statePort.ts';
import type { ConsumerSpec, Topology } from './topology.ts';
import type { ConsumerWorkspaces } from './workspaces.ts';

export interface ReconcilePorts {
  state: Pick<StatePort, 'unsettledAdoptions' | 'abandonedAdoptionsSince' | 'settleAdoption'>;
  topology: Topology;
  workspaces: ConsumerWorkspaces;
  /** Ends what an earlier run left working in the consumer's clone (a push that outlived a crash). */
  endLeftovers?(consumer: ConsumerSpec): Promise<void>;
  /** Tells the channel an adoption interrupted by a restart did land: the records of one commit (several stages adopted at once), once. */
  tellLanded(channel: string, records: readonly AdoptionRecord[]): Promise<void>;
  /** Told of every adoption found landed (its announcement gains an "Adopted by" line). */
  onLanded?: (record: AdoptionRecord) => void;
  now?: () => Date;
  log?: { info(obj: object, msg: string): void; warn(obj: object, msg: string): void };
}

export interface ReconcileSummary {
  landed: number;
  abandoned: number;
  /** Still unsettled: the remote could not be asked (or the consumer is no longer configured). */
  unknown: AdoptionIntent[];
}

/** How long an abandoned adoption is still looked for on the remote: a remote may apply a push late. */
export const LATE_LANDING_WINDOW_MS = 24 * 60 * 60 * 1000;

/**
 * SPEC §6: an adoption recorded as intended but never settled (the bot died during its push) is
 * settled against the remote: its commit on the target branch → landed (recorded, and the user is
 * told), else abandoned. A remote can still apply a push after the sender died (its hook was
 * running), so abandoned ones of the last day are looked for again on every pass: a commit id
 * cannot appear on a branch by accident. Runs at start-up (`endLeftovers` then ends git processes
 * a killed bot left in the clones first) and again on a schedule while there is anything to look for;
 * under the consumer's lock, so an intent another live replica is pushing right now is never settled here.
 */
export async function reconcileAdoptions(ports: ReconcilePorts): Promise<ReconcileSummary> {
  const summary: ReconcileSummary = { landed: 0, abandoned: 0, unknown: [] };
  const now = () => (ports.now ?? (() => new Date()))();
  const since = new Date(now().getTime() - LATE_LANDING_WINDOW_MS).toISOString();
  const unsettled = await ports.state.unsettledAdoptions();
  const abandoned = await ports.state.abandonedAdoptionsSince(since);
  const byConsumer = new Map<string, { intent: AdoptionIntent; abandoned: boolean }[]>();
  for (const [list, wasAbandoned] of [[unsettled, false], [abandoned, true]] as const) {
    for (const intent of list) {
      const entries = byConsumer.get(intent.consumer) ?? [];
      entries.push({ intent, abandoned: wasAbandoned });
      byConsumer.set(intent.consumer, entries);
    }
  }

  for (const [name, entries] of byConsumer) {
    const consumer = ports.topology.consumer(name);
    if (!consumer) {
      ports.log?.warn({ consumer: name, intents: entries.length }, 'adoptions of a consumer no longer configured are left as they are');
      summary.unknown.push(...entries.filter((e) => !e.abandoned).map((e) => e.intent));
      continue;
    }
    await ports.workspaces.use(consumer, async (repo) => {
      await ports.endLeftovers?.(consumer);
      // With several replicas, one may have settled some while this one waited for the consumer.
      const still = new Set((await ports.state.unsettledAdoptions()).map((i) => i.id));
      // Intents of one commit (several stages adopted at once) land together: told in one message.
      const told = new Map<string, { channel: string | undefined; records: AdoptionRecord[] }>();
      const onRemote = new Map<string, boolean>();
      for (const { intent, abandoned: wasAbandoned } of entries.filter((e) => e.abandoned || still.has(e.intent.id))) {
        let there = onRemote.get(`${intent.target} ${intent.commit}`);
        try {
          there ??= await repo.containsCommit(intent.target, intent.commit);
          onRemote.set(`${intent.target} ${intent.commit}`, there);
        } catch (error) {
          ports.log?.warn({ consumer: name, commit: intent.commit, err: String(error) }, 'could not check an adoption against the remote; will check again');
          if (!wasAbandoned) summary.unknown.push(intent);
          continue;
        }
        if (!there && wasAbandoned) continue;
        const record = await ports.state.settleAdoption(intent.id, there ? 'landed' : 'abandoned', now().toISOString());
        ports.log?.info(
          { consumer: name, stage: intent.stage, to: intent.to, commit: intent.commit, landed: there, late: wasAbandoned },
          'settled an adoption interrupted by a restart',
        );
        if (!record) {
          summary.abandoned++;
          continue;
        }
        summary.landed++;
        if (record.action === 'adopt') ports.onLanded?.(record);
        const landed = told.get(record.commit) ?? { channel: intent.channel ?? consumer.channels[0], records: [] };
        landed.records.push(record);
        told.set(record.commit, landed);
      }
      for (const { channel, records } of told.values()) {
        if (!channel) continue;
        await ports.tellLanded(channel, records).catch((error: unknown) => ports.log?.warn({ channel, err: String(error) }, 'could not tell the channel about a recovered adoption'));
      }
    });
  }
  return summary;
}
