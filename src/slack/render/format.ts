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
export function clip(text: string, max = 2900): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

export interface SlackMessage {
  text: string;
  blocks?: unknown[];
}

/** Slack allows 50 blocks per message; a few are left for callers that add their own. */
export const MAX_PARAGRAPH_BLOCKS = 45;

/**
 * A message of plain mrkdwn paragraphs, one section each (long answers split into blocks).
 * Past the block limit the last block says how many paragraphs were left out, instead of
 * dropping them silently.
 */
export function mrkdwnMessage(text: string, paragraphs: string[] = [text]): SlackMessage {
  const nonEmpty = paragraphs.filter((p) => p.trim());
  const shown =
    nonEmpty.length <= MAX_PARAGRAPH_BLOCKS
      ? nonEmpty
      : [...nonEmpty.slice(0, MAX_PARAGRAPH_BLOCKS - 1), `… and ${nonEmpty.length - (MAX_PARAGRAPH_BLOCKS - 1)} more`];
  return {
    text: clip(text, 3900),
    blocks: shown.map((p) => ({ type: 'section', text: { type: 'mrkdwn', text: clip(p) } })),
  };
}
