import type { KnownBlock } from '@slack/types';

// Small text helpers shared by every Block Kit renderer.

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KB', 'MB', 'GB', 'TB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value >= 10 ? value.toFixed(0) : value.toFixed(1)} ${units[unit]}`;
}

/** `2016-08-02 10:00 UTC`: readable in a transcript, unambiguous across time zones. */
export function formatTime(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return `${d.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

/** Slack renders this in the reader's own time zone; the fallback is for clients that cannot. */
export function slackDate(iso: string): string {
  const seconds = Math.floor(new Date(iso).getTime() / 1000);
  return `<!date^${seconds}^{date_short_pretty} {time}|${formatTime(iso)}>`;
}

export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

export function shortSha(sha: string): string {
  return sha.slice(0, 7);
}

/** A bulleted list capped at `max` lines, ending with "… and N more". */
export function cappedList(lines: string[], max: number): string {
  if (lines.length <= max) return lines.join('\n');
  return [...lines.slice(0, max), `… and ${lines.length - max} more`].join('\n');
}

/** An inline list `a, b, c, … and N more`, for places where lines would take too much room. */
export function cappedInline(items: string[], max: number): string {
  if (items.length <= max) return items.join(', ');
  return `${items.slice(0, max).join(', ')}, … and ${items.length - max} more`;
}

/** Section text must stay under Slack's 3000-character limit (fields: 2000; pass `max`). */
const SECTION_TEXT_MAX = 2900;

/** An entity, a Slack `<…>` or a high surrogate that a cut left unfinished at the end. */
const UNFINISHED_AT_END = /(?:&[a-z0-9#]*|<[^<>]*|[\uD800-\uDBFF])$/i;

/**
 * `text` cut to at most `max` characters, ending in `…` when cut. The cut never ends inside an
 * escape (`&lt;` cut to `&l` would show as text), Slack markup (`<@U…>`, `<!date^…|…>`) or a
 * surrogate pair: it moves back before them.
 */
export function clip(text: string, max = SECTION_TEXT_MAX): string {
  if (text.length <= max) return text;
  return `${text.slice(0, max - 1).replace(UNFINISHED_AT_END, '')}…`;
}


export interface SlackMessage {
  text: string;
  blocks?: KnownBlock[];
}

/** Slack allows 50 blocks per message; a few are left for callers that add their own. */
export const MAX_PARAGRAPH_BLOCKS = 45;
/** Total block text of one message: enough for about 100 stages, well inside what Slack takes. */
export const MAX_MESSAGE_CHARS = 30_000;

/**
 * A message of plain mrkdwn paragraphs, packed into as few section blocks as Slack's
 * 3000-character limit allows (so 50 stages fit). Past the block limit the last block says how
 * many paragraphs were left out, instead of dropping them silently; `notRendered` more were
 * left out before rendering (counted in that line too).
 */
export function mrkdwnMessage(text: string, paragraphs: string[] = [text], notRendered = 0): SlackMessage {
  const blocks: { text: string; count: number }[] = [];
  for (const p of paragraphs.filter((p) => p.trim()).map((p) => clip(p))) {
    const last = blocks.at(-1);
    if (last && last.text.length + 1 + p.length <= SECTION_TEXT_MAX) {
      last.text += `\n${p}`;
      last.count++;
    } else blocks.push({ text: p, count: 1 });
  }
  // Bounded in blocks and in total size (a message of 45 full blocks would be over 130 KB).
  let fit = 0;
  let size = 0;
  while (fit < blocks.length && fit < MAX_PARAGRAPH_BLOCKS && size + blocks[fit]!.text.length <= MAX_MESSAGE_CHARS) size += blocks[fit++]!.text.length;
  let shown = blocks.map((b) => b.text);
  if (fit < blocks.length || notRendered > 0) {
    const kept = blocks.slice(0, Math.min(fit, MAX_PARAGRAPH_BLOCKS - 1));
    const left = blocks.slice(kept.length).reduce((n, b) => n + b.count, 0) + notRendered;
    shown = [...kept.map((b) => b.text), `… and ${left} more`];
  }
  return {
    text: clip(text, 3900),
    blocks: shown.map((p): KnownBlock => ({ type: 'section', text: { type: 'mrkdwn', text: p } })),
  };
}
