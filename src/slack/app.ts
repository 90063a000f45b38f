import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { App, HTTPReceiver, LogLevel, SocketModeReceiver, type Logger as BoltLogger, type webApi } from '@slack/bolt';
import { dedupeEvents } from './eventDedup.ts';
import { guardSocketModeFrames, type GuardedClient } from './socketFrames.ts';
import { registerListeners } from './listeners/index.ts';
import { createOutbound } from './outbound.ts';
import { createCommandExecutor, type CommandExecutor } from './commandExecutor.ts';
import type { SlackNotifier } from './notifier.ts';
import type { Actor } from '../domain/records.ts';
import type { BotServices } from './services.ts';


export interface SlackAppOptions {
  botToken: string;
  /** Required in HTTP mode. */
  signingSecret?: string;
  /** When set, Socket Mode is used (the HTTP server then serves only /healthz). */
  appToken?: string;
  apiUrl: string;
  port: number;
  /** Web API retry policy (429 Retry-After is always honoured). */
  retryConfig?: { retries: number; factor?: number; minTimeout?: number; maxTimeout?: number };
  /** Limit for one Web API request (and one response_url post). Default 10 s. */
  apiTimeoutMs?: number;
  /** The use cases; the app adds what only Slack knows (who a user is). */
  services: Omit<BotServices, 'actor' | 'post'>;
  /** Where listeners' own messages (deprecation notices) are posted. */
  notifier: Pick<SlackNotifier, 'say'>;
  /** The fetch Web API calls go through (counted for /metrics). */
  fetch?: webApi.WebClientOptions['fetch'];
  /** Operator endpoints served beside `/slack/events` (`/healthz`, the publish hook…), in both modes. */
  routes: HttpRoute[];
  logger: PinoLike;
  /** Applied to every outgoing reply, message and view (secrets out). Default: nothing removed. */
  scrub?: <T>(value: T) => T;
}

/** A request to an operator endpoint: its body read whole (bounded), headers lower-cased by Node. */
export interface HttpRequest {
  url: URL;
  headers: NodeJS.Dict<string | string[]>;
  body: Buffer;
}

export interface HttpAnswer {
  status: number;
  contentType?: string;
  headers?: Record<string, string>;
  body: string;
}

/** An endpoint that is not Slack's: matched by method and exact path, or by path prefix when `path` ends in `/`. */
export interface HttpRoute {
  method: 'GET' | 'POST';
  path: string;
  handle(request: HttpRequest): Promise<HttpAnswer>;
}

/** Bodies of operator requests are small JSON documents. */
const MAX_ROUTE_BODY_BYTES = 64 * 1024;

/** The part of a pino logger Bolt's adapter needs. */
export interface PinoLike {
  debug(msg: string): void;
  info(msg: string): void;
  warn(msg: string): void;
  error(msg: string): void;
  child(bindings: object): PinoLike;
}

export interface SlackApp {
  start(): Promise<{ port: number }>;
  stop(): Promise<void>;
  /** Runs and answers durable commands (given to the command runner). */
  commands: CommandExecutor;
}

