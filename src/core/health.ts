// The health rule (SPEC §4 /healthz): 200 with what an operator must fix, 503 while the bot
// cannot do its job at all (starting, the state unavailable or unwritable, Slack refusing the token).
import { leadershipProblem, type Leadership, type LeadershipReport } from './leadership.ts';
import type { Problem } from './problemBoard.ts';
import type { ScanStatus } from './versionScan.ts';
import type { StatePort } from './statePort.ts';

/** /healthz names waiting commands once the oldest has waited this long. */
const COMMAND_WAIT_PROBLEM_SECONDS = 60;
/** Failed or unknown announcements listed at most; the rest are counted with the query that lists them. */
const SHOWN_ANNOUNCEMENTS = 20;

export interface HealthPorts {
  state: StatePort;
  leadership: Leadership;
  scanner: { status(): ScanStatus; postingStopped(): string | null };
  /** Consumer repos whose last fetch failed (listed first). */
  repoProblems(): Problem[];
  /** Problems found elsewhere (scans, watchers, the digest). */
  problems(): Problem[];
  /** Words for the operator that depend on the store (infra knows them). */
  hints: { unwritableFix: string; failedAnnouncementsQuery: string };
  gitTimeoutSeconds: number;
  counts: { publishers: number; consumers: number };
  now?: () => number;
}

export interface HealthReport {
  status: number;
  body: object;
}

export class Health {
  private ready = false;

  constructor(private readonly ports: HealthPorts) {}

  /** Start-up finished (config, state, first scan): 200 from now on unless something stops the bot. */
  setReady(ready: boolean): void {
    this.ready = ready;
  }

  async commandBacklog(): Promise<{ pending: number; oldestAgeSeconds: number | null }> {
    const backlog = await this.ports.state.commandBacklog();
    const now = this.ports.now?.() ?? Date.now();
    const age = backlog.oldestReceivedAt === null ? null : Math.max(0, Math.round((now - Date.parse(backlog.oldestReceivedAt)) / 1000));
    return { pending: backlog.pending, oldestAgeSeconds: age };
  }

  async report(): Promise<HealthReport> {
    const { state, leadership, scanner } = this.ports;
    const role = leadership.role();
    const status = scanner.status();
    // A follower does not scan: the count is the shared state's (the last one known when it cannot be read).
    if (role === 'follower') status.versions = await state.countVersions().catch(() => status.versions);
    // With PostgreSQL: which replica leads and its lease, from the shared state (unreadable: left out).
    const leader: LeadershipReport | null = leadership.report ? await leadership.report().catch(() => null) : null;
    const replica = { role, database: { kind: state.kind, location: state.location }, ...(leader ? { leader } : {}) };
    const noLeader = leader ? leadershipProblem(leader) : null;
    const commands = await this.commandBacklog().catch(() => null);
    const commandProblems =
      commands && commands.oldestAgeSeconds !== null && commands.oldestAgeSeconds > COMMAND_WAIT_PROBLEM_SECONDS
        ? [{ kind: 'commands-waiting', detail: `${commands.pending} command(s) not yet done; the oldest was received ${commands.oldestAgeSeconds} s ago` }]
        : [];
    const problems = [...this.ports.repoProblems(), ...(await this.stateProblems()), ...this.ports.problems(), ...(noLeader ? [noLeader] : []), ...commandProblems];
    // Without a writable state nothing can be announced or adopted safely; without a token Slack takes nothing.
    const unwritable = state.writeProblem() !== null;
    const unavailable = state.unavailable?.() != null;
    const authRefused = scanner.postingStopped() !== null;
    if (!this.ready || unwritable || unavailable || authRefused) {
      const why = !this.ready ? 'starting' : unavailable ? 'state-unavailable' : unwritable ? 'state-unwritable' : 'slack-auth';
      return { status: 503, body: { ok: false, status: why, ...replica, ...status, commands, problems } };
    }
    return { status: 200, body: { ok: true, ...replica, ...status, ...this.ports.counts, commands, problems } };
  }

  /** The state, Slack's token, announcements that failed and adoptions not settled. */
  private async stateProblems(): Promise<Problem[]> {
    const { state, scanner, hints } = this.ports;
    const problems: Problem[] = [];
    // The state file gone or corrupt: nothing more can be read from it; this is what to fix.
    const unavailable = state.unavailable?.();
    if (unavailable) return [{ kind: 'state-unavailable', detail: unavailable }];
    const authProblem = scanner.postingStopped();
    if (authProblem) {
      problems.push({ kind: 'slack-auth', detail: `${authProblem}. Nothing is posted until it works: put a valid Bot User OAuth Token (xoxb-…) in SLACK_BOT_TOKEN (reinstall the app if it was revoked).` });
    }
    const writeProblem = state.writeProblem();
    if (writeProblem) problems.push({ kind: 'state-unwritable', detail: `${writeProblem} ${hints.unwritableFix}; the bot resumes by itself.` });
    const refused = await state.announcementsIn(['failed', 'unknown'], SHOWN_ANNOUNCEMENTS + 1);
    if (refused.length > SHOWN_ANNOUNCEMENTS) {
      problems.push({
        kind: 'announcement-more',
        detail: `more than ${SHOWN_ANNOUNCEMENTS} announcements failed or have an unknown outcome; the newest ${SHOWN_ANNOUNCEMENTS} follow. All of them: ${hints.failedAnnouncementsQuery}`,
      });
    }
    for (const a of refused.slice(0, SHOWN_ANNOUNCEMENTS)) {
      problems.push({ kind: a.status === 'failed' ? 'announcement-failed' : 'announcement-unknown', detail: `${a.publisher} ${a.version} in channel ${a.channel}: ${a.lastError ?? a.status}` });
    }
    // A push lasts at most one git timeout: an intent older than two is not just pushing.
    const settledBy = (this.ports.now?.() ?? Date.now()) - 2 * this.ports.gitTimeoutSeconds * 1000;
    for (const intent of (await state.unsettledAdoptions()).filter((i) => Date.parse(i.intendedAt) < settledBy)) {
      problems.push({
        kind: 'adoption-unsettled',
        detail:
          `${intent.action} of ${intent.stage}${intent.to ? ` ${intent.to}` : ''} for ${intent.consumer} (commit ${intent.commit.slice(0, 12)}, ` +
          `by ${intent.user.name}) may or may not have reached branch ${intent.target}; it is checked again at the next start`,
      });
    }
    return problems;
  }
}
