// The one place that knows which store a publishDir is on and opens its source (SPEC §4:
// a mounted path, `webhdfs://`/`swebhdfs://` HDFS, `s3://bucket/prefix`). Sources are opened
// once per location: a source keeps what it learnt (the active NameNode, the S3 client's sockets).
import type { S3Client } from '@aws-sdk/client-s3';
import type { PublishSource, PublishSources } from '../../core/publishSource.ts';
import type { StoreSettings } from '../config/env.ts';
import { LocalPublishSource } from './localSource.ts';
import { parsePublishLocation } from './locations.ts';
import { treeSource } from './remote/treeSource.ts';
import { createS3Client, S3Tree } from './s3/s3Tree.ts';
import { webHdfsSource } from './webhdfs/webhdfsSource.ts';

/** Ways to watch the requests the sources send (the bench counts them); the bot passes none. */
export interface StoreObservers {
  /** The fetch WebHDFS requests go through. */
  fetch?: (url: string, init: RequestInit) => Promise<Response>;
  /** Told of the S3 client once it is made (e.g. to add a middleware). */
  onS3Client?: (client: S3Client) => void;
}

export function openPublishSources(settings: StoreSettings, observers: StoreObservers = {}): PublishSources {
  const open = new Map<string, PublishSource>();
  let s3: S3Client | undefined;
  const s3Client = (): S3Client => {
    if (s3 === undefined) {
      s3 = createS3Client({
        timeoutSeconds: settings.timeoutSeconds,
        ...(settings.s3.endpoint !== undefined && { endpoint: settings.s3.endpoint }),
        ...(settings.s3.region !== undefined && { region: settings.s3.region }),
      });
      observers.onS3Client?.(s3);
    }
    return s3;
  };
  const sourceOf = (location: string): PublishSource => {
    const parsed = parsePublishLocation(location);
    // The config checked every location at start-up: a problem here is a bug, said plainly.
    if ('problem' in parsed) throw new Error(`publishDir ${location}: ${parsed.problem}`);
    switch (parsed.store) {
      case 'local':
        return new LocalPublishSource(parsed.path);
      case 'webhdfs':
        return webHdfsSource(parsed, { ...settings.hdfs, timeoutMs: settings.timeoutSeconds * 1000, ...(observers.fetch !== undefined && { fetch: observers.fetch }) });
      case 's3':
        return treeSource(new S3Tree(parsed, s3Client(), { timeoutSeconds: settings.timeoutSeconds }));
    }
  };
  return (location) => {
    let source = open.get(location);
    if (source === undefined) open.set(location, (source = sourceOf(location)));
    return source;
  };
}
