// A publish dir on S3 (`s3://bucket/prefix`, SPEC §4) as a StoreTree: S3 has keys, not
// directories, so a "directory" is a key prefix ending in '/', it exists while some key lies
// under it (or a zero-byte `…/` marker key names it), and a version with no keys does not exist.
// Listings are paged (1,000 keys a request) and never held whole; reads are bounded: the size is
// asked first (HEAD) and an object over the cap is never fetched, a small one is fetched with a
// Range so that an object grown since the HEAD still costs at most the cap.
//
// Credentials come from the SDK's default chain (env, profile, instance/container role), which
// reads AWS_* itself; nothing else here reads the environment: the config layer passes the
// endpoint (AWS_ENDPOINT_URL_S3), the region and the request timeout. Errors leave as StoreError
// with the kind /healthz shows and words holding no credential or signed URL (SPEC §6a).
import type { Readable } from 'node:stream';
import { GetObjectCommand, HeadObjectCommand, S3Client, paginateListObjectsV2 } from '@aws-sdk/client-s3';
import type { ListObjectsV2CommandInput } from '@aws-sdk/client-s3';
import { StoreError, type StoreErrorKind, type StoreItem, type StoreTree, type WalkBudget } from '../remote/storeTree.ts';

/** Keys S3 returns a listing request at most (its own maximum). */
const PAGE_KEYS = 1000;
/** Longest S3 key, in UTF-8 bytes. */
const MAX_KEY_BYTES = 1024;

// ---------------------------------------------------------------------------------------------
// `s3://bucket/prefix`

export interface S3Location {
  bucket: string;
  /** Key prefix of the publish dir: no leading or trailing '/', '' for the bucket's top. */
  prefix: string;
}

export type S3UrlParse = ({ ok: true } & S3Location) | { ok: false; problem: string };

/**
 * Reads `s3://bucket/prefix` (a trailing '/' is dropped). The bucket follows S3's naming rules
 * for buckets made today; the prefix may not hold empty, `.` or `..` segments or control
 * characters. Nothing of the text is echoed back when it carries user info (a credential).
 */
