import type { Button, KnownBlock } from '@slack/types';
import { code, esc } from './mrkdwn.ts';
import type { ConsumerDigest, DigestLine, DigestReason } from '../../core/digest.ts';
import { ADOPT_ACTION_PREFIX, type AdoptButtonValue } from './announcement.ts';
import { clip, cappedInline, formatTime, plural, type SlackMessage } from './format.ts';
import { pinIssueText } from './pinIssues.ts';

/** Slack allows 50 blocks in a message: a header and a context line, one section per stage, one "… and N more". */
export const MAX_DIGEST_LINES = 46;

/**
 * The digest of one consumer: one section per stage that needs attention, each with an Adopt
 * latest button in the announcement's format (so the announcement's handler runs it, for the
 * channel's consumer). A consumer whose pins could not be read gets a short notice instead.
 */
export function renderDigest(digest: ConsumerDigest): SlackMessage {
  const name = esc(digest.consumer.name);
  if (!digest.ok) {
    const text =
      `Pin digest for ${name}: its pins could not be read from branch ${code(digest.consumer.branch)} (${esc(digest.error)}), ` +
      `so nothing is known about how current they are. \`/healthz\` lists the problem; \`/smv pins ${digest.consumer.name}\` tries again.`;
    return { text: clip(text, 3900), blocks: [{ type: 'section', text: { type: 'mrkdwn', text: clip(text) } }] };
  }
  const { lines } = digest;
  const shown = lines.slice(0, MAX_DIGEST_LINES);
  const blocks: KnownBlock[] = [
    { type: 'header', text: { type: 'plain_text', text: clip(`Pin digest: ${digest.consumer.name}`, 150) } },
    {
      type: 'context',
      elements: [
        {
          type: 'mrkdwn',
          text: clip(
            `${plural(lines.length, 'stage')} of ${name} (branch ${code(digest.consumer.branch)}) need attention. ` +
              `Every pin: \`/smv pins ${digest.consumer.name}\`.`,
            2000,
          ),
        },
      ],
    },
    ...shown.map((line, i) => lineBlock(line, i)),
  ];
  if (lines.length > shown.length) {
    blocks.push({
      type: 'context',
      elements: [{ type: 'mrkdwn', text: `… and ${lines.length - shown.length} more: type \`/smv pins ${digest.consumer.name}\` for every stage.` }],
    });
  }
  const summary = lines.map((l) => `${esc(l.stage.displayName)} ${l.reasons.map(shortReason).join(', ')}`);
  return { text: clip(`Pin digest for ${name}: ${cappedInline(summary, 10)}`, 3900), blocks };
}

function lineBlock(line: DigestLine, i: number): KnownBlock {
  const text = [`*${esc(line.stage.displayName)}* pinned to ${code(line.pinned)}`, ...line.reasons.map((r) => `• ${describeReason(r)}`)].join('\n');
  return {
    type: 'section',
    text: { type: 'mrkdwn', text: clip(text) },
    ...(line.adopt ? { accessory: adoptLatestButton(line, line.adopt.version, i) } : {}),
  };
}

function describeReason(reason: DigestReason): string {
  switch (reason.kind) {
    case 'behind':
      return (
        `${plural(reason.versions, 'version')} behind ${code(reason.newest.version)} (completed ${ago(reason.newestDays)}); ` +
        `behind since ${code(reason.firstNewer.version)} completed ${ago(reason.behindDays)}`
      );
    case 'not-published':
      return pinIssueText(reason);
    case 'not-synced':
      // As `/smv pins` warns, always starting "not synced".
      return reason.sync ? pinIssueText(reason) : `not synced: ${pinIssueText(reason)}`;
    case 'deprecated': {
      const d = reason.deprecation;
      return `:warning: deprecated by ${esc(d.by.name)} on ${formatTime(d.at)}${d.reason ? `: ${esc(d.reason)}` : ''}. Adopt a good version.`;
    }
  }
}

function shortReason(reason: DigestReason): string {
  switch (reason.kind) {
    case 'behind':
      return `${plural(reason.versions, 'version')} behind for ${reason.behindDays === 0 ? 'less than a day' : plural(reason.behindDays, 'day')}`;
    case 'not-published':
      return 'pinned to a version no longer published';
    case 'not-synced':
      return 'not synced';
    case 'deprecated':
      return 'pinned to a deprecated version';
  }
}

function ago(days: number): string {
  return days === 0 ? 'today' : `${plural(days, 'day')} ago`;
}

/** The announcement's Adopt button (action id prefix and `{stage, version}` value), for the newest adoptable version. */
function adoptLatestButton(line: DigestLine, version: string, i: number): Button {
  const value: AdoptButtonValue = { stage: line.stage.fqn, version };
  return {
    type: 'button',
    action_id: `${ADOPT_ACTION_PREFIX}:digest:${i}`,
    text: { type: 'plain_text', text: 'Adopt latest' },
    value: JSON.stringify(value),
    confirm: {
      title: { type: 'plain_text', text: 'Adopt this version?' },
      text: { type: 'mrkdwn', text: clip(`Pin *${esc(line.stage.displayName)}* to ${code(version)} in this channel's consumer config (a commit pushed to its repo).`, 300) },
      confirm: { type: 'plain_text', text: 'Adopt' },
      deny: { type: 'plain_text', text: 'Cancel' },
    },
  };
}
