// A publish dir on HDFS (`webhdfs://…`, `swebhdfs://…`) as a PublishSource: the WebHDFS tree
// under the store-neutral tree source. The user, token and timeout are handed in by the
// caller (config reads the environment, SPEC §3); nothing here reads process.env.
import type { PublishSource } from '../../../core/publishSource.ts';
import { treeSource, type TreeSourceLimits } from '../remote/treeSource.ts';
import type { WebHdfsOptions } from './webhdfsClient.ts';
import { webHdfsTree } from './webhdfsTree.ts';
import type { WebHdfsLocation } from './webhdfsUrl.ts';

export { isWebHdfsUrl, parseWebHdfsUrl, type WebHdfsLocation } from './webhdfsUrl.ts';
export type { WebHdfsOptions } from './webhdfsClient.ts';

export interface WebHdfsSourceOptions extends WebHdfsOptions {
  /** Caps of the tree source; tests lower them. */
  limits?: Partial<TreeSourceLimits>;
}

/** Throws on an invalid URL (the message holds no secret). */
export function webHdfsSource(location: string | WebHdfsLocation, opts: WebHdfsSourceOptions = {}): PublishSource {
  const { limits, ...client } = opts;
  return treeSource(webHdfsTree(location, client), limits);
}
