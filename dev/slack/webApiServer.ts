// The stand-in's HTTP server on 127.0.0.1: `POST /api/<method>` (the Web API, with token checks,
// queued faults and the built-in or overridden methods), `POST /response/<id>` (response URLs),
// and WebSocket upgrades for Socket Mode. Every request is recorded in the call log.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { CallLog } from './callLog.ts';
import { RESPONSE_URL_FAULT_KEY, type FaultQueue } from './faults.ts';
import { parseApiRequest, parseJsonOr, readBody, sendJson, sendText } from './http.ts';
import type { SlackStandIn } from './slackStandIn.ts';
import type { SocketModeServer } from './socketMode.ts';
import type { SlackStore } from './store.ts';
import type { Fault, MethodHandler, SlackStandInOptions } from './types.ts';
import { BUILT_IN_METHODS } from './webApiMethods.ts';

/** The stand-in's parts the server answers from (shared, not copied: configuration may change while it runs). */
export interface ServerParts {
  standIn: SlackStandIn;
  /** Read on every request: the tokens it accepts. */
  options: SlackStandInOptions;
  log: CallLog;
  faults: FaultQueue;
  handlers: Map<string, MethodHandler>;
  store: SlackStore;
  socketMode: SocketModeServer;
}

export class WebApiServer {
  private readonly hanging = new Set<ServerResponse>();
  private server: Server | null = null;

  constructor(private readonly parts: ServerParts) {}

