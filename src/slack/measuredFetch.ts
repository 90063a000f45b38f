// Every Slack Web API call the bot makes (its own clients and Bolt's) goes through this fetch:
// counted by method and outcome for GET /metrics. A 429 is counted as `rate_limited` each time
// Slack answers it (the client then waits and tries again); other answers by Slack's `ok`/`error`.
import type { webApi } from '@slack/bolt';
import type { SlackCallOutcome } from '../core/metrics.ts';

type FetchFunction = NonNullable<webApi.WebClientOptions['fetch']>;

export type SlackCallReport = (method: string, outcome: SlackCallOutcome, errorClass?: string) => void;

export function measuredFetch(report: SlackCallReport, base: typeof fetch = globalThis.fetch): FetchFunction {
  return async (url, init) => {
    const method = String(url).split('?')[0]!.split('/').pop() || 'unknown';
    let response: Response;
    try {
      response = await base(url, init as RequestInit);
    } catch (error) {
      report(method, 'error', networkCode(error));
      throw error;
    }
    if (response.status === 429) report(method, 'rate_limited');
    else if (!response.ok) report(method, 'error', `http_${response.status}`);
    else {
      const body = (await response.clone().json().catch(() => null)) as { ok?: unknown; error?: unknown } | null;
      if (body?.ok === false) report(method, 'error', typeof body.error === 'string' ? body.error : 'not_ok');
      else report(method, 'ok');
    }
    return response;
  };
}

function networkCode(error: unknown): string {
  for (let e: unknown = error, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown; name?: unknown }).code ?? ((e as { name?: unknown }).name === 'AbortError' ? 'timeout' : undefined);
    if (typeof code === 'string') return code;
  }
  return 'network';
}
