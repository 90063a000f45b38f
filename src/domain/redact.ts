/** Remove `user:password@` from URLs so credentials never reach a reply or a log. */
export function redactUrlCredentials(text: string): string {
  // Most text holds no URL: spare it the regex, which tries every run of letters as a scheme.
  if (!text.includes('://')) return text;
  return text.replace(/([a-z][a-z0-9+.-]*:\/\/)[^/@\s]+@/gi, '$1***@');
}

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
