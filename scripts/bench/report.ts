// Figures and how they are printed: one table for people, one JSON line per figure for tools.
import { round } from './stats.ts';

/**
 * One measured figure. `goal` is written as the JSON shows it: `<=1.2` is a bound on `ratio`
 * (bot ÷ floor, both measured in the same run); `<=1000ms` or `<=150MB` bounds `value` itself.
 * Figures with no goal are context for the ones that have one (met is then null).
 */
export interface Figure {
  figure: string;
  value: number;
  unit: 'ms' | 'MB' | 'count';
  floor: number | null;
  /** What the floor is, in words (for the table). */
  floorWhat?: string;
  ratio: number | null;
  goal: string | null;
  met: boolean | null;
  samples?: number;
  /** Extra context carried into the JSON line (counts, secondary percentiles…). */
  extra?: Record<string, number | string | boolean>;
}

/** A figure compared with a floor: ratio = value / floor, goal `<=limit` on the ratio. */
export function againstFloor(
  figure: string,
  value: number,
  floor: number,
  limit: number | null,
  more: Partial<Figure> = {},
): Figure {
  const ratio = floor > 0 ? value / floor : Number.POSITIVE_INFINITY;
  return {
    figure,
    value,
    unit: 'ms',
    floor,
    ratio,
    goal: limit === null ? null : `<=${limit}`,
    met: limit === null ? null : ratio <= limit,
    ...more,
  };
}

/** A figure with an absolute bound on its value, e.g. `<=1000ms`. */
export function againstLimit(figure: string, value: number, unit: Figure['unit'], limit: number | null, more: Partial<Figure> = {}): Figure {
  return {
    figure,
    value,
    unit,
    floor: null,
    ratio: null,
    goal: limit === null ? null : `<=${limit}${unit}`,
    met: limit === null ? null : value <= limit,
    ...more,
  };
}

export function jsonLine(f: Figure): string {
  return JSON.stringify({
    figure: f.figure,
    value: round(f.value),
    unit: f.unit,
    floor: f.floor === null ? null : round(f.floor),
    ratio: f.ratio === null ? null : round(f.ratio, 3),
    goal: f.goal,
    met: f.met,
    ...(f.samples !== undefined ? { samples: f.samples } : {}),
    ...(f.extra ?? {}),
  });
}

export function table(figures: readonly Figure[]): string {
  const rows = [
    ['figure', 'value', 'floor', 'ratio', 'goal', 'met', 'floor is'],
    ...figures.map((f) => [
      f.figure,
      `${fmt(f.value)} ${f.unit}`,
      f.floor === null ? '-' : `${fmt(f.floor)} ${f.unit}`,
      f.ratio === null ? '-' : f.ratio < 0.1 ? `${(f.ratio * 100).toFixed(2)}%` : `${f.ratio.toFixed(2)}×`,
      f.goal ?? '(context)',
      f.met === null ? '' : f.met ? 'yes' : 'NO',
      f.floorWhat ?? '',
    ]),
  ];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  const line = (r: string[]) => r.map((cell, i) => (i === 0 || i >= 4 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('  ').trimEnd();
  return [line(rows[0]!), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.slice(1).map(line)].join('\n');
}

function fmt(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  return n >= 100 ? n.toFixed(0) : n >= 10 ? n.toFixed(1) : n.toFixed(2);
}
