// The one HTTP client every ack is measured with: signs like Slack, POSTs over a keep-alive
// agent, and times until the whole response has arrived. Bot and floor use this same code,
// run in its own process (RemoteClient) for the ack figure.
import { fork, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import { performance } from 'node:perf_hooks';
import type { BotRequest } from '../../dev/slack/slackStandIn.ts';
import { fileURLToPath } from 'node:url';
import { signedRequest } from '../../dev/slack/signing.ts';

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

/** A SignedClient living in its own process (scripts/bench/clientProcess.ts); same timing code. */
export class RemoteClient {
  private next = 0;
  private readonly waiting = new Map<number, { resolve: (a: TimedAnswer) => void; reject: (e: Error) => void }>();

  private constructor(private readonly child: ChildProcess) {
    child.on('message', (msg: TimedAnswer & { id: number; error?: string }) => {
      const w = this.waiting.get(msg.id);
      if (!w) return;
      this.waiting.delete(msg.id);
      if (msg.error !== undefined) w.reject(new Error(msg.error));
      else w.resolve({ status: msg.status, text: msg.text, ms: msg.ms });
    });
    child.on('exit', (code) => {
      for (const w of this.waiting.values()) w.reject(new Error(`client process exited (${code})`));
      this.waiting.clear();
    });
  }

  static start(signingSecret: string): RemoteClient {
    const entry = fileURLToPath(new URL('./clientProcess.ts', import.meta.url));
    const child = fork(entry, [], {
      execArgv: ['--import', import.meta.resolve('tsx')],
      env: { PATH: process.env.PATH ?? '', SLACK_SIGNING_SECRET: signingSecret },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    return new RemoteClient(child);
  }

  send(url: string, request: Pick<BotRequest, 'kind' | 'body'>): Promise<TimedAnswer> {
    const id = ++this.next;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      this.child.send({ id, url, request: { kind: request.kind, body: request.body } });
    });
  }

  close(): void {
    if (this.child.connected) this.child.disconnect();
  }
}
