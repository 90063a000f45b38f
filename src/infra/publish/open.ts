// The one place that knows which store a publishDir is on and opens its source (SPEC §4:
// a mounted path, `webhdfs://`/`swebhdfs://` HDFS, `s3://bucket/prefix`).
import type { PublishSource, PublishSources } from '../../core/publishSource.ts';
import { LocalPublishSource } from './localSource.ts';

import type { StoreSettings } from '../config/env.ts';

export type PublishStoreSettings = StoreSettings;

export type PublishStoreKind = 'local' | 'webhdfs' | 's3';

/** Which store a configured publishDir names: a URL scheme, else a path on this machine. */
export function publishStoreKind(location: string): PublishStoreKind | { unknownScheme: string } {
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//.exec(location)?.[1]?.toLowerCase();
  if (scheme === undefined) return 'local';
  if (scheme === 'webhdfs' || scheme === 'swebhdfs') return 'webhdfs';
  if (scheme === 's3') return 's3';
  return { unknownScheme: scheme };
}

/** Sources by location, one per location for the process (a source keeps what it learnt, e.g. the active NameNode). */
export function openPublishSources(settings: PublishStoreSettings): PublishSources {
  void settings;
  const open = new Map<string, PublishSource>();
  return (location) => {
    let source = open.get(location);
    if (source === undefined) {
      const kind = publishStoreKind(location);
      if (kind !== 'local') throw new Error(`publishDir ${location}: this store is not supported yet`);
      source = new LocalPublishSource(location);
      open.set(location, source);
    }
    return source;
  };
}
