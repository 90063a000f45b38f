// Change freezes (SPEC §4 `/smv freeze`): how long one lasts, as typed, and whether one is still
// in force at a given moment. Pure: the clock is always passed in.
import type { Freeze } from './records.ts';

/** How long a freeze lasts, as typed: until unfrozen, for a number of hours, or through a day (UTC). */
export type FreezeSpan = { kind: 'open' } | { kind: 'for'; hours: number; typed: string } | { kind: 'until'; day: string };

/** What a `for` or `until` clause got wrong (the command's help words it). */
export type FreezeSpanProblem =
  | { kind: 'missing-value'; word: 'for' | 'until' }
  | { kind: 'bad-duration'; typed: string }
  | { kind: 'zero-duration'; typed: string }
  | { kind: 'too-long'; typed: string }
  | { kind: 'bad-date'; typed: string };

/** The longest `for`: ten years (a freeze meant to last longer needs no end: `/smv unfreeze` ends it). */
export const MAX_FREEZE_HOURS = 24 * 3650;

/** `for <N>h|d` or `until <YYYY-MM-DD>`; `word` is the keyword as typed (any case). */
export function parseFreezeSpan(word: string, value: string | undefined): FreezeSpan | FreezeSpanProblem {
  const keyword = word.toLowerCase() as 'for' | 'until';
  if (value === undefined) return { kind: 'missing-value', word: keyword };
  if (keyword === 'for') {
    const m = /^(\d{1,6})([hd])$/i.exec(value);
    if (!m) return { kind: 'bad-duration', typed: value };
    const hours = Number(m[1]) * (m[2]!.toLowerCase() === 'd' ? 24 : 1);
    if (hours === 0) return { kind: 'zero-duration', typed: value };
    if (hours > MAX_FREEZE_HOURS) return { kind: 'too-long', typed: value };
    return { kind: 'for', hours, typed: value.toLowerCase() };
  }
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  if (!m) return { kind: 'bad-date', typed: value };
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const date = new Date(Date.UTC(y, mo - 1, d));
  // 2026-02-30 rolls over into March: not a date.
  if (date.getUTCFullYear() !== y || date.getUTCMonth() !== mo - 1 || date.getUTCDate() !== d) return { kind: 'bad-date', typed: value };
  return { kind: 'until', day: value };
}

export function isFreezeSpan(x: FreezeSpan | FreezeSpanProblem): x is FreezeSpan {
  return x.kind === 'open' || x.kind === 'for' || x.kind === 'until';
}

/**
 * When a freeze set at `now` ends (ISO; null: until unfrozen). `until 2026-12-31` freezes through
 * that day in UTC: it ends at 2027-01-01T00:00:00.000Z.
 */
export function freezeEndOf(span: FreezeSpan, now: Date): string | null {
  switch (span.kind) {
    case 'open':
      return null;
    case 'for':
      return new Date(now.getTime() + span.hours * 3_600_000).toISOString();
    case 'until': {
      const [y, m, d] = span.day.split('-').map(Number) as [number, number, number];
      return new Date(Date.UTC(y, m - 1, d + 1)).toISOString();
    }
  }
}

/** The freeze when it is still in force at `now` (it ends when `until <= now`); else null. */
export function activeFreeze(freeze: Freeze | null | undefined, now: Date): Freeze | null {
  if (!freeze) return null;
  if (freeze.until !== null && Date.parse(freeze.until) <= now.getTime()) return null;
  return freeze;
}