export function parseS3Url(text: string): S3UrlParse {
  const fail = (problem: string): S3UrlParse => ({ ok: false, problem });
  if (!/^s3:\/\//i.test(text)) return fail('is not an s3:// URL (s3://bucket/prefix)');
  const rest = text.slice('s3://'.length);
  const slash = rest.indexOf('/');
  const authority = slash < 0 ? rest : rest.slice(0, slash);
  if (authority.includes('@')) return fail('holds user info before the bucket; give S3 credentials through AWS_* instead');
  if (/[?#]/.test(rest)) return fail('has a query or fragment; an S3 publish dir is s3://bucket/prefix');
  const bucketProblem = bucketNameProblem(authority);
  if (bucketProblem) return fail(bucketProblem);
  let prefix = slash < 0 ? '' : rest.slice(slash + 1);
  if (prefix.endsWith('/')) prefix = prefix.slice(0, -1);
  if (prefix !== '') {
    // Control characters (C0, DEL, C1): never a sensible key, and they would garble logs.
    if (/[\u0000-\u001f\u007f-\u009f]/.test(prefix)) return fail('has a control character in its prefix');
    if (prefix.split('/').some((seg) => seg === '' || seg === '.' || seg === '..')) {
      return fail("has an empty, '.' or '..' segment in its prefix");
    }
    if (Buffer.byteLength(prefix) > 900) return fail('has a prefix too long for S3 keys under it');
  }
  return { ok: true, bucket: authority, prefix };
}

/** Why `name` cannot be an S3 bucket (general purpose or directory bucket); null when it can. */
function bucketNameProblem(name: string): string | null {
  if (name === '') return 'has no bucket name (s3://bucket/prefix)';
  const shown = name.length > 80 ? `${name.slice(0, 80)}…` : name;
  if (name.length < 3 || name.length > 63) return `has bucket name "${shown}": S3 bucket names are 3 to 63 characters`;
  if (!/^[a-z0-9][a-z0-9.-]*[a-z0-9]$/.test(name)) {
    return `has bucket name "${shown}": S3 bucket names are lowercase letters, digits, '.' and '-', starting and ending with a letter or digit`;
  }
  if (name.includes('..')) return `has bucket name "${shown}": S3 bucket names hold no two adjacent '.'`;
  if (/^\d{1,3}(\.\d{1,3}){3}$/.test(name)) return `has bucket name "${shown}": an S3 bucket name is not an IP address`;
  if (/^(xn--|sthree-|amzn-s3-demo-)/.test(name) || /(-s3alias|--ol-s3|\.mrap)$/.test(name)) {
    return `has bucket name "${shown}": that prefix or suffix is reserved by S3`;
  }
  return null;
}

// ---------------------------------------------------------------------------------------------
// The client

export interface S3ClientOptions {
  /** An S3-compatible endpoint (AWS_ENDPOINT_URL_S3); requests then use path-style addressing. */
  endpoint?: string;
  /** Default: the SDK's own (AWS_REGION, the profile); requests to a bucket elsewhere follow S3's redirect. */
  region?: string;
  /** Limit for one request (SMVBOT_STORE_TIMEOUT_SECONDS): connecting, waiting for the answer, a silent socket. */
  timeoutSeconds: number;
  /** Fixed credentials (tests); default: the SDK's default chain. */
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
}

/** Request tries in all, the first included (the SDK's standard retry mode, with backoff). */
export const S3_MAX_ATTEMPTS = 3;

export function createS3Client(opts: S3ClientOptions): S3Client {
  const ms = timeoutMs(opts.timeoutSeconds);
  return new S3Client({
    ...(opts.endpoint !== undefined ? { endpoint: opts.endpoint, forcePathStyle: true } : {}),
    ...(opts.region !== undefined ? { region: opts.region } : {}),
    ...(opts.credentials !== undefined ? { credentials: opts.credentials } : {}),
    followRegionRedirects: true,
    retryMode: 'standard',
    maxAttempts: S3_MAX_ATTEMPTS,
    requestHandler: { connectionTimeout: ms, requestTimeout: ms, throwOnRequestTimeout: true, socketTimeout: ms },
  });
}

function timeoutMs(seconds: number): number {
  return Math.max(1, Math.round(seconds * 1000));
}

// ---------------------------------------------------------------------------------------------
// The tree

export interface S3TreeOptions {
  /** Limit for reading one object's body once S3 has answered (the client limits each request). */
  timeoutSeconds: number;
  /** Keys asked for per listing request; default S3's maximum, 1,000. */
  pageKeys?: number;
}

export class S3Tree implements StoreTree {
  readonly where: string;
  /** One flat ListObjectsV2 of the prefix gives every key in key order. */
  readonly listsInKeyOrder = true;
  private readonly bucket: string;
  private readonly prefix: string;

  constructor(
    location: S3Location,
    private readonly client: S3Client,
    private readonly opts: S3TreeOptions,
  ) {
    this.bucket = location.bucket;
    this.prefix = location.prefix;
    this.where = location.prefix === '' ? `s3://${location.bucket}` : `s3://${location.bucket}/${location.prefix}`;
  }

  /**
   * Children of `rel`: one delimited listing. Sub-prefixes are dirs (mtime 0: S3 keeps none for a
   * prefix), keys are files. The dir's own `…/` marker key is not a child; a sub-prefix with an
   * empty name (`a//b`) cannot be a name and is left out.
   */
  async *list(rel: string): AsyncIterable<StoreItem[]> {
    const dirKey = this.dirKey(rel);
    let exists = false;
    try {
      for await (const page of this.pages({ Prefix: dirKey, Delimiter: '/' })) {
        const items: StoreItem[] = [];
        for (const common of page.CommonPrefixes ?? []) {
          if (common.Prefix === undefined) continue;
          exists = true;
          const name = decodeKey(common.Prefix).slice(dirKey.length, -1);
          if (name !== '') items.push({ path: name, kind: 'dir', size: 0, mtimeMs: 0 });
        }
        for (const object of page.Contents ?? []) {
          if (object.Key === undefined) continue;
          exists = true;
          const name = decodeKey(object.Key).slice(dirKey.length);
          if (name !== '') items.push(fileItem(name, object.Size, object.LastModified));
        }
        if (items.length > 0) yield items;
      }
    } catch (err) {
      throw s3StoreError(err, this.url(rel));
    }
    if (!exists) throw this.noKeys(rel);
  }

  /**
   * Everything below `rel` from one flat listing: each key as a file, each directory its key
   * implies once (a `…/` marker key is a dir, with the marker's LastModified), paths relative to
   * `rel`. An item lies as many directory levels below `rel` as its path has '/'; items deeper
   * than `maxDepth` are left out, and a run of them that goes on past the page is skipped by
   * listing on after it, not read. Stops after `maxEntries` items.
   */
  async *walk(rel: string, budget: WalkBudget): AsyncIterable<StoreItem[]> {
    const base = this.dirKey(rel);
    const dirsYielded = new Set<string>();
    let yielded = 0;
    let exists = false;
    let startAfter: string | undefined;
    try {
      listing: for (;;) {
        for await (const page of this.pages({ Prefix: base, ...(startAfter !== undefined ? { StartAfter: startAfter } : {}) })) {
          const items: StoreItem[] = [];
          const full = (): boolean => ++yielded >= budget.maxEntries;
          const contents = page.Contents ?? [];
          const lastKey = contents.length > 0 ? decodeKey(contents[contents.length - 1]!.Key ?? '') : '';
          for (const object of contents) {
            if (object.Key === undefined) continue;
            exists = true;
            if (budget.maxEntries <= 0) return;
            const path = decodeKey(object.Key).slice(base.length);
            if (path === '') continue; // the walked dir's own marker
            const marker = path.endsWith('/');
            const segments = (marker ? path.slice(0, -1) : path).split('/');
            const dirs = marker ? segments.length : segments.length - 1;
            // Dir `segments[0..d)` lies d-1 levels below `rel`.
            for (let d = 1; d <= dirs && d - 1 <= budget.maxDepth; d++) {
              const dir = segments.slice(0, d).join('/');
              if (dirsYielded.has(dir)) continue;
              dirsYielded.add(dir);
              const mtimeMs = marker && d === dirs ? (object.LastModified?.getTime() ?? 0) : 0;
              items.push({ path: dir, kind: 'dir', size: 0, mtimeMs });
              if (full()) {
                yield items;
                return;
              }
            }
            if (marker && dirs - 1 <= budget.maxDepth) continue;
            if (!marker && segments.length - 1 <= budget.maxDepth) {
              items.push(fileItem(path, object.Size, object.LastModified));
              if (full()) {
                yield items;
                return;
              }
              continue;
            }
            // Too deep: so is every key under its ancestor at maxDepth. When they run on past
            // this page, list on from after them instead of paging through them.
            const tooDeep = base + segments.slice(0, budget.maxDepth + 1).join('/') + '/';
            const skipTo = tooDeep + '\u{10FFFF}';
            if (page.IsTruncated === true && lastKey.startsWith(tooDeep) && skipTo !== startAfter && Buffer.byteLength(skipTo) <= MAX_KEY_BYTES) {
              if (items.length > 0) yield items;
              startAfter = skipTo;
              continue listing;
            }
          }
          if (items.length > 0) yield items;
        }
        break;
      }
    } catch (err) {
      throw s3StoreError(err, this.url(rel));
    }
    if (!exists) throw this.noKeys(rel);
  }

  /**
   * The object's bytes when it holds at most `maxBytes`: its size is asked first and a larger
   * object is refused unread; a smaller one is fetched with a Range of at most `maxBytes + 1`
   * bytes, so one that grew meanwhile is refused too, after at most that much.
   */
  async read(rel: string, maxBytes: number): Promise<Buffer> {
    const where = this.url(rel);
    const key = this.objectKey(rel);
    let size: number;
    try {
      const head = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }));
      size = head.ContentLength ?? 0;
    } catch (err) {
      throw s3StoreError(err, where);
    }
    if (size > maxBytes) throw tooLarge(where, size, maxBytes);
    if (size === 0) return Buffer.alloc(0);
    try {
      const got = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key, Range: `bytes=0-${maxBytes}` }));
      const total = /\/(\d+)$/.exec(got.ContentRange ?? '')?.[1];
      if (total !== undefined && Number(total) > maxBytes) {
        (got.Body as Readable | undefined)?.destroy();
        throw tooLarge(where, Number(total), maxBytes);
      }
      if (got.Body === undefined) return Buffer.alloc(0);
      return await readCapped(got.Body as Readable, maxBytes, timeoutMs(this.opts.timeoutSeconds), where);
    } catch (err) {
      throw s3StoreError(err, where);
    }
  }

  private pages(input: Omit<ListObjectsV2CommandInput, 'Bucket'>) {
    return paginateListObjectsV2({ client: this.client, pageSize: this.opts.pageKeys ?? PAGE_KEYS }, { Bucket: this.bucket, EncodingType: 'url', ...input });
  }

  /** Key prefix of the dir `rel` ('' = the publish dir), ending in '/' unless it is the bucket's top. */
  private dirKey(rel: string): string {
    const key = [this.prefix, trimSlashes(rel)].filter((s) => s !== '').join('/');
    return key === '' ? '' : `${key}/`;
  }

  private objectKey(rel: string): string {
    const path = trimSlashes(rel);
    if (path === '' || path.split('/').some((seg) => seg === '' || seg === '.' || seg === '..')) {
      throw new StoreError('unreadable', `${this.url(rel)}: not an object path (empty, '.' or '..' segment)`);
    }
    return [this.prefix, path].filter((s) => s !== '').join('/');
  }

  private url(rel: string): string {
    const path = trimSlashes(rel);
    return path === '' ? this.where : `${this.where}/${path}`;
  }

  private noKeys(rel: string): StoreError {
    return new StoreError('not-found', `${this.url(rel)}: no such prefix (no object's key starts with it)`);
  }
}

