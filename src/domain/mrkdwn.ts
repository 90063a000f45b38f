// Text the bot did not write (module and file names, FQNs, user names, git output, paths,
// reasons, what a user typed) is made inert before it goes into a Slack message: one escape,
// used by every message, modal and Home view (SPEC §4). Pure, so refusals built in core and
// domain use it too.

const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;' };

/**
 * `&`, `<`, `>` escaped as Slack asks, so no name can form a mention (`<!channel>`, `<@U…>`,
 * `<!subteam^…>`) or a link (`<tel:…|Click here>`); control characters (a newline could forge
 * a line of its own) shown as U+FFFD.
 */
export function esc(text: string): string {
  return text.replace(/[&<>]/g, (c) => ENTITIES[c]!).replace(/[\u0000-\u001f\u007f\u2028\u2029]/g, '\uFFFD');
}

/** `2016-08-02 10:00 UTC`: readable in a transcript, unambiguous across time zones. */
export function formatTime(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return `${d.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

/** Foreign text as inline code: escaped, and a backtick inside cannot end the code span. */
export function code(text: string): string {
  return `\`${esc(text).replaceAll('`', 'ˋ')}\``;
}
