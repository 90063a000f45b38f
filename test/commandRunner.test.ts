// The durable command runner on a real SQLite state: one command at a time per queue in the
// order received, queues side by side, a command taken too often given up with an answer, and a
// state store that fails claims logged once, not at every poll.
import { describe, expect, it } from 'vitest';
import { CommandRunner, MAX_COMMAND_ATTEMPTS } from '../src/core/commandRunner.ts';
import type { QueuedCommand } from '../src/domain/records.ts';
import { tempStates } from './support/tempState.ts';

const states = tempStates();

function command(id: string, queue: string, at = '2026-12-01T00:00:00.000Z'): Omit<QueuedCommand, 'attempts'> {
  return { id, queue, request: { kind: 'smv', text: `adopt geo ${id}` }, userId: 'U0BEA', channelId: 'C0TEAMB', responseUrl: null, receivedAt: at };
}

function recordingLog() {
  const lines: { level: string; msg: string }[] = [];
  const at = (level: string) => (_obj: object, msg: string) => void lines.push({ level, msg });
  return { lines, log: { info: at('info'), warn: at('warn'), error: at('error') } };
}

describe('CommandRunner', () => {
  it('runs each queue one command at a time in the order received, queues side by side, each once', async () => {
    const { state } = await states.open();
    for (const [id, queue] of [['a1', 'consumer:a'], ['b1', 'consumer:b'], ['a2', 'consumer:a'], ['a3', 'consumer:a'], ['b2', 'consumer:b']] as const) {
      await state.enqueueCommand(command(id, queue));
    }
    const started: string[] = [];
    const running = new Set<string>();
    let overlapInQueue = false;
    const { log } = recordingLog();
    const runner = new CommandRunner({
      state,
      owner: 'test',
      log,
      pollMs: 50,
      run: async (c) => {
        if ([...running].some((id) => id[0] === c.id[0])) overlapInQueue = true;
        running.add(c.id);
        started.push(c.id);
        await new Promise((r) => setTimeout(r, 20));
        running.delete(c.id);
        return 'answered';
      },
      giveUp: async () => undefined,
    });
    runner.start();
    await waitFor(async () => (await state.commandBacklog()).pending === 0);
    await runner.stop();
    expect(overlapInQueue).toBe(false);
    expect(started.filter((id) => id.startsWith('a'))).toEqual(['a1', 'a2', 'a3']);
    expect(started.filter((id) => id.startsWith('b'))).toEqual(['b1', 'b2']);
    expect(started).toHaveLength(5);
  });

  it(`gives up a command taken more than ${MAX_COMMAND_ATTEMPTS} times, telling the user, and records it done`, async () => {
    const { state } = await states.open();
    await state.enqueueCommand(command('doomed', 'consumer:a'));
    // Five workers died on it: each took it and never finished.
    for (let i = 0; i < MAX_COMMAND_ATTEMPTS; i++) await state.claimCommands(`dead-${i}`, '9999-01-01T00:00:00.000Z', '2026-01-01T00:00:00.000Z', 1);
    const ran: string[] = [];
    const gaveUp: QueuedCommand[] = [];
    const runner = new CommandRunner({
      state,
      owner: 'test',
      log: recordingLog().log,
      run: async (c) => {
        ran.push(c.id);
        return 'answered';
      },
      giveUp: async (c) => void gaveUp.push(c),
    });
    runner.start();
    await waitFor(async () => (await state.commandBacklog()).pending === 0);
    await runner.stop();
    expect(ran).toEqual([]);
    expect(gaveUp.map((c) => [c.id, c.attempts])).toEqual([['doomed', MAX_COMMAND_ATTEMPTS + 1]]);
  });

  it('a state store that cannot be asked is logged once when it fails and once when it works again', async () => {
    const { state } = await states.open();
    await state.enqueueCommand(command('later', 'consumer:a'));
    let down = 3;
    const { lines, log } = recordingLog();
    const done: string[] = [];
    const runner = new CommandRunner({
      state: {
        kind: state.kind,
        claimCommands: (...args) => (down-- > 0 ? Promise.reject(new Error('database is down')) : state.claimCommands(...args)),
        renewCommandLeases: (...args) => state.renewCommandLeases(...args),
        finishCommand: (...args) => state.finishCommand(...args),
        forgetFinishedCommands: (...args) => state.forgetFinishedCommands(...args),
      },
      owner: 'test',
      log,
      pollMs: 20,
      run: async (c) => {
        done.push(c.id);
        return 'answered';
      },
      giveUp: async () => undefined,
    });
    runner.start();
    await waitFor(() => done.length === 1);
    await runner.stop();
    expect(lines.filter((l) => l.level === 'warn').map((l) => l.msg)).toEqual(['could not take commands from the state store; trying again every poll']);
    expect(lines.filter((l) => l.level === 'info').map((l) => l.msg)).toEqual(['taking commands from the state store again']);
  });
});

async function waitFor(probe: () => boolean | Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
}
