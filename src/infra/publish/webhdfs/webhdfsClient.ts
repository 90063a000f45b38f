// A small WebHDFS (and HttpFS) client on Node's fetch: the few read operations the publish
// source needs, HA NameNodes, timeouts, bounded retries, and errors as StoreError kinds.
//
// - LISTSTATUS_BATCH pages a directory (`startAfter` = the last name of the previous page; the
//   NameNode's `dfs.ls.limit` sets the page size). A server that does not know the op (an old
//   NameNode or HttpFS: 400 IllegalArgumentException/UnsupportedOperationException), ignores it
//   (answers a whole `FileStatuses` listing) or ignores `startAfter` (answers the first page
//   again) gets LISTSTATUS from then on.
// - OPEN asks for `length=` bytes and follows the NameNode's redirect to a DataNode by hand,
//   to the host it names, with the same per-request time limit.
// - Several NameNodes (HA) are tried in order; a standby or unreachable one is skipped and the
//   one that answered is tried first next time.
// - Each request (headers and body) is limited by `timeoutMs`: a listener that accepts and never
//   answers fails with kind 'timeout'. Connection resets, refusals and 5xx answers are retried a
//   few times with back-off; a timeout is not (the limit is what the operator allows per request).
// - The user (`user.name=`) and delegation token (`delegation=`) are query parameters, so a URL is
//   never put into an error: messages name the op, the HDFS path and the NameNode, and whatever a
//   server says back has both secrets masked.
import { setTimeout as sleep } from 'node:timers/promises';
import { StoreError, type StoreErrorKind } from '../remote/storeTree.ts';
import { webHdfsUrlPath, type WebHdfsLocation } from './webhdfsUrl.ts';

export interface WebHdfsOptions {
  /** Simple-auth user (`user.name=`), SMVBOT_HDFS_USER. */
  user?: string;
  /** Delegation token (`delegation=`), SMVBOT_HDFS_DELEGATION_TOKEN. */
  delegationToken?: string;
  /** Limit for one HTTP request, headers and body (SMVBOT_STORE_TIMEOUT_SECONDS); default 30 s. */
  timeoutMs?: number;
  /** Further tries after a connection reset, a refusal or a 5xx answer; default 3. */
  retries?: number;
  /** First back-off between tries (doubling); default 250 ms. */
  retryDelayMs?: number;
  /** Largest JSON answer read (a LISTSTATUS of a huge dir on a server without batching); default 128 MiB. */
  maxJsonBytes?: number;
  /** The fetch used (tests observe requests); default the global one. */
  fetch?: (url: string, init: RequestInit) => Promise<Response>;
}

export interface HdfsFileStatus {
  /** Name in the listed dir; '' when the status is of the path itself. */
  pathSuffix: string;
  type: 'FILE' | 'DIRECTORY' | 'SYMLINK';
  length: number;
  /** Epoch ms. */
  modificationTime: number;
}

/** A StoreError from WebHDFS; `unsupportedOp` when the server does not know the op asked for. */
export class WebHdfsError extends StoreError {
  constructor(
    kind: StoreErrorKind,
    message: string,
    readonly unsupportedOp = false,
  ) {
    super(kind, message);
  }
}

/** One host's failure, before it is known whether another host or another try does better. */
interface Failure {
  kind: StoreErrorKind;
  detail: string;
  /** Another NameNode may answer (standby, unreachable, timed out, 5xx). */
  next: boolean;
  /** Worth trying again after a pause. */
  retry: boolean;
  unsupportedOp?: boolean;
}

class FailureError extends Error {
  constructor(readonly failure: Failure) {
    super(failure.detail);
  }
}

const fail = (f: Failure): never => {
  throw new FailureError(f);
};

const ERROR_BODY_BYTES = 64 * 1024;

const AUTH_EXCEPTIONS = new Set(['SecurityException', 'AuthenticationException', 'AuthorizationException', 'InvalidToken', 'SecretManager$InvalidToken']);

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

