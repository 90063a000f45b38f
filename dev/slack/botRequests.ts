// Requests Slack sends to the bot, built the way Slack builds them (slash command form fields,
// interaction payloads, Events API envelopes) from what the stand-in holds, and `sendToBot`,
// which signs one as Slack does and POSTs it to the bot's HTTP endpoint.
import { randomBytes } from 'node:crypto';
import { parseJsonOr } from './http.ts';
import { signedRequest } from './signing.ts';
import type { SlackStore } from './store.ts';
import type { BlockActionOptions, BotAnswer, BotRequest, SlashCommandOptions, ViewSubmissionOptions, Workspace } from './types.ts';

export class BotRequestBuilder {
  constructor(
    private readonly workspace: Workspace,
    private readonly store: SlackStore,
    /** A fresh response URL served by the stand-in. */
    private readonly responseUrl: () => string,
  ) {}

  /** The form fields Slack posts for a slash command. */
  slashCommand(options: SlashCommandOptions): BotRequest & { responseUrl: string } {
    const responseUrl = this.responseUrl();
    const ws = this.workspace;
    return {
      kind: 'command',
      responseUrl,
      body: {
        token: ws.verificationToken,
        team_id: ws.teamId,
        team_domain: ws.teamDomain,
        channel_id: options.channelId,
        channel_name: this.store.channelName(options.channelId),
        user_id: options.userId,
        user_name: options.userName ?? this.store.userHandle(options.userId),
        command: options.command ?? '/smv',
        text: options.text,
        api_app_id: ws.appId,
        is_enterprise_install: 'false',
        response_url: responseUrl,
        trigger_id: this.store.triggerId(),
      },
    };
  }

  /** The `payload` Slack posts when a user clicks a button in a message. */
  blockAction(options: BlockActionOptions): BotRequest & { responseUrl: string } {
    const responseUrl = this.responseUrl();
    const ws = this.workspace;
    const stored = this.store.findMessage(options.channelId, options.messageTs);
    const blockId = options.blockId ?? findBlockIdOf(stored?.blocks, options.actionId) ?? 'actions';
    const buttonText = findButtonText(stored?.blocks, options.actionId) ?? options.value;
    return {
      kind: 'interaction',
      responseUrl,
      body: {
        type: 'block_actions',
        user: this.payloadUser(options.userId),
        api_app_id: ws.appId,
        token: ws.verificationToken,
        container: { type: 'message', message_ts: options.messageTs, channel_id: options.channelId, is_ephemeral: false },
        trigger_id: this.store.triggerId(),
        team: { id: ws.teamId, domain: ws.teamDomain },
        enterprise: null,
        is_enterprise_install: false,
        channel: { id: options.channelId, name: this.store.channelName(options.channelId) },
        message: {
          type: 'message',
          user: ws.botUserId,
          bot_id: ws.botId,
          ts: options.messageTs,
          text: stored?.text ?? '',
          blocks: stored?.blocks ?? [],
          team: ws.teamId,
        },
        state: { values: {} },
        response_url: responseUrl,
        actions: [
          {
            action_id: options.actionId,
            block_id: blockId,
            text: { type: 'plain_text', text: buttonText, emoji: true },
            value: options.value,
            type: 'button',
            action_ts: this.store.nextTs(),
          },
        ],
      },
    };
  }

  /**
   * The `payload` Slack posts when a user clicks a button in a view the bot published (App Home):
   * the container is the view, there is no channel and no response_url.
   */
  viewBlockAction(options: { actionId: string; value: string; userId: string; viewId: string }): BotRequest {
    const ws = this.workspace;
    const stored = this.store.findView(options.viewId);
    const blocks = Array.isArray(stored?.view.blocks) ? (stored.view.blocks as unknown[]) : [];
    return {
      kind: 'interaction',
      body: {
        type: 'block_actions',
        user: this.payloadUser(options.userId),
        api_app_id: ws.appId,
        token: ws.verificationToken,
        container: { type: 'view', view_id: options.viewId },
        trigger_id: this.store.triggerId(),
        team: { id: ws.teamId, domain: ws.teamDomain },
        enterprise: null,
        is_enterprise_install: false,
        view: { ...(stored?.view ?? { type: 'home', blocks: [] }), id: options.viewId, team_id: ws.teamId, app_id: ws.appId, bot_id: ws.botId },
        actions: [
          {
            action_id: options.actionId,
            block_id: findBlockIdOf(blocks, options.actionId) ?? 'home',
            text: { type: 'plain_text', text: findButtonText(blocks, options.actionId) ?? options.value, emoji: true },
            value: options.value,
            type: 'button',
            action_ts: this.store.nextTs(),
          },
        ],
      },
    };
  }

