// The Web API methods the stand-in answers by itself (a test can override any of them with
// `setHandler`): auth, posting and updating messages, users, views, Socket Mode's
// connections.open and conversations.history, with the Block Kit limits Slack enforces.
import type { SlackStandIn } from './slackStandIn.ts';
import type { MethodHandler, StoredMessage } from './types.ts';

export const BUILT_IN_METHODS: Record<string, MethodHandler> = {
  'auth.test': (_args, { standIn }) => {
    const ws = standIn.workspace;
    return {
      ok: true,
      url: `https://${ws.teamDomain}.slack.com/`,
      team: ws.teamName,
      user: 'smvbot',
      team_id: ws.teamId,
      user_id: ws.botUserId,
      bot_id: ws.botId,
      is_enterprise_install: false,
    };
  },

  'chat.postMessage': (args, { standIn }) => {
    const channel = stringArg(args, 'channel');
    if (!channel) return { ok: false, error: 'channel_not_found' };
    if (!hasContent(args)) return { ok: false, error: 'no_text' };
    const broken = blockLimitBroken(arrayArg(args, 'blocks') ?? []);
    if (broken) return { ok: false, error: 'invalid_blocks', response_metadata: { messages: [`[ERROR] ${broken}`] } };
    const ts = standIn.nextTs();
    const message: StoredMessage = {
      channel,
      ts,
      text: stringArg(args, 'text'),
      blocks: arrayArg(args, 'blocks'),
      metadata: args.metadata,
      threadTs: stringArg(args, 'thread_ts'),
      ephemeralTo: undefined,
      edited: false,
    };
    standIn.storeMessage(message);
    return { ok: true, channel, ts, message: slackMessage(standIn, message) };
  },

  // Replaces a message the bot posted (announcement updates); metadata is kept unless given again, as Slack does.
  'chat.update': (args, { standIn }) => {
    const channel = stringArg(args, 'channel');
    const ts = stringArg(args, 'ts');
    if (!channel) return { ok: false, error: 'channel_not_found' };
    const message = standIn.findMessage(channel, ts ?? '');
    if (!message || message.ephemeralTo !== undefined) return { ok: false, error: 'message_not_found' };
    if (!hasContent(args)) return { ok: false, error: 'no_text' };
    const broken = blockLimitBroken(arrayArg(args, 'blocks') ?? []);
    if (broken) return { ok: false, error: 'invalid_blocks', response_metadata: { messages: [`[ERROR] ${broken}`] } };
    message.text = stringArg(args, 'text');
    message.blocks = arrayArg(args, 'blocks');
    if (args.metadata !== undefined) message.metadata = args.metadata;
    message.edited = true;
    return { ok: true, channel, ts: message.ts, text: message.text };
  },

  'chat.postEphemeral': (args, { standIn }) => {
    const channel = stringArg(args, 'channel');
    const user = stringArg(args, 'user');
    if (!channel) return { ok: false, error: 'channel_not_found' };
    if (!user) return { ok: false, error: 'user_not_in_channel' };
    if (!hasContent(args)) return { ok: false, error: 'no_text' };
    const ts = standIn.nextTs();
    standIn.storeMessage({
      channel,
      ts,
      text: stringArg(args, 'text'),
      blocks: arrayArg(args, 'blocks'),
      metadata: undefined,
      threadTs: stringArg(args, 'thread_ts'),
      ephemeralTo: user,
      edited: false,
    });
    return { ok: true, message_ts: ts };
  },

  'users.info': (args, { standIn }) => {
    const id = stringArg(args, 'user');
    if (!id) return { ok: false, error: 'user_not_found' };
    const realName = standIn.realNameOf(id);
    const handle = standIn.userHandle(id);
    return {
      ok: true,
      user: {
        id,
        team_id: standIn.workspace.teamId,
        name: handle,
        deleted: false,
        real_name: realName,
        is_bot: false,
        profile: { real_name: realName, real_name_normalized: realName, display_name: handle },
      },
    };
  },

  'views.open': (args, { standIn }) => {
    const view = objectArg(args, 'view');
    if (!stringArg(args, 'trigger_id')) return { ok: false, error: 'invalid_trigger_id' };
    if (!view) return { ok: false, error: 'invalid_arguments' };
    const tooBig = selectLimitBroken(view);
    if (tooBig) return { ok: false, error: 'invalid_arguments', response_metadata: { messages: [`[ERROR] ${tooBig}`] } };
    const id = standIn.viewId();
    const stored = { ...view, id, team_id: standIn.workspace.teamId, state: { values: {} }, hash: `${Date.now()}.${id}` };
    standIn.storeView({ id, triggerId: stringArg(args, 'trigger_id'), view: stored });
    return { ok: true, view: stored };
  },

  // App Home: the view a user sees on the bot's Home tab (the latest one wins).
  'views.publish': (args, { standIn }) => {
    const view = objectArg(args, 'view');
    const user = stringArg(args, 'user_id');
    if (!user) return { ok: false, error: 'invalid_arguments' };
    if (!view) return { ok: false, error: 'invalid_arguments' };
    const id = standIn.viewId();
    const stored = { ...view, id, team_id: standIn.workspace.teamId, state: { values: {} }, hash: `${Date.now()}.${id}` };
    standIn.storeView({ id, triggerId: undefined, view: stored });
    return { ok: true, view: stored };
  },

  // Socket Mode: where to open the WebSocket (the app-level token was checked by the caller).
  'apps.connections.open': (_args, { standIn }) => ({ ok: true, url: standIn.socketModeUrl() }),

  // Newest first, like Slack; metadata only with include_all_metadata. Needs the history scopes.
  'conversations.history': (args, { standIn }) => {
    if (!standIn.hasHistoryScope) return { ok: false, error: 'missing_scope', needed: 'channels:history,groups:history', provided: 'chat:write,commands,users:read' };
    const channel = stringArg(args, 'channel');
    if (!channel) return { ok: false, error: 'channel_not_found' };
    const oldest = Number(stringArg(args, 'oldest') ?? '0');
    const latest = Number(stringArg(args, 'latest') ?? 'Infinity');
    const limit = Math.min(Math.max(Number(stringArg(args, 'limit') ?? '100') || 100, 1), 999);
    const withMetadata = args.include_all_metadata === true || args.include_all_metadata === 'true';
    const all = standIn
      .messages(channel)
      .filter((m) => !m.ephemeralTo && Number(m.ts) > oldest && Number(m.ts) < latest)
      .sort((x, y) => Number(y.ts) - Number(x.ts));
    const start = Number(stringArg(args, 'cursor') ?? '0') || 0;
    const page = all.slice(start, start + limit);
    const more = start + limit < all.length;
    return {
      ok: true,
      messages: page.map((m) => {
        const { metadata, ...message } = slackMessage(standIn, m);
        return withMetadata && metadata !== undefined ? { ...message, metadata } : message;
      }),
      has_more: more,
      response_metadata: { next_cursor: more ? String(start + limit) : '' },
    };
  },
};