export class WebHdfsClient {
  private readonly timeoutMs: number;
  private readonly retries: number;
  private readonly retryDelayMs: number;
  private readonly maxJsonBytes: number;
  private readonly fetchFn: (url: string, init: RequestInit) => Promise<Response>;
  /** Index of the NameNode that answered last: tried first. */
  private active = 0;
  /** Whether LISTSTATUS_BATCH works here; undefined until a server said. */
  private batch: boolean | undefined;

  constructor(
    readonly location: WebHdfsLocation,
    private readonly opts: WebHdfsOptions = {},
  ) {
    this.timeoutMs = opts.timeoutMs ?? 30_000;
    this.retries = opts.retries ?? 3;
    this.retryDelayMs = opts.retryDelayMs ?? 250;
    this.maxJsonBytes = opts.maxJsonBytes ?? 128 * 1024 * 1024;
    this.fetchFn = opts.fetch ?? ((url, init) => fetch(url, init));
  }

  /** Whether the last listing used LISTSTATUS_BATCH (undefined before any). */
  get batching(): boolean | undefined {
    return this.batch;
  }

  /** Status of `path` itself. */
  async getFileStatus(path: string): Promise<HdfsFileStatus> {
    const doc = await this.getJson('GETFILESTATUS', path, {});
    const status = fileStatus((doc as { FileStatus?: unknown }).FileStatus);
    if (status === null) throw new WebHdfsError('unreadable', this.message('GETFILESTATUS', path, [unexpected()]));
    return status;
  }

  /**
   * Children of the directory `path`, page by page. A missing path fails with 'not-found'; a
   * file (which WebHDFS lists as itself) too, saying so.
   */
  async *listStatus(path: string): AsyncGenerator<HdfsFileStatus[]> {
    /** Last name yielded: a fallback to LISTSTATUS mid-listing goes on after it. */
    let after: string | undefined;
    if (this.batch !== false) {
      for (;;) {
        let doc: unknown;
        try {
          // The NameNode reads `startafter` (its parameter names are lower case), HttpFS `startAfter`.
          doc = await this.getJson('LISTSTATUS_BATCH', path, after === undefined ? {} : { startafter: after, startAfter: after });
        } catch (err) {
          if (after === undefined && err instanceof WebHdfsError && err.unsupportedOp) {
            this.batch = false;
            break;
          }
          throw err;
        }
        const whole = (doc as { FileStatuses?: unknown }).FileStatuses;
        if (whole !== undefined && after === undefined) {
          // Batching ignored: this is the whole listing (HttpFS does this).
          this.batch = false;
          const all = this.statuses('LISTSTATUS_BATCH', path, whole);
          if (all.length) yield all;
          return;
        }
        const listing = (doc as { DirectoryListing?: { partialListing?: { FileStatuses?: unknown }; remainingEntries?: unknown } }).DirectoryListing;
        if (listing === undefined || listing === null || typeof listing !== 'object') {
          throw new WebHdfsError('unreadable', this.message('LISTSTATUS_BATCH', path, [unexpected()]));
        }
        const page = this.statuses('LISTSTATUS_BATCH', path, listing.partialListing?.FileStatuses, after === undefined);
        if (after !== undefined && page.length > 0 && byteOrder(page[0]!.pathSuffix, after) <= 0) {
          // The server pages but does not honour the start: the rest comes from one LISTSTATUS.
          this.batch = false;
          break;
        }
        this.batch = true;
        if (page.length) yield page;
        const remaining = typeof listing.remainingEntries === 'number' ? listing.remainingEntries : 0;
        if (remaining <= 0 || page.length === 0) return;
        after = page[page.length - 1]!.pathSuffix;
      }
    }
    const doc = await this.getJson('LISTSTATUS', path, {});
    let all = this.statuses('LISTSTATUS', path, (doc as { FileStatuses?: unknown }).FileStatuses);
    if (after !== undefined) all = all.filter((s) => byteOrder(s.pathSuffix, after) > 0);
    if (all.length) yield all;
  }

