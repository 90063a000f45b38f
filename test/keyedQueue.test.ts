// One change at a time per consumer, in arrival order, with a bound on how many may wait.
import { describe, expect, it } from 'vitest';
import { KeyedQueue, QueueFullError } from '../src/core/keyedQueue.ts';

function gate(): { open: () => void; opened: Promise<void> } {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { open, opened };
}

describe('KeyedQueue', () => {
  it('runs one task per key at a time, in arrival order; other keys do not wait', async () => {
    const queue = new KeyedQueue();
    const order: string[] = [];
    const first = gate();
    const a1 = queue.run('a', async () => {
      await first.opened;
      order.push('a1');
    });
    const a2 = queue.run('a', async () => void order.push('a2'));
    await queue.run('b', async () => void order.push('b1'));
    expect(order).toEqual(['b1']);
    first.open();
    await Promise.all([a1, a2]);
    expect(order).toEqual(['b1', 'a1', 'a2']);
  });

  it('refuses a task when too many already wait behind the running one, and runs nothing for it', async () => {
    const queue = new KeyedQueue(2);
    const first = gate();
    const ran: number[] = [];
    const running = queue.run('consumer', () => first.opened.then(() => void ran.push(0)));
    const waiting = [1, 2].map((n) => queue.run('consumer', async () => void ran.push(n)));
    const refused = await queue.run('consumer', async () => void ran.push(3)).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(QueueFullError);
    expect((refused as QueueFullError).waiting).toBe(2);
    // Another key is not affected.
    await queue.run('other', async () => void ran.push(9));
    first.open();
    await Promise.all([running, ...waiting]);
    expect(ran).toEqual([9, 0, 1, 2]);
    // Room again once they ran.
    await queue.run('consumer', async () => void ran.push(4));
    expect(ran.at(-1)).toBe(4);
  });

  it('a failing task does not stop the ones behind it', async () => {
    const queue = new KeyedQueue();
    const failed = queue.run('a', async () => {
      throw new Error('boom');
    });
    const next = queue.run('a', async () => 'ran');
    await expect(failed).rejects.toThrow('boom');
    await expect(next).resolves.toBe('ran');
    await queue.drain();
  });
});
