// GET /metrics (SPEC §4): the Metrics port as Prometheus text through prom-client. One registry
// per bot (tests start several in one process); gauges that mirror shared state are read when scraped.
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Metrics } from '../../core/metrics.ts';

export interface ScrapeSources {
  /** 1 when this replica scans and announces. */
  isLeader(): boolean;
  /** This replica's id (host:pid:…), a label of the leader gauge. */
  replica: string;
  /** Durable commands written and not yet done (all replicas). */
  pendingCommands(): Promise<number>;
}

export interface PrometheusMetrics extends Metrics {
  /** The text a scrape gets. */
  text(): Promise<string>;
  readonly contentType: string;
}

const SECONDS_BUCKETS = [0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];
const LAG_BUCKETS = [0.5, 1, 2, 5, 10, 30, 60, 120, 300, 900, 3600];

export function prometheusMetrics(sources: ScrapeSources): PrometheusMetrics {
  const registry = new Registry();
  const scanSeconds = new Histogram({ name: 'smvbot_scan_duration_seconds', help: 'Time to scan one publisher (listing and reading new versions)', labelNames: ['publisher', 'outcome'], buckets: SECONDS_BUCKETS, registers: [registry] });
  const scans = new Counter({ name: 'smvbot_scans_total', help: 'Scans of a publisher by outcome (ok; partial: the publish dir could not be listed to the end)', labelNames: ['publisher', 'outcome'], registers: [registry] });
  const known = new Gauge({ name: 'smvbot_versions_known', help: 'Complete versions the bot knows, per publisher', labelNames: ['publisher'], registers: [registry] });
  const pending = new Gauge({ name: 'smvbot_versions_pending', help: 'Versions seen but not complete yet (still writing or settling), per publisher', labelNames: ['publisher'], registers: [registry] });
  const lag = new Histogram({ name: 'smvbot_announcement_lag_seconds', help: 'From a version becoming complete to its announcement being posted', labelNames: ['publisher'], buckets: LAG_BUCKETS, registers: [registry] });
  const slack = new Counter({ name: 'smvbot_slack_api_calls_total', help: 'Slack Web API calls by method and outcome (ok, rate_limited = HTTP 429, error)', labelNames: ['method', 'outcome', 'error'], registers: [registry] });
  const git = new Histogram({ name: 'smvbot_git_operation_seconds', help: 'Git operations by kind and outcome', labelNames: ['kind', 'outcome'], buckets: SECONDS_BUCKETS, registers: [registry] });
  const commands = new Histogram({ name: 'smvbot_command_seconds', help: 'Commands answered, by name and outcome', labelNames: ['command', 'outcome'], buckets: SECONDS_BUCKETS, registers: [registry] });
  new Gauge({
    name: 'smvbot_leader',
    help: '1 when this replica scans and announces, else 0',
    labelNames: ['replica'],
    registers: [registry],
    collect() {
      this.set({ replica: sources.replica }, sources.isLeader() ? 1 : 0);
    },
  });
  new Gauge({
    name: 'smvbot_commands_pending',
    help: 'Durable commands received and not yet done (all replicas)',
    registers: [registry],
    async collect() {
      // An unreadable state leaves the last value: /healthz says why.
      this.set(await sources.pendingCommands().catch(() => NaN));
    },
  });
  return {
    contentType: registry.contentType,
    text: () => registry.metrics(),
    scanned(publisher, seconds, outcome) {
      scanSeconds.observe({ publisher, outcome }, seconds);
      scans.inc({ publisher, outcome });
    },
    versionCounts(publisher, k, p) {
      known.set({ publisher }, k);
      pending.set({ publisher }, p);
    },
    announced(publisher, seconds) {
      lag.observe({ publisher }, Math.max(0, seconds));
    },
    slackCall(method, outcome, errorClass) {
      slack.inc({ method, outcome, error: errorClass ?? '' });
    },
    gitOperation(kind, outcome, seconds) {
      git.observe({ kind, outcome }, seconds);
    },
    command(name, outcome, seconds) {
      commands.observe({ command: name, outcome }, seconds);
    },
  };
}

/** The route, unless SMVBOT_METRICS=off. */
export function metricsRoute(metrics: PrometheusMetrics) {
  return {
    method: 'GET' as const,
    path: '/metrics',
    async handle() {
      return { status: 200, contentType: metrics.contentType, body: await metrics.text() };
    },
  };
}
