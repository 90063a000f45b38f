import { webApi } from '@slack/bolt';
import type { PostFailure } from '../core/announcementDelivery.ts';

/** The Web API client's error codes, from the client Bolt ships. */
const { ErrorCode } = webApi;

/** Slack errors that will not change by trying again (SPEC §4): recorded as failed, shown in /healthz. */
const PERMANENT = new Set(['channel_not_found', 'not_in_channel', 'is_archived', 'msg_too_long', 'invalid_blocks', 'invalid_metadata_format', 'restricted_action']);
/** The token itself is refused: no post can succeed until an operator fixes it. */
const AUTH = new Set(['invalid_auth', 'not_authed', 'token_revoked', 'token_expired', 'account_inactive', 'missing_scope', 'not_allowed_token_type']);
/**
 * Network failures that happen before a request is sent (no connection, name not found, TLS
 * refused): Slack cannot have the message, so sending again is safe. Anything else after the
 * request left (reset, timeout, closed socket) may have reached Slack.
 */
const NOT_SENT = /^(ECONNREFUSED|ENOTFOUND|EAI_AGAIN|ENETUNREACH|EHOSTUNREACH|UND_ERR_CONNECT_TIMEOUT|ERR_TLS_.*|CERT_.*|DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_VERIFY_LEAF_SIGNATURE)$/;

/** A Web API answer's error code (`channel_not_found`, …), when Slack answered with one. */
export function slackErrorCode(error: unknown): string | undefined {
  const code = (error as { data?: { error?: unknown } } | null)?.data?.error;
  return typeof code === 'string' ? code : undefined;
}

/** How a failed chat.postMessage is settled, from what Slack (or the network) said. */
export function classifyPostFailure(error: unknown): PostFailure {
  const code = slackErrorCode(error);
  if (code !== undefined) {
    if (AUTH.has(code)) return 'stop';
    if (PERMANENT.has(code)) return 'failed';
    return 'retry';
  }
  return mayHaveReachedSlack(error) ? 'unknown' : 'retry';
}

/**
 * Whether a failed request may have been stored by Slack anyway. Answers (platform errors, 429,
 * 5xx) say it was not; a connection that failed before sending says it was not; a reset, a
 * timeout or a socket closed mid-answer leaves it open.
 */
export function mayHaveReachedSlack(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  if (code === ErrorCode.PlatformError || code === ErrorCode.RateLimitedError || code === ErrorCode.HTTPError) return false;
  if (code === ErrorCode.RequestError) return !networkErrorBeforeSending((error as { original?: unknown }).original);
  // Not from the Web API client at all (a bug in rendering, say): nothing was sent.
  return false;
}

function networkErrorBeforeSending(error: unknown): boolean {
  for (let e: unknown = error, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && NOT_SENT.test(code)) return true;
  }
  return false;
}

/** What happened, in a few words an operator can act on (no request body, no token). */
export function describeFailure(error: unknown): string {
  const code = slackErrorCode(error);
  if (code !== undefined) return code;
  const e = error as { code?: unknown; statusCode?: unknown; retryAfter?: unknown; original?: unknown; message?: unknown } | null;
  if (e?.code === ErrorCode.HTTPError) return `HTTP ${String(e.statusCode)} from Slack`;
  if (e?.code === ErrorCode.RateLimitedError) return `rate limited (Retry-After ${String(e.retryAfter)} s)`;
  if (e?.code === ErrorCode.RequestError) {
    const parts: string[] = [];
    for (let c: unknown = e.original, depth = 0; c && depth < 4; c = (c as { cause?: unknown }).cause, depth++) {
      const name = (c as { name?: unknown }).name;
      const cc = (c as { code?: unknown }).code;
      const message = (c as { message?: unknown }).message;
      parts.push(typeof cc === 'string' ? cc : name === 'TimeoutError' ? 'timed out' : String(message ?? c));
    }
    return `request failed: ${parts.join(': ')}`;
  }
  return String(e?.message ?? error);
}
