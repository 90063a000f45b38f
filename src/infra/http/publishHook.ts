// `POST /hooks/published` (SPEC §4): a publisher's `smv-run` wrapper says "I just published";
// the bot scans that publisher at once instead of waiting for the schedule. Signed like Slack's
// requests with SMVBOT_HOOK_SECRET: `X-Smvbot-Signature: v0=<hex HMAC-SHA256 of "v0:<ts>:<body>">`,
// `X-Smvbot-Request-Timestamp: <ts>`, 5-minute window. A refused request changes nothing.
import { createHmac, timingSafeEqual } from 'node:crypto';

export const HOOK_WINDOW_SECONDS = 300;

export interface PublishHookOptions {
  secret: string;
  /** Configured publisher names. */
  publishers: readonly string[];
  /** Starts a scan of that publisher (returns at once; the scan runs on). */
  requestScan(publisher: string): void;
  log: { info(obj: object, msg: string): void; warn(obj: object, msg: string): void };
  now?: () => number;
}

interface HookRequest {
  headers: NodeJS.Dict<string | string[]>;
  body: Buffer;
}

const json = (status: number, body: object) => ({ status, body: JSON.stringify(body) });

export function publishHookRoute(opts: PublishHookOptions) {
  const now = opts.now ?? Date.now;
  // Signatures seen inside the window: a request delivered twice scans once.
  const seen = new Map<string, number>();
  const refuse = (why: string) => {
    opts.log.warn({ hook: 'published' }, `refused a publish hook: ${why}`);
    return json(401, { ok: false, error: why });
  };
  return {
    method: 'POST' as const,
    path: '/hooks/published',
    async handle(req: HookRequest) {
      const stamp = header(req, 'x-smvbot-request-timestamp');
      const signature = header(req, 'x-smvbot-signature');
      if (stamp === undefined || signature === undefined) return refuse('missing X-Smvbot-Signature or X-Smvbot-Request-Timestamp');
      if (!/^\d{1,12}$/.test(stamp)) return refuse('X-Smvbot-Request-Timestamp is not a Unix time in seconds');
      const nowSeconds = Math.floor(now() / 1000);
      if (Math.abs(nowSeconds - Number(stamp)) > HOOK_WINDOW_SECONDS) return refuse(`the timestamp is more than ${HOOK_WINDOW_SECONDS} s from now`);
      const expected = 'v0=' + createHmac('sha256', opts.secret).update(`v0:${stamp}:`).update(req.body).digest('hex');
      if (!sameText(signature, expected)) return refuse('bad signature (sign "v0:<timestamp>:<body>" with SMVBOT_HOOK_SECRET)');
      for (const [sig, at] of seen) if (nowSeconds - at > HOOK_WINDOW_SECONDS) seen.delete(sig);
      const repeated = seen.has(signature);
      seen.set(signature, Number(stamp));

      let publisher: unknown;
      let version: unknown;
      try {
        ({ publisher, version } = JSON.parse(req.body.toString('utf8')) as { publisher?: unknown; version?: unknown });
      } catch {
        return json(400, { ok: false, error: 'the body must be JSON: {"publisher": "<name>", "version": "<version>"}' });
      }
      if (typeof publisher !== 'string' || !opts.publishers.includes(publisher)) {
        return json(404, { ok: false, error: `unknown publisher ${JSON.stringify(publisher)}; configured: ${opts.publishers.join(', ')}` });
      }
      if (repeated) return json(202, { ok: true, publisher, scan: 'already requested by this same request' });
      opts.log.info({ publisher, version: typeof version === 'string' ? version : undefined }, 'publish hook: scanning now');
      opts.requestScan(publisher);
      return json(202, { ok: true, publisher, scan: 'started' });
    },
  };
}

function header(req: HookRequest, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function sameText(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
