// A mounted publish dir scanned in one call: the local source with the store-neutral scan of
// core/publishSource.ts. Tests and tools use it; the bot goes through openPublishSources.
import { inspectSourceVersion, scanSource, type ScanOptions, type ScanResult } from '../../core/publishSource.ts';
import type { PublishedVersion } from '../../domain/types.ts';
import { LocalPublishSource } from './localSource.ts';
import type { WalkLimits } from './publishWalker.ts';

export type { SkippedEntry } from '../../core/publishSource.ts';
export type { WalkLimits } from './publishWalker.ts';

export type LocalScanOptions = ScanOptions & { limits?: Partial<WalkLimits> };
export type { LocalScanOptions as ScanOptions, ScanResult };

/** Lists `<publishDir>` and reads every version dir that `listed` does not answer true for; never throws for a missing dir. */
export function scanPublishDir(publishDir: string, opts: LocalScanOptions): Promise<ScanResult> {
  return scanSource(new LocalPublishSource(publishDir, opts.limits), opts);
}

/** Reads and interprets one version; undefined when `<publishDir>/<version>` does not exist. */
export function scanVersion(publishDir: string, version: string, opts: Omit<LocalScanOptions, 'listed'>): Promise<PublishedVersion | undefined> {
  return inspectSourceVersion(new LocalPublishSource(publishDir, opts.limits), version, opts);
}
