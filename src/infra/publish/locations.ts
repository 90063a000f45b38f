// Where a publishDir is (SPEC §3/§4): a path on this machine, HDFS over WebHDFS/HttpFS
// (`webhdfs://nn1:9870,nn2:9870/path`, `swebhdfs://…` over TLS), or S3 (`s3://bucket/prefix`).
// Parsing only, by each store's own parser: no I/O, and problems never quote credentials.
import { parseS3Url, type S3Location } from './s3/s3Tree.ts';
import { parseWebHdfsUrl, type WebHdfsLocation } from './webhdfs/webhdfsUrl.ts';

export type PublishLocation = { store: 'local'; path: string } | ({ store: 'webhdfs' } & WebHdfsLocation) | ({ store: 's3' } & S3Location);

/** A URL's scheme, lower-cased; undefined for a plain path. */
export function schemeOf(text: string): string | undefined {
  return /^([A-Za-z][A-Za-z0-9+.-]*):\/\//.exec(text)?.[1]?.toLowerCase();
}

/** Parses a publishDir (a plain path is returned as given: the config resolves and checks it). */
export function parsePublishLocation(text: string): PublishLocation | { problem: string } {
  const scheme = schemeOf(text);
  if (scheme === undefined) return { store: 'local', path: text };
  if (scheme === 'webhdfs' || scheme === 'swebhdfs') {
    try {
      return { store: 'webhdfs', ...parseWebHdfsUrl(text) };
    } catch (error) {
      return { problem: (error as Error).message };
    }
  }
  if (scheme === 's3') {
    const parsed = parseS3Url(text);
    return parsed.ok ? { store: 's3', bucket: parsed.bucket, prefix: parsed.prefix } : { problem: `s3:// URL ${parsed.problem}` };
  }
  const hint = scheme === 'hdfs' ? ' (read HDFS over WebHDFS: webhdfs://namenode:9870/path)' : scheme === 's3a' || scheme === 's3n' ? ' (write it s3://bucket/prefix)' : '';
  return { problem: `uses ${scheme}://, which the bot cannot read${hint}; use a local path, webhdfs://, swebhdfs:// or s3://` };
}

/** The location as people read it (the canonical URL, or the path). */
export function locationText(location: PublishLocation): string {
  switch (location.store) {
    case 'local':
      return location.path;
    case 'webhdfs':
      return location.where;
    case 's3':
      return `s3://${location.bucket}${location.prefix ? `/${location.prefix}` : ''}`;
  }
}

/**
 * The publish dir as SMV names it when `smvPublishDir` is not given: HDFS paths go through the
 * cluster's default file system (`hdfs:///path`); S3 has no single answer (s3:// on EMR, s3a://
 * elsewhere), so it must be given.
 */
export function defaultSmvPublishDir(location: PublishLocation): string | undefined {
  if (location.store === 'local') return location.path;
  if (location.store === 'webhdfs') return `hdfs://${location.path}`;
  return undefined;
}
