// The one HTTP client every ack is measured with: signs like Slack, POSTs over a keep-alive
// agent, and times until the whole response has arrived. Bot and floor use this same code.
import http from 'node:http';
import { performance } from 'node:perf_hooks';
import type { BotRequest } from '../../src/slack/standIn/slackStandIn.ts';
import { signedRequest } from '../../src/slack/standIn/signing.ts';

export interface TimedAnswer {
  status: number;
  text: string;
  /** From just before the request is written until the response body has ended. */
  ms: number;
}

export class SignedClient {
  private readonly agent = new http.Agent({ keepAlive: true, maxSockets: 64 });

  constructor(
    readonly url: string,
    private readonly signingSecret: string,
  ) {}

  /** Signing happens before the clock starts: Slack signs on its side, not the bot's. */
  send(request: Pick<BotRequest, 'kind' | 'body'>): Promise<TimedAnswer> {
    const signed = signedRequest(this.url, { signingSecret: this.signingSecret, kind: request.kind, body: request.body });
    const body = Buffer.from(signed.body);
    return new Promise((resolve, reject) => {
      const start = performance.now();
      const req = http.request(
        signed.url,
        { method: 'POST', agent: this.agent, headers: { ...signed.headers, 'Content-Length': String(body.length) } },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8'), ms: performance.now() - start }));
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}
