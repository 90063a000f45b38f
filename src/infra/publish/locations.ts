// Where a publishDir is (SPEC §3/§4): a path on this machine, HDFS over WebHDFS/HttpFS
// (`webhdfs://nn1:9870,nn2:9870/path`, `swebhdfs://…` over TLS), or S3 (`s3://bucket/prefix`).
// Parsing only: no I/O. Problems never quote credentials (a URL with user:password@ is refused).

export interface NameNode {
  host: string;
  port: number;
}

export type PublishLocation =
  | { store: 'local'; path: string }
  | { store: 'webhdfs'; secure: boolean; nameNodes: NameNode[]; path: string }
  | { store: 's3'; bucket: string; prefix: string };

const DEFAULT_PORT = { webhdfs: 9870, swebhdfs: 9871 } as const;
const HOST = /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*|\[[0-9A-Fa-f:.]+\])$/;
const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

/** A URL's scheme, lower-cased; undefined for a plain path. */
export function schemeOf(text: string): string | undefined {
  return /^([A-Za-z][A-Za-z0-9+.-]*):\/\//.exec(text)?.[1]?.toLowerCase();
}

/** Parses a publishDir URL (a plain path is returned as given: the config resolves it). */
export function parsePublishLocation(text: string): PublishLocation | { problem: string } {
  const scheme = schemeOf(text);
  if (scheme === undefined) return { store: 'local', path: text };
  const rest = text.slice(scheme.length + 3);
  const slash = rest.indexOf('/');
  const authority = slash < 0 ? rest : rest.slice(0, slash);
  const rawPath = slash < 0 ? '' : rest.slice(slash);
  if (authority.includes('@')) {
    return { problem: `must not hold credentials in the URL: ${scheme === 's3' ? 'the AWS SDK takes them from AWS_* variables, a profile or a role' : 'set SMVBOT_HDFS_USER or SMVBOT_HDFS_DELEGATION_TOKEN'}` };
  }
  if (/[?#\s\u0000-\u001f\u007f]/.test(rest)) return { problem: 'must be a URL without query, fragment, spaces or control characters' };
  const segments = rawPath.split('/').filter((s) => s !== '');
  if (segments.some((s) => s === '.' || s === '..')) return { problem: 'must not hold "." or ".." path segments' };
  if (scheme === 'webhdfs' || scheme === 'swebhdfs') {
    const nameNodes: NameNode[] = [];
    for (const part of authority.split(',')) {
      const m = /^(.*?)(?::(\d{1,5}))?$/.exec(part.trim())!;
      const host = m[1]!;
      const port = m[2] === undefined ? DEFAULT_PORT[scheme] : Number(m[2]);
      if (!HOST.test(host) || port < 1 || port > 65535) {
        return { problem: `names ${JSON.stringify(part)}, not a NameNode host[:port]; write ${scheme}://nn1:${DEFAULT_PORT[scheme]},nn2:${DEFAULT_PORT[scheme]}/path/of/publish/dir` };
      }
      nameNodes.push({ host, port });
    }
    if (segments.length === 0) return { problem: `names no directory; write ${scheme}://namenode:${DEFAULT_PORT[scheme]}/path/of/publish/dir` };
    return { store: 'webhdfs', secure: scheme === 'swebhdfs', nameNodes, path: '/' + segments.join('/') };
  }
  if (scheme === 's3') {
    if (!BUCKET.test(authority) || authority.includes('..')) {
      return { problem: `names ${JSON.stringify(authority)}, not an S3 bucket (3-63 lower-case letters, digits, "." and "-"); write s3://bucket/prefix` };
    }
    return { store: 's3', bucket: authority, prefix: segments.join('/') };
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
      return `${location.secure ? 'swebhdfs' : 'webhdfs'}://${location.nameNodes.map((n) => `${n.host}:${n.port}`).join(',')}${location.path}`;
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
