// Everything the bot sends to Slack passes through here: text scrubbed of secrets, modal state
// signed so a submission cannot carry state the bot did not write, and response_urls posted to
// only when they point at Slack (or the configured SLACK_API_URL host).
import { createHmac, timingSafeEqual } from 'node:crypto';

export interface Outbound {
  /** A copy with every string scrubbed of secrets (replies, views, messages). */
  scrub<T>(value: T): T;
  /** Whether a response_url may be posted to. */
  allowsResponseUrl(url: string | undefined): url is string;
  /** Limit for one post to a response_url. */
  readonly timeoutMs: number;
  /** Modal state as `private_metadata`, with a signature. */
  seal(state: object): string;
  /** The state back, or null when the signature does not match (forged or from another key). */
  unseal<T>(text: string): T | null;
}

export interface OutboundOptions {
  scrub<T>(value: T): T;
  apiUrl: string;
  /** Secret the signing key is derived from (signing secret, app token or bot token). */
  secret: string;
  /** Limit for one post to a response_url (default 10 s). */
  timeoutMs?: number;
}

export function createOutbound(opts: OutboundOptions): Outbound {
  const key = createHmac('sha256', opts.secret).update('smvbot private_metadata v1').digest();
  const mac = (text: string) => createHmac('sha256', key).update(text).digest('base64url');
  let apiHost: string | null = null;
  try {
    apiHost = new URL(opts.apiUrl).host;
  } catch {
    apiHost = null;
  }
  return {
    scrub: opts.scrub,
    timeoutMs: opts.timeoutMs ?? 10_000,
    allowsResponseUrl(url): url is string {
      if (!url) return false;
      let parsed: URL;
      try {
        parsed = new URL(url);
      } catch {
        return false;
      }
      if (parsed.username || parsed.password) return false;
      const slack = parsed.protocol === 'https:' && (parsed.hostname === 'slack.com' || parsed.hostname.endsWith('.slack.com')) && parsed.port === '';
      return slack || (apiHost !== null && parsed.host === apiHost);
    },
    seal(state) {
      const body = JSON.stringify(state);
      return JSON.stringify({ v: 1, body, mac: mac(body) });
    },
    unseal<T>(text: string): T | null {
      try {
        const sealed = JSON.parse(text) as { v?: unknown; body?: unknown; mac?: unknown };
        if (sealed.v !== 1 || typeof sealed.body !== 'string' || typeof sealed.mac !== 'string') return null;
        const expected = Buffer.from(mac(sealed.body));
        const given = Buffer.from(sealed.mac);
        if (expected.length !== given.length || !timingSafeEqual(expected, given)) return null;
        return JSON.parse(sealed.body) as T;
      } catch {
        return null;
      }
    },
  };
}
