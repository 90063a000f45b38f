import type { PostFailure } from '../core/scanAndAnnounce.ts';

/** Slack errors that will not change by trying again (SPEC §4): recorded as failed, shown in /healthz. */
const PERMANENT = new Set(['channel_not_found', 'not_in_channel', 'is_archived', 'msg_too_long', 'invalid_blocks', 'invalid_metadata_format', 'restricted_action']);
/** The token itself is refused: no post can succeed until an operator fixes it. */
const AUTH = new Set(['invalid_auth', 'not_authed', 'token_revoked', 'token_expired', 'account_inactive', 'missing_scope']);

/** How a failed chat.postMessage is settled, from the Web API error code Slack returned. */
export function classifyPostFailure(error: unknown): PostFailure {
  const code = (error as { data?: { error?: unknown } }).data?.error;
  if (typeof code !== 'string') return 'retry';
  if (AUTH.has(code)) return 'stop';
  if (PERMANENT.has(code)) return 'failed';
  return 'retry';
}
