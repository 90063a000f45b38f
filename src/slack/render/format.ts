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

/** Section text must stay under Slack's 3000-character limit. */
export function clip(text: string, max = 2900): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

export interface SlackMessage {
  text: string;
  blocks?: unknown[];
}

/** A message of plain mrkdwn paragraphs, one section each (long answers split into blocks). */
export function mrkdwnMessage(text: string, paragraphs: string[] = [text]): SlackMessage {
  return {
    text: clip(text, 3900),
    blocks: paragraphs.filter((p) => p.trim()).slice(0, 45).map((p) => ({ type: 'section', text: { type: 'mrkdwn', text: clip(p) } })),
  };
}
