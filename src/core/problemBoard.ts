// What an operator must fix, as `/healthz` lists it (SPEC §4 `problems`), kept per source so a
// scan replaces exactly what it found last time. Each problem is logged when it appears and
// when it clears, not on every scan that sees it again.

import type { SourceTrouble } from './publishSource.ts';

export interface Problem {
  kind: string;
  detail: string;
}

export interface ProblemLog {
  warn(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
}

/** Problems listed in `/healthz` at most; the rest are counted in one last entry. */
const MAX_LISTED = 100;

const keyOf = (p: Problem) => `${p.kind}\u0000${p.detail}`;

export class ProblemBoard {
  private readonly bySource = new Map<string, Map<string, Problem>>();

  constructor(private readonly log?: ProblemLog) {}

  /** Replaces one source's problems (e.g. one publisher's after its scan). */
  set(source: string, problems: readonly Problem[]): void {
    const before = this.bySource.get(source) ?? new Map<string, Problem>();
    const after = new Map(problems.map((p) => [keyOf(p), p]));
    for (const [key, p] of after) if (!before.has(key)) this.log?.warn({ source, kind: p.kind }, p.detail);
    for (const [key, p] of before) if (!after.has(key)) this.log?.info({ source, kind: p.kind }, `resolved: ${p.detail}`);
    if (after.size) this.bySource.set(source, after);
    else this.bySource.delete(source);
  }

  list(): Problem[] {
    const all = [...this.bySource.values()].flatMap((m) => [...m.values()]);
    if (all.length <= MAX_LISTED) return all;
    return [...all.slice(0, MAX_LISTED - 1), { kind: 'more', detail: `… and ${all.length - MAX_LISTED + 1} more problems (see the bot log)` }];
  }
}

/**
 * What a publisher's listing could not read: `publish-dir`, with the store's `cause` (not-found,
 * auth, permission, timeout, standby, safe-mode, throttled, unavailable, unreadable) when the
 * store could not be listed; ignored names have no cause.
 */
export function publishDirProblems(publisher: string, result: { problems: readonly string[]; troubles: readonly SourceTrouble[] }): (Problem & { cause?: string })[] {
  const causes = new Map(result.troubles.map((t) => [t.detail, t.kind]));
  return result.problems.map((detail) => {
    const cause = causes.get(detail);
    return { kind: 'publish-dir', ...(cause !== undefined && { cause }), detail: `${publisher}: ${detail}` };
  });
}

/** One problem per version the scan refused to read in full, naming the first few entries. */
export function unsafeVersionProblems(publisher: string, skipped: readonly { path: string; reason: string }[]): Problem[] {
  const byVersion = new Map<string, string[]>();
  for (const s of skipped) {
    const slash = s.path.indexOf('/');
    const version = slash < 0 ? s.path : s.path.slice(0, slash);
    const what = slash < 0 ? `the version dir ${s.reason}` : `${s.path.slice(slash + 1)} ${s.reason}`;
    byVersion.set(version, [...(byVersion.get(version) ?? []), what]);
  }
  return [...byVersion].map(([version, whats]) => ({
    kind: 'version-skipped-unsafe',
    detail:
      `${publisher}: version ${version} is not announced or adoptable: ${whats.slice(0, 3).join('; ')}` +
      (whats.length > 3 ? `; and ${whats.length - 3} more` : ''),
  }));
}

/**
 * A failure that may repeat on every run (a scan, a poll): logged when it starts and once when a
 * run works again (with how often it failed meanwhile), never on each repeat in between.
 */
export class RecurringFailure {
  private failing = false;
  private repeats = 0;

  constructor(
    private readonly what: string,
    private readonly log?: { info(obj: object, msg: string): void } & Record<'warn' | 'error', (obj: object, msg: string) => void>,
    private readonly level: 'warn' | 'error' = 'warn',
  ) {}

  failed(error: unknown): void {
    if (this.failing) {
      this.repeats++;
      return;
    }
    this.failing = true;
    this.log?.[this.level]({ err: error }, `${this.what} failed (not logged again until it works again)`);
  }

  succeeded(): void {
    if (!this.failing) return;
    this.log?.info({ failedAgain: this.repeats }, `${this.what} works again`);
    this.failing = false;
    this.repeats = 0;
  }
}