/** Bolt, wired: signature-verified `/slack/events`, `/healthz`, listeners, and a notifier. */
export function createSlackApp(opts: SlackAppOptions): SlackApp {
  const logger = boltLogger(opts.logger.child({ component: 'bolt' }));
  const serveRoute = routeServer(opts.routes, (msg) => opts.logger.warn(msg));
  // Bolt matches custom routes by exact path: a prefix route (`/retention/`) gets its own `:name` pattern.
  const customRoutes = opts.routes.map((r) => ({
    path: r.path.endsWith('/') ? `${r.path}:rest` : r.path,
    method: [r.method],
    handler: (req: IncomingMessage, res: ServerResponse) => void serveRoute(req, res),
  }));
  let server: Server | undefined;
  const timeout = opts.apiTimeoutMs ?? 10_000;
  // Socket Mode: the operator endpoints on PORT from our own server, listening before the socket connects.
  const healthServer = opts.appToken
    ? createServer((req, res) => {
        void serveRoute(req, res).then((served) => {
          if (!served) res.writeHead(404).end();
        });
      })
    : undefined;
  const receiver = opts.appToken
    ? new SocketModeReceiver({
        appToken: opts.appToken,
        // apps.connections.open goes to SLACK_API_URL like every other method, with the same limit.
        installerOptions: { clientOptions: { slackApiUrl: opts.apiUrl, timeout, ...(opts.fetch && { fetch: opts.fetch }) } },
        logger,
      })
    : new HTTPReceiver({
        signingSecret: opts.signingSecret ?? '',
        endpoints: '/slack/events',
        customRoutes,
        logger,
        // Ack as soon as the listener acks: slow work continues after the HTTP response.
        processBeforeResponse: false,
      });
  if (receiver instanceof HTTPReceiver) {
    receiver.requestListener = refuseOutOfWindow(receiver.requestListener, (msg) => opts.logger.warn(msg));
  }
  // What arrives on the socket is checked before the Socket Mode client trusts its shape.
  if (receiver instanceof SocketModeReceiver) guardSocketModeFrames(receiver.client as unknown as GuardedClient, opts.logger.child({ component: 'socket-mode' }));
  const app = new App({
    receiver,
    token: opts.botToken,
    // Bolt would otherwise call auth.test in this constructor and leave its rejection unhandled
    // (a revoked token crashed the process with a stack trace); start() checks the token instead.
    deferInitialization: true,
    logger,
    clientOptions: {
      slackApiUrl: opts.apiUrl,
      // Bounded (about 30 s) so a Slack outage delays a post or start-up, not for half an hour;
      // a post that still fails stays pending and the next scan retries it.
      retryConfig: opts.retryConfig ?? { retries: 5, factor: 2, minTimeout: 1000, maxTimeout: 16_000 },
      // Wait out 429s (Retry-After) instead of failing the call.
      rejectRateLimitedCalls: false,
      // A Slack that never answers must not stall the bot (or its shutdown).
      timeout,
      ...(opts.fetch && { fetch: opts.fetch }),
    },
  });
  const outbound = createOutbound({
    scrub: opts.scrub ?? ((value) => value),
    apiUrl: opts.apiUrl,
    secret: opts.signingSecret || opts.appToken || opts.botToken,
    timeoutMs: timeout,
  });
  app.use(dedupeEvents(undefined, (eventId) => opts.logger.debug(`event ${eventId} delivered again; already handled`)));
  /** Who asked, with the real name for commit authorship; the id when Slack cannot tell. */
  const actor = async (userId: string): Promise<Actor> => {
    try {
      const { user } = await app.client.users.info({ user: userId });
      return { id: userId, name: user?.real_name || user?.profile?.real_name || user?.name || userId };
    } catch (error) {
      opts.logger.warn(`users.info failed for ${userId}: ${outbound.scrub((error as Error).message)}`);
      return { id: userId, name: userId };
    }
  };
  const services = { ...opts.services, actor, post: (channel: string, message: Parameters<SlackNotifier['say']>[1]) => opts.notifier.say(channel, message) };
  registerListeners(app, services, outbound);
  const commands = createCommandExecutor(services, app.client, outbound);
  app.error(async (error) => {
    opts.services.log.error({ err: error }, 'unhandled error in a Slack listener');
  });

  return {
    commands,
    async start() {
      await checkBotToken(() => app.init(), opts.apiUrl);
      if (healthServer) {
        await new Promise<void>((resolve, reject) => {
          healthServer.once('error', reject);
          healthServer.listen(opts.port, () => resolve());
        });
        try {
          await app.start();
        } catch (error) {
          await closeServer(healthServer);
          throw error;
        }
        return { port: (healthServer.address() as AddressInfo).port };
      }
      server = (await app.start(opts.port)) as Server;
      return { port: (server.address() as AddressInfo).port };
    },
    async stop() {
      await app.stop();
      if (healthServer?.listening) await closeServer(healthServer);
    },
  };
}

/** Slack's rule for a signed request: refused when its timestamp is more than 5 minutes from now. */
export const SIGNED_REQUEST_WINDOW_SECONDS = 300;

