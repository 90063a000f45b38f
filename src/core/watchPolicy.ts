// Which versions to watch after a scan (best effort; the schedule catches anything missed):
// those still being written, so their completion is noticed without waiting for cron, and for
// versions only waiting out settleSeconds, the moment to look again.
import type { VersionScanSummary } from './versionScan.ts';
import type { PublisherSpec } from './topology.ts';

export interface WatchPlan {
  /** Version dir names still being written. */
  versions: string[];
  /** When the earliest settling version will be complete (epoch ms), or null. */
  wakeAt: number | null;
}

/** One plan per publisher, in the order given. A version skipped as unsafe is never watched: its tree may loop or be huge. */
export function watchPlans(publishers: readonly PublisherSpec[], summary: Pick<VersionScanSummary, 'pending'>): WatchPlan[] {
  return publishers.map((publisher) => {
    const unfinished = summary.pending.filter((p) => p.publisher === publisher.name && !p.version.unsafe).map((p) => p.version);
    const settling = unfinished.filter((v) => v.settling);
    // A little after the settle time, so the version is complete when looked at.
    const wakeAt = settling.length ? Math.min(...settling.map((v) => v.lastChangeMs + publisher.settleSeconds * 1000)) + 50 : null;
    return { versions: unfinished.map((v) => v.version), wakeAt };
  });
}
