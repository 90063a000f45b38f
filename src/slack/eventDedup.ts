// Slack delivers an event again when it did not see the ack in time (HTTP `X-Slack-Retry-Num`,
// Socket Mode `retry_attempt`), and a reconnect can replay one. Each `event_id` is handled once.

/** Remembers the most recent event ids (bounded), answering whether one was seen before. */
export class SeenEvents {
  private readonly seen = new Map<string, number>();

  constructor(
    private readonly max = 5000,
    private readonly ttlMs = 60 * 60_000,
  ) {}

  /** True the first time `id` is offered (within the window), false for every repeat. */
  firstTime(id: string, now = Date.now()): boolean {
    const at = this.seen.get(id);
    if (at !== undefined && now - at < this.ttlMs) return false;
    this.seen.delete(id);
    this.seen.set(id, now);
    // Insertion order is age order: drop the oldest past the bound.
    while (this.seen.size > this.max) this.seen.delete(this.seen.keys().next().value!);
    return true;
  }
}

/** Bolt global middleware: an event whose `event_id` was handled already stops here (it is acked). */
export function dedupeEvents(seen = new SeenEvents(), onRepeat?: (eventId: string) => void) {
  return async ({ body, next }: { body: unknown; next: () => Promise<void> }): Promise<void> => {
    const eventId = (body as { event_id?: unknown } | null)?.event_id;
    if (typeof eventId === 'string' && !seen.firstTime(eventId)) {
      onRepeat?.(eventId);
      return;
    }
    await next();
  };
}