/**
 * In front of Bolt's own verification, which refuses only timestamps in the past: a POST to a
 * signed endpoint whose `X-Slack-Request-Timestamp` is more than 5 minutes ahead of now gets 401
 * and goes no further (body unread, nothing dispatched). Missing or malformed headers are left
 * to Bolt, which refuses them too.
 */
export function refuseOutOfWindow(
  inner: (req: IncomingMessage, res: ServerResponse) => void,
  warn: (msg: string) => void,
  now: () => number = Date.now,
): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    const stamp = req.headers['x-slack-request-timestamp'];
    if (req.method === 'POST' && typeof stamp === 'string' && /^\d+$/.test(stamp)) {
      const skew = Number(stamp) - Math.floor(now() / 1000);
      if (Math.abs(skew) > SIGNED_REQUEST_WINDOW_SECONDS) {
        warn(`refused a signed request to ${new URL(req.url ?? '/', 'http://localhost').pathname}: its timestamp is ${skew} s from now (allowed: ±${SIGNED_REQUEST_WINDOW_SECONDS} s)`);
        req.resume();
        res.writeHead(401, { 'content-type': 'text/plain' });
        res.end('');
        return;
      }
    }
    inner(req, res);
  };
}

/** Serves a request with the route it matches; false when none does (the caller answers 404). */
function routeServer(routes: readonly HttpRoute[], warn: (msg: string) => void): (req: IncomingMessage, res: ServerResponse) => Promise<boolean> {
  return async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const route = routes.find((r) => r.method === req.method && (r.path.endsWith('/') ? url.pathname.startsWith(r.path) : url.pathname === r.path));
    if (route === undefined) return false;
    let answer: HttpAnswer;
    try {
      const body = await readBody(req, MAX_ROUTE_BODY_BYTES);
      answer = body === null ? { status: 413, body: JSON.stringify({ ok: false, error: `body over ${MAX_ROUTE_BODY_BYTES} bytes` }) } : await route.handle({ url, headers: req.headers, body });
    } catch (error) {
      warn(`${req.method} ${url.pathname} failed: ${(error as Error).message}`);
      answer = { status: 500, body: JSON.stringify({ ok: false, error: 'internal error; see the bot log' }) };
    }
    if (!res.headersSent) {
      res.writeHead(answer.status, { 'content-type': answer.contentType ?? 'application/json', ...answer.headers });
      res.end(answer.body);
    }
    return true;
  };
}

/** The request body, or null when it is larger than `max` (the rest is drained unread). */
function readBody(req: IncomingMessage, max: number): Promise<Buffer | null> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= max) chunks.push(chunk);
    });
    req.on('end', () => resolve(size > max ? null : Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function closeServer(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}

/** Bolt's auth.test of the bot token, failing with what to do instead of a stack trace. */
async function checkBotToken(init: () => Promise<void>, apiUrl: string): Promise<void> {
  try {
    await init();
  } catch (error) {
    const code = (error as { data?: { error?: unknown } }).data?.error;
    if (typeof code === 'string') {
      throw new Error(
        `Slack rejected SLACK_BOT_TOKEN (${code}). Copy the Bot User OAuth Token (xoxb-…) from your Slack app's ` +
          'OAuth & Permissions page into .env (reinstall the app to the workspace if it was revoked), or try `npm run demo`.',
      );
    }
    throw new Error(`Could not reach Slack at ${apiUrl} to check SLACK_BOT_TOKEN (${(error as Error).message}). Check the network or SLACK_API_URL.`);
  }
}

/** Bolt logs through our pino logger (which redacts secrets), not its console logger. */
function boltLogger(log: PinoLike): BoltLogger {
  let level = LogLevel.INFO;
  const join = (msg: unknown[]) => msg.map((m) => (typeof m === 'string' ? m : m instanceof Error ? m.message : JSON.stringify(m))).join(' ');
  return {
    debug: (...msg) => log.debug(join(msg)),
    info: (...msg) => log.info(join(msg)),
    warn: (...msg) => log.warn(join(msg)),
    error: (...msg) => log.error(join(msg)),
    setLevel: (l) => {
      level = l;
    },
    getLevel: () => level,
    setName: () => undefined,
  };
}
