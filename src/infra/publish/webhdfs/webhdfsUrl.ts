// `webhdfs://nn1:9870,nn2:9870/applications/shareddata` and `swebhdfs://…` (SPEC §4): one or
// more NameNodes (HA: tried in order, the standby skipped) and an absolute path. No credentials
// in the URL: the user and the delegation token come from the environment (SPEC §3), so a
// `user@` part is refused rather than silently sent, and no error repeats what was written there.

export interface WebHdfsLocation {
  /** `http` for webhdfs://, `https` for swebhdfs://. */
  protocol: 'http' | 'https';
  /** `host:port` of each NameNode (IPv6 in brackets), in the configured order. */
  hosts: string[];
  /** Absolute HDFS path without a trailing `/` (`/` for the root). */
  path: string;
  /** The location as people see it (no credential can be in it). */
  where: string;
}

/** Default NameNode HTTP(S) ports since Hadoop 3. */
const DEFAULT_PORT = { http: 9870, https: 9871 } as const;

export function isWebHdfsUrl(location: string): boolean {
  return /^s?webhdfs:\/\//i.test(location);
}

/** The parsed location; throws an Error whose message never repeats a `user@` part. */
export function parseWebHdfsUrl(location: string): WebHdfsLocation {
  const match = /^(s?webhdfs):\/\/([^/?#]*)([^?#]*)([?#].*)?$/i.exec(location);
  if (match === null) throw new Error('not a webhdfs:// or swebhdfs:// URL');
  const scheme = match[1]!.toLowerCase();
  const authority = match[2]!;
  const rawPath = match[3]!;
  if (match[4] !== undefined) throw new Error(`${scheme}:// URL must not have a query or fragment`);
  if (authority.includes('@')) {
    throw new Error(`${scheme}:// URL must not hold a user or credentials (set SMVBOT_HDFS_USER / SMVBOT_HDFS_DELEGATION_TOKEN instead)`);
  }
  const protocol = scheme === 'swebhdfs' ? 'https' : 'http';
  if (authority === '') throw new Error(`${scheme}:// URL names no NameNode host`);
  const hosts = authority.split(',').map((part) => hostPort(part.trim(), DEFAULT_PORT[protocol], scheme));
  const path = normalisePath(rawPath, scheme);
  return { protocol, hosts, path, where: `${scheme}://${hosts.join(',')}${path}` };
}

function hostPort(part: string, defaultPort: number, scheme: string): string {
  const m = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(?::(\d{1,5}))?$/.exec(part);
  if (m === null) throw new Error(`${scheme}:// URL has an invalid NameNode address ${JSON.stringify(part.slice(0, 100))}`);
  const port = m[2] === undefined ? defaultPort : Number(m[2]);
  if (port < 1 || port > 65535) throw new Error(`${scheme}:// URL has an invalid port ${m[2]}`);
  return `${m[1]!.toLowerCase()}:${port}`;
}

function normalisePath(raw: string, scheme: string): string {
  let decoded: string;
  try {
    decoded = decodeURIComponent(raw);
  } catch {
    throw new Error(`${scheme}:// URL has an invalid %-escape in its path`);
  }
  const segments = decoded.split('/').filter((s) => s !== '' && s !== '.');
  if (segments.includes('..')) throw new Error(`${scheme}:// URL path must not contain ".."`);
  return '/' + segments.join('/');
}

/** `/a/b` + `c/d` → `/a/b/c/d`; `rel` is '/'-separated and relative ('' = `base`). */
export function joinHdfsPath(base: string, rel: string): string {
  if (rel === '') return base;
  return base === '/' ? `/${rel}` : `${base}/${rel}`;
}

/** The path as a WebHDFS URL path, each segment escaped. */
export function webHdfsUrlPath(hdfsPath: string): string {
  return '/webhdfs/v1' + hdfsPath.split('/').map(encodeURIComponent).join('/');
}
