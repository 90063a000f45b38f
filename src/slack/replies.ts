// Where answers go: the response_url while Slack takes it, else the channel, else the user's DM.
import type { App } from '@slack/bolt';
import type { Outbound } from './outbound.ts';
import type { BotServices, Reply } from './services.ts';

/**
 * Answer through the response_url when it is Slack's (or the configured API host's), else post
 * to the channel. A response_url pointing anywhere else is never posted to.
 */
export async function sendReply(
  client: App['client'],
  outbound: Outbound,
  services: BotServices,
  responseUrl: string | undefined,
  channelId: string,
  userId: string,
  reply: Reply,
): Promise<void> {
  const safe = outbound.scrub(reply);
  if (outbound.allowsResponseUrl(responseUrl)) {
    const res = await fetch(responseUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(safe),
      signal: AbortSignal.timeout(outbound.timeoutMs),
    }).catch(() => null);
    if (res?.ok) return;
    services.log.warn({ channel: channelId, status: res?.status ?? null }, 'response_url did not take the answer; sending it through the Web API instead');
  } else if (responseUrl) {
    services.log.warn({ channel: channelId }, 'response_url is not a Slack URL; answering in the channel instead');
  }
  const content = { text: safe.text, ...(safe.blocks ? { blocks: safe.blocks } : {}) };
  try {
    if (!channelId) throw new Error('no channel to answer in');
    if (safe.response_type === 'in_channel') await client.chat.postMessage({ channel: channelId, ...content });
    else await client.chat.postEphemeral({ channel: channelId, user: userId, ...content });
  } catch (error) {
    // Last path: the user's messages tab with the bot (posting to a user id), so the answer is not lost.
    services.log.warn({ err: error, channel: channelId }, 'could not answer in the channel; sending the answer to the user directly');
    await client.chat.postMessage({ channel: userId, ...content });
  }
}

