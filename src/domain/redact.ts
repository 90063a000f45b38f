/** Remove `user:password@` from URLs so credentials never reach a reply or a log. */
export function redactUrlCredentials(text: string): string {
  // Most text holds no URL: spare it the regex, which tries every run of letters as a scheme.
  if (!text.includes('://')) return text;
  return text.replace(/([a-z][a-z0-9+.-]*:\/\/)[^/@\s]+@/gi, '$1***@');
}
