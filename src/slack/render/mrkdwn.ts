// Text the bot did not write (module and file names, FQNs, user names, git output, paths,
// reasons, what a user typed) is made inert before it goes into a Slack message: one escape,
// used by every message, modal and Home view (SPEC §4). Only the Slack edge writes mrkdwn.

const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;' };

/**
 * `&`, `<`, `>` escaped as Slack asks, so no name can form a mention (`<!channel>`, `<@U…>`,
 * `<!subteam^…>`) or a link (`<tel:…|Click here>`); control characters (a newline could forge
 * a line of its own) shown as U+FFFD.
 */
export function esc(text: string): string {
  return text.replace(/[&<>]/g, (c) => ENTITIES[c]!).replace(/[\u0000-\u001f\u007f\u2028\u2029]/g, '\uFFFD');
}

/** Foreign text as inline code: escaped, and a backtick inside cannot end the code span. */
export function code(text: string): string {
  return `\`${esc(text).replaceAll('`', 'ˋ')}\``;
}