  /** At most `length` bytes of the file from its start (fewer when it is shorter). */
  async open(path: string, length: number): Promise<Buffer> {
    return this.withHosts('OPEN', path, async (host) => {
      const first = await this.send(host, 'OPEN', path, { offset: '0', length: String(length) });
      let res = first.res;
      if (res.status >= 300 && res.status < 400) {
        const target = res.headers.get('location');
        await res.body?.cancel().catch(() => undefined);
        let url: URL | undefined;
        try {
          url = target === null ? undefined : new URL(target);
        } catch {
          url = undefined;
        }
        if (url === undefined || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
          fail({ kind: 'unreadable', detail: 'redirected to an address that is not an http(s) URL', next: false, retry: false });
        }
        // The DataNode's address exactly as the NameNode gave it (it carries the parameters the
        // DataNode needs, secrets included: never shown).
        res = await this.fetchOnce(url!.href, 'the DataNode');
        if (res.status >= 300 && res.status < 400) {
          await res.body?.cancel().catch(() => undefined);
          fail({ kind: 'unreadable', detail: 'the DataNode redirected again', next: false, retry: false });
        }
      }
      if (res.status !== 200) await this.failFrom(res, 'OPEN');
      const body = await readBounded(res, length, true);
      return body.bytes;
    });
  }

  private async getJson(op: string, path: string, params: Record<string, string>): Promise<unknown> {
    return this.withHosts(op, path, async (host) => {
      const { res } = await this.send(host, op, path, params);
      if (res.status !== 200) {
        if (res.status >= 300 && res.status < 400) {
          await res.body?.cancel().catch(() => undefined);
          fail({ kind: 'unreadable', detail: `answered with a redirect (${res.status})`, next: false, retry: false });
        }
        await this.failFrom(res, op);
      }
      const body = await readBounded(res, this.maxJsonBytes, false);
      if (body.over) fail({ kind: 'unreadable', detail: `answered with more than ${this.maxJsonBytes} bytes; not read`, next: false, retry: false });
      try {
        return JSON.parse(body.bytes.toString('utf8')) as unknown;
      } catch {
        return fail({ kind: 'unreadable', detail: 'answered with something that is not JSON', next: false, retry: false });
      }
    });
  }

  private url(host: string, op: string, path: string, params: Record<string, string>): string {
    const query = new URLSearchParams({ op, ...params });
    if (this.opts.user) query.set('user.name', this.opts.user);
    if (this.opts.delegationToken) query.set('delegation', this.opts.delegationToken);
    return `${this.location.protocol}://${host}${webHdfsUrlPath(path)}?${query.toString()}`;
  }

  private async send(host: string, op: string, path: string, params: Record<string, string>): Promise<{ res: Response }> {
    return { res: await this.fetchOnce(this.url(host, op, path, params), 'the NameNode') };
  }

  /** One HTTP request under the time limit; connection trouble becomes a Failure (never the URL). */
  private async fetchOnce(url: string, who: string): Promise<Response> {
    const signal = AbortSignal.timeout(this.timeoutMs);
    try {
      const res = await this.fetchFn(url, { signal, redirect: 'manual', headers: { accept: 'application/json' } });
      // The body is read under the same signal: a server that stops mid-answer times out too.
      return res;
    } catch (err) {
      return fail(this.connectionFailure(err, who));
    }
  }

  private connectionFailure(err: unknown, who: string): Failure {
    if (err instanceof FailureError) return err.failure;
    const e = err as { name?: string; code?: string; cause?: { code?: string; name?: string } };
    if (e.name === 'TimeoutError' || e.cause?.name === 'TimeoutError' || e.name === 'AbortError') {
      return { kind: 'timeout', detail: `${who} did not answer within ${this.timeoutMs / 1000} s`, next: true, retry: false };
    }
    const code = e.cause?.code ?? e.code ?? '';
    if (code === 'ECONNREFUSED') return { kind: 'unavailable', detail: `${who} refused the connection`, next: true, retry: true };
    if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return { kind: 'unavailable', detail: `${who}: host name not found (${code})`, next: true, retry: true };
    if (code === 'ERR_TLS_CERT_ALTNAME_INVALID' || code.includes('CERT') || code.startsWith('ERR_SSL') || code.startsWith('ERR_TLS')) {
      return { kind: 'unavailable', detail: `${who}: TLS failed (${code})`, next: true, retry: false };
    }
    return { kind: 'unavailable', detail: `${who}: connection failed (${code || e.name || 'error'})`, next: true, retry: true };
  }