function trimSlashes(rel: string): string {
  return rel.replace(/^\/+|\/+$/g, '');
}

function fileItem(path: string, size: number | undefined, lastModified: Date | undefined): StoreItem {
  return { path, kind: 'file', size: size ?? 0, mtimeMs: lastModified?.getTime() ?? 0 };
}

/**
 * Keys come URL-encoded (EncodingType=url: a key may hold characters XML cannot carry). S3
 * form-encodes (space as '+', '+' as %2B); S3-compatible stores may use %20: both decode here.
 */
function decodeKey(encoded: string): string {
  try {
    return decodeURIComponent(encoded.replace(/\+/g, ' '));
  } catch {
    return encoded;
  }
}

function tooLarge(where: string, size: number, maxBytes: number): StoreError {
  return new StoreError('too-large', `${where}: ${size} bytes, over the ${maxBytes}-byte read cap; not read`);
}

/** The stream's bytes, refusing past `maxBytes` and giving up when it has not ended within `ms`. */
async function readCapped(body: Readable, maxBytes: number, ms: number, where: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let total = 0;
  const timer = setTimeout(() => body.destroy(Object.assign(new Error(`reading the body took over ${ms} ms`), { name: 'TimeoutError' })), ms);
  try {
    for await (const chunk of body) {
      const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as Uint8Array);
      total += buf.length;
      if (total > maxBytes) {
        body.destroy();
        throw tooLarge(where, total, maxBytes);
      }
      chunks.push(buf);
    }
  } finally {
    clearTimeout(timer);
  }
  return Buffer.concat(chunks, total);
}

