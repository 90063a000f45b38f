// Slack request signing, done exactly as Slack does it, so the stand-in can drive the
// bot's real signature-verifying endpoint (and tests can forge stale or wrong signatures).
// https://api.slack.com/authentication/verifying-requests-from-slack
import { createHmac } from 'node:crypto';

/** What Slack is delivering: decides how the body is encoded. */
export type SlackRequestKind = 'command' | 'interaction' | 'event';

/**
 * Body of a request to the bot, before encoding:
 * - `command`: the slash-command form fields (sent as `a=1&b=2`);
 * - `interaction`: the interaction payload object (sent as the form field `payload=<json>`);
 * - `event`: the Events API envelope (sent as JSON).
 * A string is sent as-is (already encoded), which lets tests send malformed bodies.
 */
export type SlackRequestBody = string | Record<string, unknown>;

export interface SignedRequestOptions {
  signingSecret: string;
  kind: SlackRequestKind;
  body: SlackRequestBody;
  /** Unix seconds for `X-Slack-Request-Timestamp`; defaults to now. Pass an old one to test staleness. */
  timestamp?: number;
}

/** A ready-to-send request: pass `url` and the rest straight to `fetch`. */
export interface SignedRequest {
  url: string;
  method: 'POST';
  headers: Record<string, string>;
  body: string;
}

/** `v0=<hex HMAC-SHA256 of "v0:<timestamp>:<rawBody>">`, the value of `X-Slack-Signature`. */
export function signSlackRequest(secret: string, timestamp: number | string, rawBody: string): string {
  const hex = createHmac('sha256', secret).update(`v0:${timestamp}:${rawBody}`).digest('hex');
  return `v0=${hex}`;
}

/** Encodes the body the way Slack does for that kind of request. */
export function encodeSlackBody(kind: SlackRequestKind, body: SlackRequestBody): string {
  if (typeof body === 'string') return body;
  switch (kind) {
    case 'command':
      return new URLSearchParams(stringFields(body)).toString();
    case 'interaction':
      return new URLSearchParams({ payload: JSON.stringify(body) }).toString();
    case 'event':
      return JSON.stringify(body);
  }
}

export function contentTypeFor(kind: SlackRequestKind): string {
  return kind === 'event' ? 'application/json' : 'application/x-www-form-urlencoded';
}

/** Builds the signed POST Slack would send to `botUrl` (e.g. `http://127.0.0.1:3000/slack/events`). */
export function signedRequest(botUrl: string, options: SignedRequestOptions): SignedRequest {
  const timestamp = options.timestamp ?? Math.floor(Date.now() / 1000);
  const rawBody = encodeSlackBody(options.kind, options.body);
  return {
    url: botUrl,
    method: 'POST',
    headers: {
      'Content-Type': contentTypeFor(options.kind),
      'X-Slack-Request-Timestamp': String(timestamp),
      'X-Slack-Signature': signSlackRequest(options.signingSecret, timestamp, rawBody),
      'User-Agent': 'Slackbot 1.0 (+https://api.slack.com/robots)',
    },
    body: rawBody,
  };
}

// Slash-command fields are flat strings on the wire; booleans become "true"/"false".
function stringFields(fields: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(fields)) {
    if (value === undefined || value === null) continue;
    out[key] = typeof value === 'string' ? value : typeof value === 'object' ? JSON.stringify(value) : String(value);
  }
  return out;
}
