// SMV stages: the `smv.stages` list, base names, which stage a module belongs to, and
// turning what a user typed into one configured stage (SPEC §2, §4).

import { parseProps, toMap } from './props.ts';
import type { StageRefusal } from './refusals.ts';
import type { Result, Stage } from './types.ts';

/** Java `String.trim()`: strips every character <= U+0020 at both ends. */
function javaTrim(s: string): string {
  return s.replace(/^[\u0000-\u0020]+|[\u0000-\u0020]+$/g, '');
}

/**
 * Splits an `smv.stages` value the way SMV does (`split(Array(',', ':')).map(_.trim)`),
 * dropping empty items and repeats. Continuations are already joined by the props parser,
 * so SMV's template `stage1, \` + `stage2` arrives here as `stage1, stage2`.
 */
export function parseStagesList(value: string): string[] {
  // A Set keeps this linear: an app conf may list thousands of stages.
  const stages = new Set<string>();
  for (const item of value.split(/[,:]/)) {
    const fqn = javaTrim(item);
    if (fqn !== '') stages.add(fqn);
  }
  return [...stages];
}

/** Stage FQNs listed in an app conf's `smv.stages` (empty when the key is absent). */
export function readStagesFromAppConf(text: string): string[] {
  return parseStagesList(toMap(parseProps(text)).get('smv.stages') ?? '');
}

export function toStage(fqn: string): Stage {
  return { fqn, baseName: fqn.slice(fqn.lastIndexOf('.') + 1) };
}

/**
 * Stage FQNs as a set, answering "which stage owns this module" by trying the module FQN's own
 * prefixes (at each `.`, longest first): cost grows with the FQN's length, not with the number
 * of stages (a publisher with 2,500 stages made a scan 9x slower with a linear search).
 */
export class StageIndex {
  private readonly fqns: ReadonlySet<string>;

  constructor(stageFqns: Iterable<string>) {
    this.fqns = new Set(stageFqns);
  }

  /** The longest stage FQN that prefixes `moduleFqn` followed by `.`; null when none does. */
  stageOf(moduleFqn: string): string | null {
    for (let dot = moduleFqn.lastIndexOf('.'); dot > 0; dot = moduleFqn.lastIndexOf('.', dot - 1)) {
      const prefix = moduleFqn.slice(0, dot);
      if (this.fqns.has(prefix)) return prefix;
    }
    return null;
  }
}

// Stage lists come from config and live as long as the bot: index each array once.
const indexes = new WeakMap<readonly string[], StageIndex>();

export function stageIndexOf(stageFqns: readonly string[]): StageIndex {
  let index = indexes.get(stageFqns);
  if (!index) indexes.set(stageFqns, (index = new StageIndex(stageFqns)));
  return index;
}

/** The stage a module belongs to: the longest stage FQN that prefixes the module FQN followed by `.`. */
export function stageOfModule(moduleFqn: string, stageFqns: readonly string[]): string | null {
  return stageIndexOf(stageFqns).stageOf(moduleFqn);
}

/** Base names shared by more than one stage, each with the FQNs sharing it (in input order). */
export function ambiguousBaseNames(stages: readonly Stage[]): Map<string, string[]> {
  const byBase = new Map<string, string[]>();
  for (const stage of stages) {
    const fqns = byBase.get(stage.baseName) ?? [];
    if (!fqns.includes(stage.fqn)) fqns.push(stage.fqn);
    byBase.set(stage.baseName, fqns);
  }
  for (const [base, fqns] of byBase) if (fqns.length < 2) byBase.delete(base);
  return byBase;
}

/** How a person should type each stage: its base name, or its FQN when the base name is shared. */
export function stageLabels(stages: readonly Stage[]): string[] {
  const ambiguous = ambiguousBaseNames(stages);
  return stages.map((s) => (ambiguous.has(s.baseName) ? s.fqn : s.baseName));
}

/**
 * Finds the stage a user means. An exact FQN wins (so a top-level stage `geo` stays
 * reachable next to `com.acme.geo`); otherwise a base name must name exactly one stage.
 */
export function resolveStage(input: string, stages: readonly Stage[]): Result<{ stage: Stage }, StageRefusal> {
  const typed = input.trim();
  const known = stageLabels(stages);
  if (typed === '') return { ok: false, code: 'missing-stage', known };
  const exact = stages.find((s) => s.fqn === typed);
  if (exact) return { ok: true, stage: exact };
  const byBase = stages.filter((s) => s.baseName === typed);
  const fqns = [...new Set(byBase.map((s) => s.fqn))];
  if (fqns.length === 1) return { ok: true, stage: byBase[0] as Stage };
  if (fqns.length > 1) return { ok: false, code: 'ambiguous-stage', typed, fqns };
  return { ok: false, code: 'unknown-stage', typed, known };
}
