// Slack's Socket Mode, as the stand-in plays it: `apps.connections.open` hands out a ws:// URL on
// loopback; a client that connects gets `hello`, then envelopes (`envelope_id`, `type`, `payload`)
// that it must ack by sending `{envelope_id, payload?}` back. `disconnect` asks it to reconnect.
// An app may hold several connections at once (one per replica): like Slack, the stand-in gives
// each envelope to exactly one of them, taking the open ones in turn (round robin).
// https://docs.slack.dev/apis/events-api/using-socket-mode
import { EventEmitter } from 'node:events';
import { randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import type { SlackRequestKind } from './signing.ts';

/** An envelope sent to the bot and what it acked. */
export interface SocketDelivery {
  envelopeId: string;
  type: 'slash_commands' | 'interactive' | 'events_api';
  /** The ack's `payload` (the reply for a command or a view submission); null until acked. */
  ackPayload: Record<string, unknown> | null;
  acked: boolean;
  /** Acks received for this envelope: more than 1 means it was answered more than once. */
  acks: number;
  /** The one connection the envelope was sent on. */
  connectionId: string;
}

/** A client's connection as the stand-in sees it. */
export interface SocketConnectionInfo {
  id: string;
  /** The client's TCP port on 127.0.0.1: tells which process holds the connection. */
  clientPort: number;
  helloAt: number;
}

interface Connection extends SocketConnectionInfo {
  socket: WebSocket;
  /** Asked to reconnect (`disconnect` sent): gets no new envelopes. */
  retiring: boolean;
}

const ENVELOPE_TYPE: Record<SlackRequestKind, SocketDelivery['type']> = {
  command: 'slash_commands',
  interaction: 'interactive',
  event: 'events_api',
};

export class SocketModeServer {
  private readonly wss = new WebSocketServer({ noServer: true });
  private readonly connections: Connection[] = [];
  private readonly issued = new Set<string>();
  private readonly sent = new Map<string, SocketDelivery>();
  private readonly events = new EventEmitter();
  private opened = 0;
  private turn = 0;

  constructor(private readonly appId: string) {
    this.events.setMaxListeners(0);
  }

  /** `apps.connections.open`: a fresh single-use URL under `baseWsUrl`. */
  issueUrl(baseWsUrl: string): string {
    const id = `${Date.now().toString(36)}${randomBytes(6).toString('hex')}`;
    this.issued.add(id);
    return `${baseWsUrl}/socket/${id}`;
  }

  /** How many connections were ever opened (a reconnect adds one). */
  get openedCount(): number {
    return this.opened;
  }

  /** Connections open now. */
  get openCount(): number {
    return this.connections.length;
  }

  /** The connections open now, oldest first. */
  openConnections(): SocketConnectionInfo[] {
    return this.connections.map(({ id, clientPort, helloAt }) => ({ id, clientPort, helloAt }));
  }

  /** Every envelope sent so far, in order. */
  deliveries(): SocketDelivery[] {
    return [...this.sent.values()].map((d) => ({ ...d }));
  }

  /** Handles an HTTP upgrade for `/socket/<id>`; false when the path is not ours. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): boolean {
    const match = /^\/socket\/([A-Za-z0-9]+)$/.exec(new URL(req.url ?? '/', 'http://127.0.0.1').pathname);
    if (!match?.[1]) return false;
    const id = match[1];
    if (!this.issued.delete(id)) {
      socket.end('HTTP/1.1 403 Forbidden\r\n\r\n');
      return true;
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => this.accept(id, ws, req.socket.remotePort ?? 0));
    return true;
  }

  /** Resolves once `n` connections have been opened in all (n = 1: the first hello). */
  waitForConnections(n: number, timeoutMs = 10_000): Promise<void> {
    return this.waitUntil(() => this.opened >= n && this.connections.length > 0, timeoutMs, `${n} Socket Mode connection(s)`);
  }

  /**
   * Sends `body` to the bot as Slack would over the socket and resolves with the ack. With several
   * connections open, each envelope goes to one of them, in turn. Rejects when that connection
   * closes before acking (Slack would show the user an error; it does not resend a command).
   * `retryAttempt` > 0 marks it a redelivery (as Slack does when an ack did not come in time).
   */
  async deliver(
    kind: SlackRequestKind,
    body: Record<string, unknown>,
    opts: { timeoutMs?: number; retryAttempt?: number; envelopeId?: string } = {},
  ): Promise<SocketDelivery> {
    const timeoutMs = opts.timeoutMs ?? 10_000;
    await this.waitUntil(() => this.usable().length > 0, timeoutMs, 'an open Socket Mode connection');
    const usable = this.usable();
    const connection = usable[this.turn++ % usable.length]!;
    const envelopeId = opts.envelopeId ?? `${randomBytes(8).toString('hex')}-${Date.now()}`;
    const delivery: SocketDelivery = { envelopeId, type: ENVELOPE_TYPE[kind], ackPayload: null, acked: false, acks: 0, connectionId: connection.id };
    this.sent.set(envelopeId, delivery);
    const envelope: Record<string, unknown> = {
      envelope_id: envelopeId,
      type: delivery.type,
      payload: body,
      accepts_response_payload: kind !== 'event',
    };
    if (kind === 'event') {
      envelope.retry_attempt = opts.retryAttempt ?? 0;
      envelope.retry_reason = opts.retryAttempt ? 'timeout' : '';
    }
    connection.socket.send(JSON.stringify(envelope));
    const open = () => this.connections.includes(connection);
    await this.waitUntil(() => delivery.acked || !open(), timeoutMs, `the ack of envelope ${envelopeId}`);
    if (!delivery.acked) throw new Error(`Socket Mode connection ${connection.id} closed before it acked envelope ${envelopeId}.`);
    return { ...delivery };
  }

  /**
   * Sends `text` as it is (any bytes a hostile or broken peer could send: `null`, an envelope
   * without its event) on the next open connection; nothing is awaited, no ack is expected.
   */
  async sendRaw(text: string, opts: { timeoutMs?: number } = {}): Promise<void> {
    await this.waitUntil(() => this.usable().length > 0, opts.timeoutMs ?? 10_000, 'an open Socket Mode connection');
    const usable = this.usable();
    usable[this.turn++ % usable.length]!.socket.send(text);
  }

  /** Slack asks every client to reconnect (`disconnect`, reason `refresh_requested` by default). */
  requestReconnect(reason = 'refresh_requested'): void {
    for (const c of this.connections) {
      // Slack sends nothing more on a connection it asked to go away.
      c.retiring = true;
      c.socket.send(JSON.stringify({ type: 'disconnect', reason, debug_info: { host: 'stand-in' } }));
    }
  }

  /** The connection dies without a goodbye (a network cut). */
  killConnections(): void {
    for (const c of [...this.connections]) c.socket.terminate();
  }

  close(): void {
    for (const c of [...this.connections]) c.socket.terminate();
    this.wss.close();
    this.events.emit('change');
  }

  /** Open connections that may receive envelopes, oldest first. */
  private usable(): Connection[] {
    return this.connections.filter((c) => !c.retiring && c.socket.readyState === c.socket.OPEN);
  }

  private accept(id: string, socket: WebSocket, clientPort: number): void {
    const connection: Connection = { id, socket, clientPort, helloAt: Date.now(), retiring: false };
    this.connections.push(connection);
    this.opened++;
    socket.on('message', (data) => this.onMessage(String(data)));
    socket.on('close', () => {
      const i = this.connections.indexOf(connection);
      if (i >= 0) this.connections.splice(i, 1);
      this.events.emit('change');
    });
    socket.on('error', () => undefined);
    socket.send(
      JSON.stringify({
        type: 'hello',
        num_connections: this.connections.length,
        debug_info: { host: 'stand-in', approximate_connection_time: 3600 },
        connection_info: { app_id: this.appId },
      }),
    );
    this.events.emit('change');
  }

  private onMessage(text: string): void {
    let message: { envelope_id?: unknown; payload?: unknown };
    try {
      message = JSON.parse(text) as typeof message;
    } catch {
      return;
    }
    const delivery = typeof message.envelope_id === 'string' ? this.sent.get(message.envelope_id) : undefined;
    if (!delivery) return;
    delivery.acks++;
    if (delivery.acked) return;
    delivery.acked = true;
    const payload = message.payload;
    delivery.ackPayload = payload !== null && typeof payload === 'object' && Object.keys(payload).length > 0 ? (payload as Record<string, unknown>) : null;
    this.events.emit('change');
  }

  private waitUntil(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
    if (condition()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const check = () => {
        if (!condition()) return;
        clearTimeout(timer);
        this.events.off('change', check);
        resolve();
      };
      const timer = setTimeout(() => {
        this.events.off('change', check);
        reject(new Error(`Timed out after ${timeoutMs} ms waiting for ${what}.`));
      }, timeoutMs);
      this.events.on('change', check);
    });
  }
}
