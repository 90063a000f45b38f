// What happened at the stand-in, in arrival order: every Web API attempt and every post to a
// response URL, failed ones included, and waiting for one that is still to come.
import { EventEmitter } from 'node:events';
import type { ApiCall, ResponseUrlPost, StandInRecord } from './types.ts';

const DEFAULT_WAIT_MS = 10_000;

export class CallLog {
  private readonly records: StandInRecord[] = [];
  private readonly events = new EventEmitter();
  private closed = false;
  private seq = 0;

  constructor() {
    this.events.setMaxListeners(0);
  }

  /** Numbers the record (`seq`), keeps it and wakes whoever waits for it. */
  record(record: StandInRecord): void {
    record.seq = ++this.seq;
    this.records.push(record);
    this.events.emit('record', record);
  }

  /** No more records: pending waits fail. */
  close(): void {
    this.closed = true;
    this.events.emit('closed');
  }

  calls(method?: string): ApiCall[] {
    return this.records.filter((r): r is ApiCall => r.kind === 'call' && (method === undefined || r.method === method));
  }

  responses(idOrUrl?: string): ResponseUrlPost[] {
    const id = idOrUrl === undefined ? undefined : responseIdOf(idOrUrl);
    return this.records.filter((r): r is ResponseUrlPost => r.kind === 'response' && (id === undefined || r.id === id));
  }

  clear(): void {
    this.records.length = 0;
  }

  /** Resolves with the first record, already seen or still to come, that matches. */
  waitFor<R extends StandInRecord>(predicate: (record: StandInRecord) => record is R, timeoutMs?: number, what?: string): Promise<R>;
  waitFor(predicate: (record: StandInRecord) => boolean, timeoutMs?: number, what?: string): Promise<StandInRecord>;
  waitFor(predicate: (record: StandInRecord) => boolean, timeoutMs = DEFAULT_WAIT_MS, what = 'a matching record'): Promise<StandInRecord> {
    const seen = this.records.find(predicate);
    if (seen) return Promise.resolve(seen);
    if (this.closed) return Promise.reject(new Error(`The Slack stand-in is closed; no longer waiting for ${what}.`));
    return new Promise((resolve, reject) => {
      const cleanup = () => {
        clearTimeout(timer);
        this.events.off('record', onRecord);
        this.events.off('closed', onClosed);
      };
      const onRecord = (record: StandInRecord) => {
        let matches: boolean;
        try {
          matches = predicate(record);
        } catch (error) {
          cleanup();
          reject(error instanceof Error ? error : new Error(String(error)));
          return;
        }
        if (matches) {
          cleanup();
          resolve(record);
        }
      };
      const onClosed = () => {
        cleanup();
        reject(new Error(`The Slack stand-in was closed while waiting for ${what}.`));
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`Timed out after ${timeoutMs} ms waiting for ${what}. Recorded so far: ${this.summary()}`));
      }, timeoutMs);
      this.events.on('record', onRecord);
      this.events.on('closed', onClosed);
    });
  }

  /** First call to `method` matching `predicate` (default: a successful call), seen or to come. */
  waitForCall(method: string, predicate: (call: ApiCall) => boolean = (call) => call.ok, timeoutMs?: number): Promise<ApiCall> {
    return this.waitFor(
      (r): r is ApiCall => r.kind === 'call' && r.method === method && predicate(r),
      timeoutMs,
      `a ${method} call`,
    );
  }

  /** First successful post to the given response URL (or id), seen or to come. */
  waitForResponse(idOrUrl: string, timeoutMs?: number): Promise<ResponseUrlPost> {
    const id = responseIdOf(idOrUrl);
    return this.waitFor(
      (r): r is ResponseUrlPost => r.kind === 'response' && r.id === id && r.ok,
      timeoutMs,
      `a post to response_url ${id}`,
    );
  }

  private summary(): string {
    if (this.records.length === 0) return 'nothing.';
    const shown = this.records.slice(-20);
    const skipped = this.records.length - shown.length;
    return (skipped > 0 ? `(${skipped} earlier) ` : '') + shown
      .map((r) => (r.kind === 'call' ? `${r.method}${r.ok ? '' : `(failed: ${r.error})`}` : `response_url ${r.id}${r.ok ? '' : `(failed: ${r.status})`}`))
      .join(', ');
  }
}

/** The id of a response URL (`…/response/<id>`), or the argument when it is an id already. */
export function responseIdOf(idOrUrl: string): string {
  const match = /\/response\/([A-Za-z0-9]+)\/?$/.exec(idOrUrl);
  return match?.[1] ?? idOrUrl;
}
