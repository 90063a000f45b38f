// The Slack stand-in's vocabulary: what it records (Web API calls, response_url posts), what it
// holds (messages, views), how it is configured (workspace, options, faults, method overrides),
// and the requests it builds for the bot and the bot's answers. Imported through slackStandIn.ts.
import type { SlackRequestKind } from './signing.ts';
import type { SlackStandIn } from './slackStandIn.ts';

/**
 * What to answer instead of the normal result (see `failNext`). `reset: 'after-store'` runs the
 * method (a message is stored) and then drops the connection without an answer: Slack has the
 * message, the client cannot know. `reset: 'before-store'` drops it without doing anything.
 * `hang` never answers (until the stand-in closes).
 */
export type Fault =
  | { status: 429; retryAfter: number }
  | { status: 500 }
  | { ok: false; error: string }
  | { reset: 'after-store' | 'before-store' }
  | { hang: true };

/** One Web API request as the stand-in saw it, in arrival order. */
export interface ApiCall {
  kind: 'call';
  /** Order among all records (calls and response_url posts), from 1. */
  seq: number;
  method: string;
  /** Arguments with form-encoded JSON fields (`blocks`, `metadata`, …) parsed back; without `token`. */
  args: Record<string, unknown>;
  /** From `Authorization: Bearer …` or the `token` field; null when absent. */
  token: string | null;
  atMs: number;
  /** True only when Slack answered HTTP 200 with `ok: true`. */
  ok: boolean;
  status: number;
  /** Slack error code (`ratelimited`, `channel_not_found`, `http_500`, …); null when ok. */
  error: string | null;
  /** The injected fault that produced this answer, if any: tells retries apart from real failures. */
  injected: Fault | null;
  /** JSON body that was returned (null for non-JSON answers such as a 500). */
  response: Record<string, unknown> | null;
}

/** One POST to a `response_url` (how the bot answers slash commands and button clicks later). */
export interface ResponseUrlPost {
  kind: 'response';
  seq: number;
  id: string;
  url: string;
  /** Parsed JSON body (the message: text, blocks, response_type, replace_original, …). */
  body: unknown;
  atMs: number;
  ok: boolean;
  status: number;
  injected: Fault | null;
}

export type StandInRecord = ApiCall | ResponseUrlPost;

/** A message as it now stands in a channel (posted, possibly updated). */
export interface StoredMessage {
  channel: string;
  ts: string;
  text: string | undefined;
  blocks: unknown[] | undefined;
  metadata: unknown;
  threadTs: string | undefined;
  /** Set for `chat.postEphemeral`: only this user sees it. */
  ephemeralTo: string | undefined;
  edited: boolean;
  /** Who posted it when not this app's bot (another app or a person); default: the bot. */
  author?: { botId?: string; appId?: string; user?: string };
}

/** A modal opened or updated through `views.open` / `views.update`. */
export interface StoredView {
  id: string;
  triggerId: string | undefined;
  view: Record<string, unknown>;
}

export interface CallContext {
  method: string;
  token: string | null;
  standIn: SlackStandIn;
}

/** Override for one method: returns the JSON body to send (include `ok`). */
export type MethodHandler = (
  args: Record<string, unknown>,
  context: CallContext,
) => Record<string, unknown> | Promise<Record<string, unknown>>;

export interface Workspace {
  teamId: string;
  teamDomain: string;
  teamName: string;
  appId: string;
  botUserId: string;
  botId: string;
  /** Deprecated Slack verification token, still sent in payloads. */
  verificationToken: string;
}

export const DEFAULT_WORKSPACE: Workspace = {
  teamId: 'T0SMVDEMO',
  teamDomain: 'smv-demo',
  teamName: 'SMV Demo',
  appId: 'A0SMVBOT',
  botUserId: 'U0SMVBOT',
  botId: 'B0SMVBOT',
  verificationToken: 'stand-in-verification-token',
};

export interface SlackStandInOptions {
  /** Port on 127.0.0.1; 0 (default) picks a free one. */
  port?: number;
  /** When set, any other token gets `invalid_auth`; otherwise any non-empty token is accepted. */
  botToken?: string;
  /** User directory for `users.info`: Slack user id → real name. */
  users?: Record<string, string>;
  /** Channel directory for `conversations.info` and payloads: channel id → name. */
  channels?: Record<string, string>;
  workspace?: Partial<Workspace>;
  /** When set, `apps.connections.open` accepts only this app-level token (`xapp-…`). */
  appToken?: string;
  /**
   * Whether the bot token has `channels:history`/`groups:history`: without them (the default)
   * `conversations.history` answers `missing_scope`, as Slack does.
   */
  historyScope?: boolean;
}

export interface StartedStandIn {
  /** Web API base, e.g. `http://127.0.0.1:PORT/api/`: pass as Bolt `clientOptions.slackApiUrl` / `SLACK_API_URL`. */
  url: string;
  /** Server origin, e.g. `http://127.0.0.1:PORT`. */
  baseUrl: string;
}

/** A request for the bot, built like Slack builds it; send it with `sendToBot`. */
export interface BotRequest {
  kind: SlackRequestKind;
  body: Record<string, unknown>;
  /** The `response_url` inside the request, when it has one: wait on it with `waitForResponse`. */
  responseUrl?: string;
}

export interface SlashCommandOptions {
  text: string;
  userId: string;
  channelId: string;
  userName?: string;
  command?: string;
}

export interface BlockActionOptions {
  actionId: string;
  value: string;
  userId: string;
  channelId: string;
  messageTs: string;
  /** Defaults to the block holding `actionId` in the stored message, else `actions`. */
  blockId?: string;
}

export interface ViewSubmissionOptions {
  userId: string;
  /** `view.state.values`: `{ [blockId]: { [actionId]: { type, value | selected_option | … } } }`. */
  values: Record<string, Record<string, unknown>>;
  /** The opened view to submit; defaults to the latest opened view with `callbackId`. */
  viewId?: string;
  callbackId?: string;
  privateMetadata?: string;
}

export interface BotAnswer {
  status: number;
  /** Parsed JSON when the bot answered JSON, else the raw text ('' for an empty ack). */
  body: unknown;
  text: string;
}