  /** Reads an error answer (bounded) and fails with its kind. */
  private async failFrom(res: Response, op: string): Promise<never> {
    let body = '';
    try {
      body = (await readBounded(res, ERROR_BODY_BYTES, true)).bytes.toString('utf8');
    } catch {
      // the status alone says enough
    }
    let exception = '';
    let javaClassName = '';
    let message = '';
    try {
      const doc = JSON.parse(body) as { RemoteException?: { exception?: unknown; javaClassName?: unknown; message?: unknown } };
      const remote = doc.RemoteException;
      if (remote && typeof remote === 'object') {
        exception = typeof remote.exception === 'string' ? remote.exception : '';
        javaClassName = typeof remote.javaClassName === 'string' ? remote.javaClassName : '';
        message = typeof remote.message === 'string' ? remote.message : '';
      }
    } catch {
      // not JSON: a proxy's page
    }
    return fail(classify(res.status, op, exception, javaClassName, this.mask(message.slice(0, 500))));
  }

  /** The configured user and token masked in text a server sent back. */
  private mask(text: string): string {
    let out = text.replace(/(delegation=)[^&\s"']+/gi, '$1<redacted>').replace(/(user\.name=)[^&\s"']+/gi, '$1<redacted>');
    const token = this.opts.delegationToken;
    if (token) out = out.split(token).join('<delegation token>');
    const user = this.opts.user;
    if (user) out = out.replace(new RegExp(`(?<![\\w.-])${escapeRegExp(user)}(?![\\w.-])`, 'g'), '<user>');
    return out;
  }

  private message(op: string, path: string, details: string[]): string {
    return `WebHDFS ${op} ${this.mask(path)}: ${details.join('; ')}`;
  }

  /**
   * Runs one request against the NameNodes: the last active first, the next on a standby or an
   * unreachable one; the whole round again after a back-off while a failure is worth retrying.
   */
  private async withHosts<T>(op: string, path: string, run: (host: string) => Promise<T>): Promise<T> {
    const hosts = this.location.hosts;
    for (let round = 0; ; round++) {
      const failures: { host: string; failure: Failure }[] = [];
      let again = false;
      for (let i = 0; i < hosts.length; i++) {
        const index = (this.active + i) % hosts.length;
        const host = hosts[index]!;
        try {
          const result = await run(host);
          this.active = index;
          return result;
        } catch (err) {
          const failure = err instanceof FailureError ? err.failure : this.connectionFailure(err, 'the server');
          failures.push({ host, failure });
          // This NameNode answered for all of them (not found, denied…): that is the answer.
          if (!failure.next && !failure.retry) throw this.finalError(op, path, failures);
          if (failure.retry) again = true;
          if (!failure.next) break;
        }
      }
      if (!again || round >= this.retries) throw this.finalError(op, path, failures);
      await sleep(this.retryDelayMs * 2 ** round);
    }
  }

  private finalError(op: string, path: string, failures: { host: string; failure: Failure }[]): WebHdfsError {
    // The most telling failure decides the kind: a standby says less than why the other failed.
    const decisive = [...failures].reverse().find((f) => f.failure.kind !== 'standby') ?? failures[failures.length - 1]!;
    const details =
      this.location.hosts.length > 1 ? failures.map((f) => `${f.host}: ${f.failure.detail}`) : [`${decisive.failure.detail} (${decisive.host})`];
    return new WebHdfsError(decisive.failure.kind, this.message(op, path, details), decisive.failure.unsupportedOp === true);
  }

  private statuses(op: string, path: string, holder: unknown, checkFile = true): HdfsFileStatus[] {
    const list = (holder as { FileStatus?: unknown } | null | undefined)?.FileStatus;
    if (!Array.isArray(list)) throw new WebHdfsError('unreadable', this.message(op, path, [unexpected()]));
    const out: HdfsFileStatus[] = [];
    for (const item of list) {
      const status = fileStatus(item);
      if (status === null) continue;
      if (status.pathSuffix === '') {
        // WebHDFS lists a file as itself.
        if (checkFile && status.type !== 'DIRECTORY') throw new WebHdfsError('not-found', this.message(op, path, ['is a file, not a directory']));
        continue;
      }
      // Never a name that leads elsewhere, whatever the server says.
      if (status.pathSuffix.includes('/') || status.pathSuffix === '.' || status.pathSuffix === '..') continue;
      out.push(status);
    }
    return out;
  }
}

/** HDFS orders names by their UTF-8 bytes. */
function byteOrder(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

function unexpected(): string {
  return 'answered with a document of an unexpected shape';
}

function fileStatus(raw: unknown): HdfsFileStatus | null {
  if (raw === null || typeof raw !== 'object') return null;
  const r = raw as Record<string, unknown>;
  if (typeof r.pathSuffix !== 'string') return null;
  const type = r.type === 'DIRECTORY' || r.type === 'FILE' || r.type === 'SYMLINK' ? r.type : null;
  if (type === null) return null;
  const num = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : 0);
  return { pathSuffix: r.pathSuffix, type, length: num(r.length), modificationTime: num(r.modificationTime) };
}

/** A WebHDFS error answer as a Failure (SPEC §3's trouble kinds). */
function classify(status: number, op: string, exception: string, javaClassName: string, message: string): Failure {
  const said = message ? `${exception || `HTTP ${status}`}: ${message}` : exception || `HTTP ${status}`;
  const f = (kind: StoreErrorKind, next: boolean, retry: boolean, detail = said): Failure => ({ kind, detail, next, retry });
  const shortClass = javaClassName.slice(javaClassName.lastIndexOf('.') + 1);
  if (exception === 'StandbyException') return f('standby', true, true, `is a standby NameNode (${said})`);
  if (exception === 'SafeModeException' || (exception === 'RetriableException' && /safe ?mode/i.test(message))) return f('safe-mode', false, false);
  if (exception === 'RetriableException') return f('unavailable', true, true);
  if (exception === 'FileNotFoundException') return f('not-found', false, false);
  if (exception === 'AccessControlException') return f('permission', false, false);
  if (AUTH_EXCEPTIONS.has(exception) || AUTH_EXCEPTIONS.has(shortClass)) return f('auth', false, false);
  if (
    (status === 400 || status === 501) &&
    (exception === 'IllegalArgumentException' || exception === 'UnsupportedOperationException' || exception === '') &&
    (status === 501 || exception === 'UnsupportedOperationException' || message.includes(op) || /parameter\s+\\?"?op/i.test(message))
  ) {
    return { ...f('unreadable', false, false, `does not support ${op} (${said})`), unsupportedOp: true };
  }
  if (status === 401 || status === 403) return f('auth', false, false);
  if (status === 404) return f('not-found', false, false);
  if (status === 429) return f('throttled', false, true);
  if (status === 503) return f('unavailable', true, true);
  if (status >= 500) return f('unavailable', true, true);
  return f('unreadable', false, false);
}

/**
 * The body, at most `max` bytes: `over` when there was more (the rest is not read). With
 * `truncate` the first `max` bytes are returned; else nothing.
 */
async function readBounded(res: Response, max: number, truncate: boolean): Promise<{ bytes: Buffer; over: boolean }> {
  const reader = res.body?.getReader();
  if (reader === undefined) return { bytes: Buffer.alloc(0), over: false };
  const chunks: Buffer[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    const chunk = Buffer.from(value.buffer, value.byteOffset, value.byteLength);
    if (total + chunk.length > max) {
      if (truncate) chunks.push(chunk.subarray(0, max - total));
      await reader.cancel().catch(() => undefined);
      return { bytes: truncate ? Buffer.concat(chunks) : Buffer.alloc(0), over: true };
    }
    chunks.push(chunk);
    total += chunk.length;
  }
  return { bytes: Buffer.concat(chunks), over: false };
}
