// Socket Mode frames are what a peer sends: @slack/socket-mode trusts their shape (`null`, or an
// `events_api` envelope without its event, threw a TypeError in an async handler: an unhandled
// rejection that ended the process), and it re-emits an event's `type` on its own emitter, so an
// event typed `close` or `error` drove the client's connection handling. Every frame is checked
// here before the client sees it; a malformed one is acked (so Slack does not send it again),
// logged, and dropped.

/** Frame types Slack sends on a Socket Mode connection. */
const ENVELOPE_TYPES = new Set(['events_api', 'slash_commands', 'interactive']);
const CONTROL_TYPES = new Set(['hello', 'disconnect']);
/** Names the client (and Bolt's receiver) use on the emitter an event's type is emitted on. */
const RESERVED_EVENT_TYPES = new Set([
  'error',
  'close',
  'ws_message',
  'slack_event',
  'outgoing_message',
  'connecting',
  'connected',
  'reconnecting',
  'disconnecting',
  'disconnected',
  'authenticated',
  'hello',
  'disconnect',
  'events_api',
  'slash_commands',
  'interactive',
]);

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/** Why a text frame cannot be handed to the Socket Mode client, or null when it can. */
export function socketFrameProblem(frame: unknown): string | null {
  if (!isObject(frame)) return `not a JSON object (${frame === null ? 'null' : Array.isArray(frame) ? 'an array' : typeof frame})`;
  const { type } = frame;
  if (typeof type !== 'string') return 'no frame type';
  if (CONTROL_TYPES.has(type)) return null;
  if (!ENVELOPE_TYPES.has(type)) return `unknown frame type ${JSON.stringify(type.slice(0, 40))}`;
  if (typeof frame.envelope_id !== 'string' || frame.envelope_id === '') return `a ${type} envelope without an envelope_id`;
  if (!isObject(frame.payload)) return `a ${type} envelope whose payload is not an object`;
  if (type === 'events_api') {
    const event = frame.payload.event;
    if (!isObject(event)) return 'an events_api envelope without an event';
    if (typeof event.type !== 'string' || event.type === '') return 'an events_api envelope whose event has no type';
    if (RESERVED_EVENT_TYPES.has(event.type)) return `an events_api envelope with the event type ${JSON.stringify(event.type)}, which no Slack event has`;
  }
  return null;
}

/** The part of @slack/socket-mode's client the guard needs (its emitter is eventemitter3). */
export interface GuardedClient {
  listeners(event: string): ((...args: unknown[]) => unknown)[];
  removeAllListeners(event: string): unknown;
  on(event: string, listener: (...args: unknown[]) => unknown): unknown;
  send(envelopeId: string, body?: Record<string, unknown>): Promise<void>;
}

/**
 * Puts the check in front of the client's own frame handler (`ws_message`), and catches what its
 * async handlers (the frame handler, Bolt's `slack_event`) reject with, so no frame can leave a
 * rejection unhandled. Call once, before the client starts.
 */
export function guardSocketModeFrames(client: GuardedClient, log: { warn(msg: string): void; error(msg: string): void }): void {
  const settle = (what: string, result: unknown) => {
    if (result instanceof Promise) result.catch((error: unknown) => log.error(`${what} failed on a Socket Mode frame: ${(error as Error)?.message ?? String(error)}`));
  };
  const wrap = (event: string, check?: (...args: unknown[]) => boolean) => {
    const handlers = client.listeners(event);
    client.removeAllListeners(event);
    client.on(event, (...args: unknown[]) => {
      if (check && !check(...args)) return;
      for (const handler of handlers) {
        try {
          settle(`handling ${event}`, handler(...args));
        } catch (error) {
          log.error(`handling ${event} failed on a Socket Mode frame: ${(error as Error)?.message ?? String(error)}`);
        }
      }
    });
  };
  wrap('ws_message', (data, isBinary) => {
    // Binary frames, and non-text data: the client ignores them itself.
    if (isBinary || (typeof data !== 'string' && !(data instanceof ArrayBuffer) && !ArrayBuffer.isView(data))) return true;
    const text = typeof data === 'string' ? data : new TextDecoder().decode(data as ArrayBuffer);
    let frame: unknown;
    try {
      frame = JSON.parse(text);
    } catch {
      return true; // the client logs and ignores text that is not JSON
    }
    const problem = socketFrameProblem(frame);
    if (problem === null) return true;
    log.warn(`ignored a malformed Socket Mode frame: ${problem}`);
    // Acked, when it names an envelope, so Slack does not deliver it again.
    const envelopeId = isObject(frame) ? frame.envelope_id : undefined;
    if (typeof envelopeId === 'string' && envelopeId !== '') settle('acking a malformed envelope', client.send(envelopeId, {}));
    return false;
  });
  wrap('slack_event');
}