  /** The `payload` Slack posts when a user submits a modal. */
  viewSubmission(options: ViewSubmissionOptions): BotRequest {
    const ws = this.workspace;
    const opened =
      (options.viewId && this.store.findView(options.viewId)) ||
      (options.callbackId && this.store.latestViewWithCallback(options.callbackId)) ||
      undefined;
    const base = opened?.view ?? {};
    const viewId = opened?.id ?? options.viewId ?? this.store.viewId();
    return {
      kind: 'interaction',
      body: {
        type: 'view_submission',
        team: { id: ws.teamId, domain: ws.teamDomain },
        user: this.payloadUser(options.userId),
        api_app_id: ws.appId,
        token: ws.verificationToken,
        trigger_id: this.store.triggerId(),
        view: {
          type: 'modal',
          blocks: [],
          private_metadata: '',
          callback_id: '',
          ...base,
          ...(options.callbackId !== undefined ? { callback_id: options.callbackId } : {}),
          ...(options.privateMetadata !== undefined ? { private_metadata: options.privateMetadata } : {}),
          id: viewId,
          team_id: ws.teamId,
          state: { values: options.values },
          hash: `${Math.floor(Date.now() / 1000)}.${randomBytes(4).toString('hex')}`,
          previous_view_id: null,
          root_view_id: viewId,
          app_id: ws.appId,
          app_installed_team_id: ws.teamId,
          bot_id: ws.botId,
        },
        response_urls: [],
        is_enterprise_install: false,
        enterprise: null,
      },
    };
  }

  /** An Events API envelope (`event_callback`) around `event`, e.g. `{ type: 'app_home_opened', user, tab: 'home' }`. */
  eventCallback(event: Record<string, unknown>): BotRequest {
    const ws = this.workspace;
    return {
      kind: 'event',
      body: {
        token: ws.verificationToken,
        team_id: ws.teamId,
        api_app_id: ws.appId,
        event: { event_ts: this.store.nextTs(), ...event },
        type: 'event_callback',
        event_id: `Ev${this.store.nextCounter()}${randomBytes(4).toString('hex').toUpperCase()}`,
        event_time: Math.floor(Date.now() / 1000),
        authorizations: [{ enterprise_id: null, team_id: ws.teamId, user_id: ws.botUserId, is_bot: true, is_enterprise_install: false }],
        is_ext_shared_channel: false,
      },
    };
  }

  private payloadUser(userId: string): Record<string, string> {
    const handle = this.store.userHandle(userId);
    return { id: userId, username: handle, name: handle, team_id: this.workspace.teamId };
  }
}

function findBlockIdOf(blocks: unknown[] | undefined, actionId: string): string | undefined {
  for (const block of blocks ?? []) {
    if (elementsOf(block).some((e) => e.action_id === actionId)) {
      const id = (block as Record<string, unknown>).block_id;
      return typeof id === 'string' ? id : undefined;
    }
  }
  return undefined;
}

function findButtonText(blocks: unknown[] | undefined, actionId: string): string | undefined {
  for (const block of blocks ?? []) {
    const element = elementsOf(block).find((e) => e.action_id === actionId);
    const text = (element?.text as Record<string, unknown> | undefined)?.text;
    if (typeof text === 'string') return text;
  }
  return undefined;
}

// Interactive elements live in `elements` (actions blocks) or `accessory` (section blocks).
function elementsOf(block: unknown): Record<string, unknown>[] {
  if (block === null || typeof block !== 'object') return [];
  const { elements, accessory } = block as { elements?: unknown; accessory?: unknown };
  const list = Array.isArray(elements) ? [...elements] : [];
  if (accessory) list.push(accessory);
  return list.filter((e): e is Record<string, unknown> => e !== null && typeof e === 'object');
}

// ---------- sending to the bot ----------

/** Signs `request` as Slack would and POSTs it to the bot; returns what the bot answered. */
export async function sendToBot(
  botUrl: string,
  signingSecret: string,
  request: Pick<BotRequest, 'kind' | 'body'>,
  options: { timestamp?: number } = {},
): Promise<BotAnswer> {
  const signed = signedRequest(botUrl, { signingSecret, kind: request.kind, body: request.body, ...options });
  const response = await fetch(signed.url, { method: signed.method, headers: signed.headers, body: signed.body });
  const text = await response.text();
  const isJson = (response.headers.get('content-type') ?? '').includes('application/json');
  return { status: response.status, body: isJson ? parseJsonOr(text, text) : text, text };
}