// ---------------------------------------------------------------------------------------------
// Errors

const NOT_FOUND = new Set(['NoSuchBucket', 'NoSuchKey', 'NotFound']);
const AUTH = new Set([
  'InvalidAccessKeyId',
  'SignatureDoesNotMatch',
  'ExpiredToken',
  'InvalidToken',
  'TokenRefreshRequired',
  'CredentialsProviderError',
  'InvalidClientTokenId',
  'UnrecognizedClientException',
]);
const PERMISSION = new Set(['AccessDenied', 'AllAccessDisabled', 'AccountProblem', 'Forbidden']);
const THROTTLED = new Set(['SlowDown', 'Throttling', 'ThrottlingException', 'TooManyRequests', 'TooManyRequestsException', 'RequestLimitExceeded', 'ServiceUnavailable']);
const TIMEOUT = new Set(['TimeoutError', 'RequestTimeout', 'RequestTimeoutException', 'AbortError']);
const TIMEOUT_CODES = new Set(['ETIMEDOUT', 'ESOCKETTIMEDOUT']);

interface SdkErrorShape {
  name?: unknown;
  code?: unknown;
  message?: unknown;
  $metadata?: { httpStatusCode?: unknown };
  $retryable?: { throttling?: unknown };
}

/** The StoreError kind of an error the S3 client threw. */
export function s3ErrorKind(err: unknown): StoreErrorKind {
  if (err instanceof StoreError) return err.kind;
  const e = (err ?? {}) as SdkErrorShape;
  const name = typeof e.name === 'string' ? e.name : '';
  const code = typeof e.code === 'string' ? e.code : '';
  const status = typeof e.$metadata?.httpStatusCode === 'number' ? e.$metadata.httpStatusCode : undefined;
  if (TIMEOUT.has(name) || TIMEOUT_CODES.has(code)) return 'timeout';
  if (THROTTLED.has(name) || e.$retryable?.throttling === true || status === 503 || status === 429) return 'throttled';
  if (NOT_FOUND.has(name) || status === 404) return 'not-found';
  if (AUTH.has(name) || status === 401) return 'auth';
  if (PERMISSION.has(name) || status === 403) return 'permission';
  return 'unavailable';
}

