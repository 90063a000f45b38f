// GET /retention/<publisher> (SPEC §4): the retention report as JSON, for a publisher's cleanup
// job. Bearer SMVBOT_API_TOKEN; anything else is 401 and reads nothing.
import { timingSafeEqual } from 'node:crypto';
import { retentionJson, type RetentionReport } from '../../core/retention.ts';

export interface RetentionRouteOptions {
  token: string;
  report(publisher: string): Promise<RetentionReport | { unknownPublisher: string; publishers: string[] }>;
}

const json = (status: number, body: object, headers: Record<string, string> = {}) => ({ status, headers, body: JSON.stringify(body) });

export function retentionRoute(opts: RetentionRouteOptions) {
  const expected = Buffer.from(`Bearer ${opts.token}`);
  return {
    method: 'GET' as const,
    path: '/retention/',
    async handle(req: { url: URL; headers: NodeJS.Dict<string | string[]> }) {
      const given = Buffer.from(String(req.headers['authorization'] ?? ''));
      if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
        return json(401, { ok: false, error: 'send Authorization: Bearer <SMVBOT_API_TOKEN>' }, { 'www-authenticate': 'Bearer' });
      }
      let publisher: string;
      try {
        publisher = decodeURIComponent(req.url.pathname.slice('/retention/'.length));
      } catch {
        return json(404, { ok: false, error: 'not a publisher name' });
      }
      const report = await opts.report(publisher);
      if ('unknownPublisher' in report) return json(404, { ok: false, error: `unknown publisher ${JSON.stringify(publisher)}; configured: ${report.publishers.join(', ')}` });
      return json(200, retentionJson(report));
    },
  };
}
