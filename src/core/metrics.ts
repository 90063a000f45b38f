// What the bot counts for operators (SPEC §4 GET /metrics): use cases and adapters report here;
// the Prometheus adapter (src/infra/metrics/) turns it into text. Nothing here knows Prometheus.

export type SlackCallOutcome = 'ok' | 'rate_limited' | 'error';
export type GitOutcome = 'ok' | 'failed' | 'timeout';

export interface Metrics {
  /** One publisher's scan: how long it took and whether its publish dir was listed to the end. */
  scanned(publisher: string, seconds: number, outcome: 'ok' | 'partial' | 'failed'): void;
  /** Versions of a publisher the bot knows complete, and those seen but not complete yet. */
  versionCounts(publisher: string, known: number, pending: number): void;
  /** A version's announcement was posted `lagSeconds` after the version became complete. */
  announced(publisher: string, lagSeconds: number): void;
  /** One Slack Web API call (`rate_limited`: Slack answered 429; `errorClass`: Slack's error or the failure's kind). */
  slackCall(method: string, outcome: SlackCallOutcome, errorClass?: string): void;
  /** One git operation (`fetch`, `push`, `clone`, …). */
  gitOperation(kind: string, outcome: GitOutcome, seconds: number): void;
  /** One command answered (slash command, button, modal), by name and outcome. */
  command(name: string, outcome: string, seconds: number): void;
}

/** For tools and tests that count nothing. */
export const NO_METRICS: Metrics = {
  scanned: () => undefined,
  versionCounts: () => undefined,
  announced: () => undefined,
  slackCall: () => undefined,
  gitOperation: () => undefined,
  command: () => undefined,
};