/**
 * The S3 client's error as a StoreError about `where` (an s3:// URL): its kind, the error's name,
 * HTTP status and message with anything credential-like (signed URL parameters, user info in
 * URLs, access key ids, secret keys, session tokens) taken out.
 */
export function s3StoreError(err: unknown, where: string): StoreError {
  if (err instanceof StoreError) return err;
  const kind = s3ErrorKind(err);
  const e = (err ?? {}) as SdkErrorShape;
  const name = typeof e.name === 'string' && e.name !== '' ? e.name : 'Error';
  const code = typeof e.code === 'string' && e.code !== name ? ` ${e.code}` : '';
  const status = typeof e.$metadata?.httpStatusCode === 'number' ? ` (HTTP ${e.$metadata.httpStatusCode})` : '';
  const raw = typeof e.message === 'string' ? e.message : String(err);
  let text = redactCredentials(raw).replace(/\s+/g, ' ').trim();
  if (text.length > 300) text = `${text.slice(0, 300)}…`;
  const said = text === '' || text === name || text === 'UnknownError' ? '' : `: ${text}`;
  return new StoreError(kind, `${where}: S3 ${name}${code}${status}${said}`);
}

/** `text` with signed-URL parameters, URL user info, access key ids, secret keys and tokens removed. */
export function redactCredentials(text: string): string {
  return (
    text
      .replace(/([?&;](?:X-Amz-[A-Za-z-]+|Signature|AWSAccessKeyId|Expires|x-amz-security-token)=)[^&\s"'<>]*/gi, '$1[redacted]')
      .replace(/\b([a-z][a-z0-9+.-]*:\/\/)[^/\s@]*@/gi, '$1[redacted]@')
      .replace(/\b(?:AKIA|ASIA|AIDA|AROA)[A-Z0-9]{16}\b/g, '[access key id]')
      // Session tokens (long base64) and secret access keys (40 base64 characters).
      .replace(/[A-Za-z0-9/+=]{100,}/g, '[redacted]')
      .replace(/(?<![A-Za-z0-9/+=])[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=])/g, '[redacted]')
  );
}
