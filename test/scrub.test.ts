import { describe, expect, it } from 'vitest';
import { createScrubber, scrubDeep } from '../src/infra/runtime/logger.ts';

describe('scrubbing what the bot sends', () => {
  const scrub = createScrubber(['s3cret-signing', 'xoxb-configured-1111', undefined, '']);

  it('removes configured secrets, Slack token shapes and URL credentials from every string of a reply', () => {
    const reply = {
      text: 'push to HTTPS://bot:pa55@git.example.test/x.git failed',
      blocks: [
        { type: 'section', text: { type: 'mrkdwn', text: 'secret is s3cret-signing; token xoxb-configured-1111' } },
        { type: 'context', elements: [{ type: 'mrkdwn', text: 'other token xapp-1-A0-123-abc and xoxp-9-9' }] },
      ],
    };
    const safe = scrubDeep(reply, scrub);
    const sent = JSON.stringify(safe);
    for (const secret of ['pa55', 's3cret-signing', 'xoxb-configured-1111', 'xapp-1-A0-123-abc', 'xoxp-9-9']) expect(sent).not.toContain(secret);
    expect(safe.text).toBe('push to HTTPS://***@git.example.test/x.git failed');
    expect(safe.blocks[0]!.text!.text).toBe('secret is [redacted]; token [redacted]');
    // The reply the bot keeps (a remembered answer) is not changed.
    expect(reply.blocks[0]!.text!.text).toContain('s3cret-signing');
  });

  it('returns parts with nothing to scrub as they are, and copies only the way to what changed', () => {
    const clean = { type: 'section', text: { type: 'mrkdwn', text: '*geo* TCD.20160802.geo' } };
    const dirty = { type: 'section', text: { type: 'mrkdwn', text: 'see https://u:p@h/' } };
    const reply = { text: 'releases', blocks: [clean, dirty] };
    expect(scrubDeep(clean, scrub)).toBe(clean);
    const safe = scrubDeep(reply, scrub);
    expect(safe).not.toBe(reply);
    expect(safe.blocks[0]).toBe(clean);
    expect(safe.blocks[1]!.text.text).toBe('see https://***@h/');
    expect(dirty.text.text).toBe('see https://u:p@h/');
  });
});
