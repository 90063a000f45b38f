// Change freezes (SPEC §4 `/smv freeze`, `/smv unfreeze`): a consumer's adopters or an admin stop
// adopts and unpins for it, until a time or until unfrozen. The state holds the freeze (shared by
// replicas); whether it is still in force is decided at each check against the clock, never by a
// timer, so it ends exactly on time whether or not a bot was running then.
import { activeFreeze, freezeEndOf, type FreezeSpan } from '../domain/freezes.ts';
import type { Actor, Freeze } from '../domain/records.ts';
import type { AdoptRefusal, FreezeRefusal } from '../domain/refusals.ts';
import type { StatePort } from './statePort.ts';
import type { ConsumerSpec, Topology } from './topology.ts';

export interface FreezePorts {
  topology: Topology;
  state: Pick<StatePort, 'freezeOf' | 'setFreeze' | 'removeFreeze'>;
  now?: () => Date;
}

export interface FreezeRequest {
  consumer: ConsumerSpec;
  span: FreezeSpan;
  reason: string | null;
  actor: Actor;
  /** A durable command resumed after its worker died, received then: a freeze this user set since is its own. */
  resumedSince?: string;
}

export type FreezeOutcome =
  /** `replaced`: the freeze in force that this one replaced (null: none). */
  | { ok: true; status: 'frozen'; consumer: ConsumerSpec; freeze: Freeze; replaced: Freeze | null }
  | AdoptRefusal
  | FreezeRefusal;

export type UnfreezeOutcome =
  | { ok: true; status: 'unfrozen'; consumer: ConsumerSpec; freeze: Freeze }
  /** `ended`: a freeze that had already ended by itself (its row is cleared), else null. */
  | { ok: true; status: 'not-frozen'; consumer: ConsumerSpec; ended: Freeze | null }
  | AdoptRefusal;

export class FreezeService {
  private readonly now: () => Date;

  constructor(private readonly ports: FreezePorts) {
    this.now = ports.now ?? (() => new Date());
  }

  /** The consumer's freeze in force now, else null (one that has ended counts as none). */
  async activeOf(consumer: string): Promise<Freeze | null> {
    return activeFreeze(await this.ports.state.freezeOf(consumer), this.now());
  }

  /** Sets (or replaces) the consumer's freeze: its adopters and admins may. */
  async freeze(req: FreezeRequest): Promise<FreezeOutcome> {
    const { consumer, actor } = req;
    const refused = this.refuseActor('freeze', consumer, actor);
    if (refused) return refused;
    const now = this.now();
    const until = freezeEndOf(req.span, now);
    if (until !== null && Date.parse(until) <= now.getTime() && req.span.kind === 'until') {
      return { ok: false, code: 'freeze-in-past', consumer: consumer.name, day: req.span.day, until, today: now.toISOString().slice(0, 10) };
    }
    const freeze: Freeze = { consumer: consumer.name, by: actor, reason: req.reason, frozenAt: now.toISOString(), until };
    const previous = activeFreeze(await this.ports.state.setFreeze(freeze), now);
    // A resumed command finding the freeze its own worker set before dying replaced nothing.
    const own = previous && req.resumedSince !== undefined && previous.by.id === actor.id && Date.parse(previous.frozenAt) >= Date.parse(req.resumedSince);
    return { ok: true, status: 'frozen', consumer, freeze, replaced: own ? null : previous };
  }

  /** Ends the consumer's freeze now: its adopters and admins may. */
  async unfreeze(req: { consumer: ConsumerSpec; actor: Actor }): Promise<UnfreezeOutcome> {
    const { consumer, actor } = req;
    const refused = this.refuseActor('unfreeze', consumer, actor);
    if (refused) return refused;
    const removed = await this.ports.state.removeFreeze(consumer.name);
    if (removed && activeFreeze(removed, this.now())) return { ok: true, status: 'unfrozen', consumer, freeze: removed };
    return { ok: true, status: 'not-frozen', consumer, ended: removed };
  }

  private refuseActor(action: 'freeze' | 'unfreeze', consumer: ConsumerSpec, actor: Actor): AdoptRefusal | null {
    const { topology } = this.ports;
    if (topology.mayAdopt(consumer, actor.id)) return null;
    const ask = [...new Set([...consumer.adopters, ...topology.admins].filter((u) => u !== '*'))];
    return { ok: false, code: 'not-authorised', action, consumer: consumer.name, user: actor.id, ask };
  }
}
