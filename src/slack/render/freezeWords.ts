// How a change freeze reads (`/smv freeze`): in refusals, in `/smv pins`, on App Home and in the
// answers to freeze and unfreeze (freezes.ts). One wording of "frozen by whom, until when, why".
import type { Freeze } from '../../domain/records.ts';
import { formatTime } from './format.ts';
import type { TextStyle } from './refusals.ts';

/**
 * When a freeze ends, as a phrase: `until 2026-12-31 23:59 UTC`. A freeze typed `until 2026-12-31`
 * ends at the next midnight (UTC) and is shown as that day's last minute; null: until unfrozen.
 */
export function freezeEndText(until: string | null): string {
  if (until === null) return 'until someone unfreezes it';
  const end = new Date(until);
  if (Number.isNaN(end.getTime())) return `until ${until}`;
  const midnight = end.getUTCHours() === 0 && end.getUTCMinutes() === 0 && end.getUTCSeconds() === 0 && end.getUTCMilliseconds() === 0;
  return midnight ? `until ${new Date(end.getTime() - 60_000).toISOString().slice(0, 10)} 23:59 UTC` : `until ${formatTime(until)}`;
}

/** `frozen by <@U…> until 2026-12-31 23:59 UTC (quarter-end runs)`. */
export function frozenByText(freeze: Freeze, style: Pick<TextStyle, 'esc' | 'mention'>): string {
  return `frozen by ${style.mention(freeze.by.id)} ${freezeEndText(freeze.until)}${freeze.reason ? ` (${style.esc(freeze.reason)})` : ''}`;
}
