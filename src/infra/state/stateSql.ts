// SQL both stores share: the version columns, and the compare-and-set guards built from the
// domain's status tables, so SQLite and PostgreSQL move a row under the same rule.
import { ADOPTION_SETTLEMENTS } from '../../domain/adoptionSettlement.ts';
import { ANNOUNCEMENT_TRANSITIONS, type AnnouncementEvent } from '../../domain/announcementStatus.ts';

export const VERSION_COLUMNS = 'v.publisher, v.version, v.stages, v.modules, v.module_count, v.bytes, v.completed_at, v.recorded_at, v.removed_at';

/** A status as an SQL literal; the statuses are the tables' own names, never input. */
function literal(status: string): string {
  if (!/^[a-z_]+$/.test(status)) throw new Error(`not a status name: ${status}`);
  return `'${status}'`;
}

/** `<column> IN (…)`: the statuses `event` applies in. */
export function statusIn(event: AnnouncementEvent, column = 'status'): string {
  return `${column} IN (${ANNOUNCEMENT_TRANSITIONS[event].from.map(literal).join(', ')})`;
}

/** The status `event` leads to, as an SQL literal. */
export function statusAfter(event: AnnouncementEvent): string {
  return literal(ANNOUNCEMENT_TRANSITIONS[event].to);
}

/** Whether an adoption in `state` may be settled as the outcome bound at `outcome` (a placeholder). */
export function settlementGuard(outcome: string, column = 'state'): string {
  const cases = Object.entries(ADOPTION_SETTLEMENTS).map(([to, from]) => `(${outcome} = ${literal(to)} AND ${column} IN (${from.map(literal).join(', ')}))`);
  return `(${cases.join(' OR ')})`;
}
