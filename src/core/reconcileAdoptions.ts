import type { AdoptionIntent, AdoptionRecord } from '../domain/records.ts';
import type { StatePort } from './statePort.ts';
import type { ConsumerSpec, Topology } from './topology.ts';
import type { ConsumerWorkspaces } from './workspaces.ts';

export interface ReconcilePorts {
  state: Pick<StatePort, 'unsettledAdoptions' | 'settleAdoption'>;
  topology: Topology;
  workspaces: ConsumerWorkspaces;
  /** Ends what an earlier run left working in the consumer's clone (a push that outlived a crash). */
  endLeftovers?(consumer: ConsumerSpec): Promise<void>;
  /** Tells the channel an adoption interrupted by a restart did land. */
  tellLanded(channel: string, record: AdoptionRecord): Promise<void>;
  now?: () => Date;
  log?: { info(obj: object, msg: string): void; warn(obj: object, msg: string): void };
}

export interface ReconcileSummary {
  landed: number;
  abandoned: number;
  /** Still unsettled: the remote could not be asked (or the consumer is no longer configured). */
  unknown: AdoptionIntent[];
}

/**
 * SPEC §6: an adoption recorded as intended but never settled (the bot died during its push) is
 * settled against the remote: its commit on the target branch → landed (recorded, and the user
 * is told), else abandoned. Runs at start-up, before any new adopt can touch the clones; under the
 * consumer's lock, so an intent another live replica is pushing right now is never settled here.
 */
export async function reconcileAdoptions(ports: ReconcilePorts): Promise<ReconcileSummary> {
  const summary: ReconcileSummary = { landed: 0, abandoned: 0, unknown: [] };
  const now = () => (ports.now ?? (() => new Date()))().toISOString();
  const intents = await ports.state.unsettledAdoptions();
  const byConsumer = new Map<string, AdoptionIntent[]>();
  for (const intent of intents) byConsumer.set(intent.consumer, [...(byConsumer.get(intent.consumer) ?? []), intent]);

  for (const [name, list] of byConsumer) {
    const consumer = ports.topology.consumer(name);
    if (!consumer) {
      ports.log?.warn({ consumer: name, intents: list.length }, 'unsettled adoptions of a consumer no longer configured; left as they are');
      summary.unknown.push(...list);
      continue;
    }
    await ports.workspaces.use(consumer, async (repo) => {
      await ports.endLeftovers?.(consumer);
      // With several replicas, one may have settled some while this one waited for the consumer.
      const still = new Set((await ports.state.unsettledAdoptions()).map((i) => i.id));
      for (const intent of list.filter((i) => still.has(i.id))) {
        let there: boolean;
        try {
          there = await repo.containsCommit(intent.target, intent.commit);
        } catch (error) {
          ports.log?.warn({ consumer: name, commit: intent.commit, err: String(error) }, 'could not check an interrupted adoption against the remote; will check at the next start');
          summary.unknown.push(intent);
          continue;
        }
        const record = await ports.state.settleAdoption(intent.id, there ? 'landed' : 'abandoned', now());
        ports.log?.info({ consumer: name, stage: intent.stage, to: intent.to, commit: intent.commit, landed: there }, 'settled an adoption interrupted by a restart');
        if (!record) {
          summary.abandoned++;
          continue;
        }
        summary.landed++;
        const channel = intent.channel ?? consumer.channels[0];
        if (channel) await ports.tellLanded(channel, record).catch((error: unknown) => ports.log?.warn({ channel, err: String(error) }, 'could not tell the channel about a recovered adoption'));
      }
    });
  }
  return summary;
}
