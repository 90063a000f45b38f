// Fault injection: the answers queued to replace the normal ones (rate limits, 500s, Slack
// errors, dropped or hanging connections; see `Fault`), per Web API method or for response URLs.
import type { Fault } from './types.ts';

/** The queue key for posts to response URLs (`failNext('response_url', …)`). */
export const RESPONSE_URL_FAULT_KEY = 'response_url';

export class FaultQueue {
  private readonly faults = new Map<string, Fault[]>();

  /** The next `n` calls to `method` get `fault`. */
  failNext(method: string, n: number, fault: Fault): void {
    const queue = this.faults.get(method) ?? [];
    for (let i = 0; i < n; i++) queue.push(fault);
    this.faults.set(method, queue);
  }

  /** The fault for this call to `method`, if one is queued (it is used up). */
  take(method: string): Fault | undefined {
    return this.faults.get(method)?.shift();
  }
}
