// Durable commands (SPEC §5 "Durable"): every command that changes something is in the state
// store before Slack gets its ack; this runner takes them from there. A worker holds a command
// under a lease it renews while working; when a worker dies (kill -9, a crash, a replica gone),
// its lease runs out and any runner (a restarted process, another replica) resumes the command.
// Commands of one queue (a consumer, a stage, a channel) run one at a time, in order.
import type { Metrics } from './metrics.ts';
import type { QueuedCommand } from '../domain/records.ts';
import type { StatePort } from './statePort.ts';

/** After this many takes a command is given up (the user is told), so one that kills its worker cannot loop. */
export const MAX_COMMAND_ATTEMPTS = 5;

/** Finished commands are kept this long (for an operator's look), then deleted: the table does not grow forever. */
export const KEEP_FINISHED_COMMANDS_MS = 7 * 24 * 3_600_000;

export interface CommandRunnerPorts {
  state: Pick<StatePort, 'kind' | 'claimCommands' | 'renewCommandLeases' | 'finishCommand' | 'forgetFinishedCommands'>;
  /** Does what the command asks and answers the user; resolves with a word for the record. */
  run(command: QueuedCommand): Promise<string>;
  /** Tells the user a command was given up after MAX_COMMAND_ATTEMPTS takes. */
  giveUp(command: QueuedCommand): Promise<void>;
  /** This worker's name in leases: unique per process. */
  owner: string;
  /** Each command done, by name and outcome, with the time since it was received. */
  metrics?: Pick<Metrics, 'command'>;
  log: { info(obj: object, msg: string): void; warn(obj: object, msg: string): void; error(obj: object, msg: string): void };
  now?: () => Date;
  /** How long a lease lasts without renewal. Default 30 s. */
  leaseMs?: number;
  /** How often the store is asked for commands nobody holds (resumed ones, other replicas' leftovers). Default 2 s. */
  pollMs?: number;
  /** Commands run at once (each of a different queue). Default 4. */
  concurrency?: number;
}

export class CommandRunner {
  private readonly running = new Map<string, Promise<void>>();
  private readonly now: () => Date;
  private readonly leaseMs: number;
  private timers: NodeJS.Timeout[] = [];
  private pumping: Promise<void> | null = null;
  private again = false;
  private stopped = true;
  /** SQLite: one process owns the data dir, so at start every lease left in it is a dead process's. */
  private leasesOfTheDead: boolean;
  /** Claims failing in a row (the store down): logged once when it starts and once when it ends. */
  private failedClaims = 0;

  constructor(private readonly ports: CommandRunnerPorts) {
    this.now = ports.now ?? (() => new Date());
    this.leaseMs = ports.leaseMs ?? 30_000;
    this.leasesOfTheDead = ports.state.kind === 'sqlite';
  }

  start(): void {
    this.stopped = false;
    const poll = setInterval(() => this.kick(), this.ports.pollMs ?? 2_000);
    const renew = setInterval(() => void this.renew(), Math.max(1_000, Math.floor(this.leaseMs / 3)));
    const forget = setInterval(() => void this.forgetOld(), 3_600_000);
    for (const timer of [poll, renew, forget]) timer.unref();
    this.timers = [poll, renew, forget];
    this.kick();
    void this.forgetOld();
  }

  /** Look for commands now (a command was just written). */
  kick(): void {
    if (this.stopped) return;
    if (this.pumping) {
      this.again = true;
      return;
    }
    this.pumping = this.pump().finally(() => {
      this.pumping = null;
      if (this.again) {
        this.again = false;
        this.kick();
      }
    });
  }

  /** Resolves when nothing is being claimed or run. */
  async idle(): Promise<void> {
    while (this.pumping || this.running.size > 0) {
      await this.pumping;
      await Promise.all(this.running.values());
    }
  }

  /** Takes no new command; waits for the ones running (a command cut off here is resumed by the next runner). */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const timer of this.timers) clearInterval(timer);
    this.timers = [];
    await this.idle();
  }

  private async pump(): Promise<void> {
    const free = (this.ports.concurrency ?? 4) - this.running.size;
    if (free <= 0) return;
    const now = this.now();
    const expiredBy = this.leasesOfTheDead ? new Date(8.64e15).toISOString() : now.toISOString();
    let claimed: QueuedCommand[];
    try {
      claimed = await this.ports.state.claimCommands(this.ports.owner, expiredBy, new Date(now.getTime() + this.leaseMs).toISOString(), free);
      this.leasesOfTheDead = false;
      if (this.failedClaims > 0) this.ports.log.info({ failedAgain: this.failedClaims - 1 }, 'taking commands from the state store again');
      this.failedClaims = 0;
    } catch (error) {
      // The store is unavailable: the commands stay where they are, and the next poll asks again.
      if (this.failedClaims++ === 0) this.ports.log.warn({ err: error }, 'could not take commands from the state store; trying again every poll');
      return;
    }
    for (const command of claimed) {
      const done = this.execute(command).finally(() => {
        this.running.delete(command.id);
        this.kick();
      });
      this.running.set(command.id, done);
    }
  }

  private async execute(command: QueuedCommand): Promise<void> {
    let outcome: string;
    try {
      if (command.attempts > MAX_COMMAND_ATTEMPTS) {
        await this.ports.giveUp(command);
        outcome = 'given up';
      } else {
        outcome = await this.ports.run(command);
      }
    } catch (error) {
      // A bug, not a user mistake: recorded as done so it cannot loop; the user was told by `run` where it could.
      this.ports.log.error({ err: error, command: command.id }, 'command failed');
      outcome = `failed: ${(error as Error).message ?? String(error)}`.slice(0, 500);
    }
    const doneAt = this.now();
    this.ports.metrics?.command(commandName(command), outcome.startsWith('failed') ? 'failed' : outcome, (doneAt.getTime() - Date.parse(command.receivedAt)) / 1000);
    try {
      const finished = await this.ports.state.finishCommand(command.id, this.ports.owner, outcome, doneAt.toISOString());
      if (!finished) this.ports.log.warn({ command: command.id }, 'a command finished after its lease had passed to another worker');
    } catch (error) {
      // Not recorded as done: it is resumed once the lease runs out, and its use case sees what already happened.
      this.ports.log.warn({ err: error, command: command.id }, 'could not record a command as done');
    }
  }

  private async forgetOld(): Promise<void> {
    try {
      await this.ports.state.forgetFinishedCommands(new Date(this.now().getTime() - KEEP_FINISHED_COMMANDS_MS).toISOString());
    } catch (error) {
      this.ports.log.warn({ err: error }, 'could not delete old finished commands; tried again in an hour');
    }
  }

  private async renew(): Promise<void> {
    const ids = [...this.running.keys()];
    if (ids.length === 0) return;
    try {
      await this.ports.state.renewCommandLeases(this.ports.owner, ids, new Date(this.now().getTime() + this.leaseMs).toISOString());
    } catch (error) {
      this.ports.log.warn({ err: error }, 'could not renew command leases');
    }
  }
}

/** `adopt`, `unpin`, … for a slash command; `adopt-button`, `adopt-modal`, `adopt-home`, `adopt-all-button`, `adopt-all-modal` for clicks. */
export function commandName(command: Pick<QueuedCommand, 'request'>): string {
  const request = command.request;
  if (request.kind === 'adopt' || request.kind === 'adopt-all') return `${request.kind}-${request.via}`;
  return /^\s*([a-z]+)/i.exec(request.text)?.[1]?.toLowerCase() ?? 'help';
}
