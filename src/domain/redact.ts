/**
 * Remove `user:password@` from URLs so credentials never reach a reply or a log. The one login
 * left as it is: a plain user name on an SSH URL (`ssh://git@host`), which is not a secret (ssh
 * authenticates with keys) and tells which account the bot uses. On other schemes a lone user
 * may be a token (`https://<token>@host`), so any user part is masked there.
 */
export function redactUrlCredentials(text: string): string {
  // Most text holds no URL: spare it the regex, which tries every run of letters as a scheme.
  if (!text.includes('://')) return text;
  return text.replace(/([a-z][a-z0-9+.-]*):\/\/([^/@\s]+)@/gi, (_all, scheme: string, login: string) =>
    SSH_SCHEME.test(scheme) && PLAIN_USER.test(login) ? `${scheme}://${login}@` : `${scheme}://***@`,
  );
}

const SSH_SCHEME = /^(?:ssh|git\+ssh|ssh\+git)$/i;
const PLAIN_USER = /^[A-Za-z0-9._-]{1,64}$/;

/**
 * Remove the values of credentials where text names them as such: `Authorization:`/`authorization=`
 * headers (with their scheme), `password=` settings (libpq, URL queries) and `"password": "…"` in
 * JSON. Only the value is replaced; text that merely contains the same letters is left alone.
 */
export function redactCredentialSettings(text: string, replacement = '[redacted]'): string {
  const lower = text.toLowerCase();
  let out = text;
  if (lower.includes('authorization')) {
    out = out.replace(/\b((?:proxy-)?authorization)(["']?\s*[:=]\s*["']?)(?:(?:bearer|basic|token|digest)\s+)?[^\s"',;&]+/gi, `$1$2${replacement}`);
  }
  if (lower.includes('password') || lower.includes('passwd')) {
    out = out
      .replace(/\b(password|passwd)(\s*=\s*)(?:'[^']*'|[^\s"'&;,]+)/gi, `$1$2${replacement}`)
      .replace(/("(?:password|passwd)"\s*:\s*")(?:[^"\\]|\\.)*"/gi, `$1${replacement}"`);
  }
  return out;
}