  /** Listens on 127.0.0.1:`port` (0: a free one); returns the port. */
  async listen(port: number): Promise<number> {
    const server = createServer((req, res) => {
      this.route(req, res).catch((error: unknown) => {
        if (!res.headersSent) sendJson(res, 500, { ok: false, error: 'stand_in_failure', detail: String(error) });
      });
    });
    server.on('upgrade', (req, socket, head) => {
      if (!this.parts.socketMode.handleUpgrade(req, socket, head)) socket.destroy();
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    this.server = server;
    return (server.address() as AddressInfo).port;
  }

  /** Drops hanging answers and open connections, then stops listening. */
  async close(): Promise<void> {
    for (const res of this.hanging) res.destroy();
    this.hanging.clear();
    const server = this.server;
    if (!server) return;
    // Clients keep connections alive; drop them so close() resolves promptly.
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private async route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const api = /^\/api\/([A-Za-z0-9._-]+)$/.exec(url.pathname);
    if (api?.[1] && (req.method === 'POST' || req.method === 'GET')) {
      await this.serveApi(api[1], req, res, url);
      return;
    }
    const response = /^\/response\/([A-Za-z0-9]+)$/.exec(url.pathname);
    if (response?.[1] && req.method === 'POST') {
      await this.serveResponseUrl(response[1], req, res);
      return;
    }
    sendJson(res, 404, { ok: false, error: 'not_found', detail: `The Slack stand-in serves POST /api/<method> and POST /response/<id>, not ${req.method} ${url.pathname}.` });
  }

  private async serveApi(method: string, req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const atMs = Date.now();
    const raw = await readBody(req);
    const { args, token } = parseApiRequest(raw, req, url);
    const answer = await this.answerApi(method, args, token);
    if (answer.drop) {
      this.parts.log.record({ kind: 'call', seq: 0, method, args, token, atMs, ok: false, status: 0, error: answer.drop, injected: answer.injected, response: null });
      if (answer.drop === 'hang') this.hanging.add(res);
      else req.socket.destroy();
      return;
    }
    const error = answer.body === null || answer.status !== 200 ? errorOf(answer) : answer.body.ok === true ? null : String(answer.body.error ?? 'unknown_error');
    // Record before answering, so a caller that awaited the call always finds it recorded.
    this.parts.log.record({
      kind: 'call',
      seq: 0,
      method,
      args,
      token,
      atMs,
      ok: error === null,
      status: answer.status,
      error,
      injected: answer.injected,
      response: answer.body,
    });
    if (answer.retryAfter !== undefined) res.setHeader('Retry-After', String(answer.retryAfter));
    if (answer.body === null) sendText(res, answer.status, 'Internal Server Error');
    else sendJson(res, answer.status, answer.body);
  }

  private async answerApi(
    method: string,
    args: Record<string, unknown>,
    token: string | null,
  ): Promise<{ status: number; body: Record<string, unknown> | null; injected: Fault | null; retryAfter?: number; drop?: 'connection_reset' | 'hang' }> {
    const fault = this.parts.faults.take(method);
    if (fault && 'hang' in fault) return { status: 0, body: null, injected: fault, drop: 'hang' };
    if (fault && 'reset' in fault) {
      if (fault.reset === 'after-store') await this.runMethod(method, args, token);
      return { status: 0, body: null, injected: fault, drop: 'connection_reset' };
    }
    if (fault) {
      if ('status' in fault && fault.status === 429) return { status: 429, body: { ok: false, error: 'ratelimited' }, injected: fault, retryAfter: fault.retryAfter };
      if ('status' in fault) return { status: fault.status, body: null, injected: fault };
      return { status: 200, body: { ok: false, error: fault.error }, injected: fault };
    }
    return this.runMethod(method, args, token);
  }

  private async runMethod(method: string, args: Record<string, unknown>, token: string | null): Promise<{ status: number; body: Record<string, unknown>; injected: null }> {
    if (!token) return { status: 200, body: { ok: false, error: 'not_authed' }, injected: null };
    // apps.connections.open takes the app-level token; every other method the bot token.
    const appLevel = method === 'apps.connections.open';
    const expected = appLevel ? this.parts.options.appToken : this.parts.options.botToken;
    if ((expected !== undefined && token !== expected) || (appLevel && !token.startsWith('xapp-'))) {
      return { status: 200, body: { ok: false, error: 'invalid_auth' }, injected: null };
    }
    if (!appLevel && token.startsWith('xapp-')) return { status: 200, body: { ok: false, error: 'not_allowed_token_type' }, injected: null };
    const handler = this.parts.handlers.get(method) ?? BUILT_IN_METHODS[method];
    if (!handler) return { status: 200, body: { ok: false, error: 'unknown_method' }, injected: null };
    try {
      return { status: 200, body: await handler(args, { method, token, standIn: this.parts.standIn }), injected: null };
    } catch (error) {
      return { status: 200, body: { ok: false, error: 'stand_in_handler_failed', detail: String(error) }, injected: null };
    }
  }

  private async serveResponseUrl(id: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const atMs = Date.now();
    const raw = await readBody(req);
    if (!this.parts.store.isIssuedResponseId(id)) {
      sendJson(res, 404, { ok: false, error: 'expired_url' });
      return;
    }
    const body = parseJsonOr(raw, raw);
    const fault = this.parts.faults.take(RESPONSE_URL_FAULT_KEY);
    if (fault && ('reset' in fault || 'hang' in fault)) {
      this.parts.log.record({ kind: 'response', seq: 0, id, url: `${this.parts.standIn.baseUrl}/response/${id}`, body, atMs, ok: false, status: 0, injected: fault });
      if ('hang' in fault) this.hanging.add(res);
      else req.socket.destroy();
      return;
    }
    const status = !fault ? 200 : 'status' in fault ? fault.status : 404;
    this.parts.log.record({ kind: 'response', seq: 0, id, url: `${this.parts.standIn.baseUrl}/response/${id}`, body, atMs, ok: status === 200, status, injected: fault ?? null });
    if (!fault) {
      sendJson(res, status, { ok: true });
    } else if ('status' in fault) {
      if (fault.status === 429) res.setHeader('Retry-After', String(fault.retryAfter));
      sendText(res, status, status === 429 ? 'rate_limited' : 'Internal Server Error');
    } else {
      sendJson(res, status, { ok: false, error: fault.error });
    }
  }
}

function errorOf(answer: { status: number; body: Record<string, unknown> | null }): string {
  if (answer.status === 429) return 'ratelimited';
  return typeof answer.body?.error === 'string' ? answer.body.error : `http_${answer.status}`;
}