function slackMessage(standIn: SlackStandIn, message: StoredMessage): Record<string, unknown> {
  const ws = standIn.workspace;
  const author = message.author ?? { botId: ws.botId, appId: ws.appId, user: ws.botUserId };
  return {
    type: 'message',
    ...(author.user ? { user: author.user } : {}),
    ...(author.botId ? { bot_id: author.botId } : {}),
    ...(author.appId ? { app_id: author.appId } : {}),
    team: ws.teamId,
    ts: message.ts,
    text: message.text ?? '',
    ...(message.blocks ? { blocks: message.blocks } : {}),
    ...(message.metadata !== undefined ? { metadata: message.metadata } : {}),
    ...(message.threadTs ? { thread_ts: message.threadTs } : {}),
    ...(message.edited ? { edited: { user: ws.botUserId, ts: standIn.nextTs() } } : {}),
  };
}

/** Slack's select limits: at most 100 options, option text at most 75 characters. */
function selectLimitBroken(view: Record<string, unknown>): string | null {
  const blocks = Array.isArray(view.blocks) ? (view.blocks as Record<string, unknown>[]) : [];
  for (const block of blocks) {
    const element = (block?.element ?? block?.accessory) as { options?: { text?: { text?: string } }[] } | undefined;
    const options = element?.options ?? [];
    if (options.length > 100) return `must provide at most 100 items [json-pointer:/view/blocks/${blocks.indexOf(block)}/element/options]`;
    const long = options.find((o) => (o.text?.text ?? '').length > 75);
    if (long) return `must be less than 76 characters [json-pointer:/view/blocks/${blocks.indexOf(block)}/element/options/text]`;
  }
  return null;
}

/**
 * The Block Kit limits Slack enforces on a message (it refuses the whole message with
 * `invalid_blocks`): 50 blocks, block_ids unique in the message, 25 elements per actions block
 * with action_ids unique in their block, section text 3000 characters, header text 150.
 */
function blockLimitBroken(blocks: unknown[]): string | null {
  if (blocks.length > 50) return 'no more than 50 items allowed [json-pointer:/blocks]';
  const blockIds = new Set<string>();
  for (const [i, raw] of blocks.entries()) {
    const block = raw as { type?: unknown; block_id?: unknown; text?: { text?: unknown }; elements?: { action_id?: unknown }[] } | null;
    if (typeof block?.block_id === 'string') {
      if (blockIds.has(block.block_id)) return `duplicate block_id [json-pointer:/blocks/${i}/block_id]`;
      blockIds.add(block.block_id);
    }
    const text = typeof block?.text?.text === 'string' ? block.text.text : '';
    if (block?.type === 'section' && text.length > 3000) return `must be less than 3001 characters [json-pointer:/blocks/${i}/text]`;
    if (block?.type === 'header' && text.length > 150) return `must be less than 151 characters [json-pointer:/blocks/${i}/text]`;
    if (block?.type === 'actions') {
      const elements = block.elements ?? [];
      if (elements.length > 25) return `no more than 25 items allowed [json-pointer:/blocks/${i}/elements]`;
      const actionIds = elements.map((e) => e?.action_id).filter((id) => typeof id === 'string');
      if (new Set(actionIds).size !== actionIds.length) return `duplicate action_id [json-pointer:/blocks/${i}/elements]`;
    }
  }
  return null;
}

function hasContent(args: Record<string, unknown>): boolean {
  return Boolean(stringArg(args, 'text') || arrayArg(args, 'blocks')?.length || arrayArg(args, 'attachments')?.length);
}

function stringArg(args: Record<string, unknown>, key: string): string | undefined {
  const value = args[key];
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function arrayArg(args: Record<string, unknown>, key: string): unknown[] | undefined {
  const value = args[key];
  return Array.isArray(value) ? value : undefined;
}

function objectArg(args: Record<string, unknown>, key: string): Record<string, unknown> | undefined {
  const value = args[key];
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}
