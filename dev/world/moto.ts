// A real S3 API for tests and the bench: moto's server (`moto_server`, moto 5.2) on a free loopback port,
// started once per test file and stopped after it. moto takes any credentials until IAM checks
// are switched on (`enableAuth`); it sets LastModified itself (to now), so tests compare times
// against `now` values of their own rather than faking them.
import { spawn, type ChildProcess } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { freePort } from './ports.ts';

/** What moto accepts while its IAM checks are off; tests pass them to clients explicitly. */
export const MOTO_CREDENTIALS = { accessKeyId: 'test', secretAccessKey: 'test' } as const;
export const MOTO_REGION = 'us-east-1';

export interface Moto {
  /** `http://127.0.0.1:<port>`: give it as the client's endpoint (path-style). */
  endpoint: string;
  /** A client of the test's own for arranging buckets and objects. */
  admin: S3Client;
  createBucket(bucket: string): Promise<void>;
  put(bucket: string, key: string, body?: string | Uint8Array): Promise<void>;
  /** Puts many objects, a few at a time. */
  putMany(bucket: string, objects: Iterable<{ key: string; body?: string | Uint8Array }>, concurrency?: number): Promise<void>;
  /** An IAM user with an access key (no policy: it may do nothing), made while checks are off. */
  createUser(name: string): Promise<{ accessKeyId: string; secretAccessKey: string }>;
  /** From now on every request must be signed by a known IAM user allowed to make it. */
  enableAuth(): Promise<void>;
  stop(): Promise<void>;
}

export async function startMoto(): Promise<Moto> {
  const port = await freePort();
  const endpoint = `http://127.0.0.1:${port}`;
  const child = spawn('moto_server', ['-H', '127.0.0.1', '-p', String(port)], { stdio: ['ignore', 'ignore', 'pipe'] });
  // moto logs every request on stderr: drained, the last few KB kept for a failed start.
  let stderrTail = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    stderrTail = (stderrTail + chunk.toString()).slice(-4096);
  });
  let exited = false;
  child.on('exit', () => {
    exited = true;
  });
  // Not on PATH (moto is a pip package: `pip install 'moto[server]'`).
  child.on('error', (err) => {
    exited = true;
    stderrTail += `${err.message}\n`;
  });
  try {
    await waitUntilAnswering(endpoint, () => exited, 30_000);
  } catch (err) {
    await stopChild(child);
    throw new Error(`moto_server did not start on ${endpoint}: ${(err as Error).message}\n${stderrTail}`);
  }
  const admin = new S3Client({
    endpoint,
    forcePathStyle: true,
    region: MOTO_REGION,
    credentials: MOTO_CREDENTIALS,
    requestChecksumCalculation: 'WHEN_REQUIRED',
  });
  const put = async (bucket: string, key: string, body: string | Uint8Array = '') => {
    await admin.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentLength: Buffer.byteLength(body) }));
  };
  return {
    endpoint,
    admin,
    createBucket: async (bucket) => {
      await admin.send(new CreateBucketCommand({ Bucket: bucket }));
    },
    put,
    putMany: async (bucket, objects, concurrency = 8) => {
      const iterator = objects[Symbol.iterator]();
      const worker = async () => {
        for (let next = iterator.next(); !next.done; next = iterator.next()) await put(bucket, next.value.key, next.value.body);
      };
      await Promise.all(Array.from({ length: concurrency }, worker));
    },
    createUser: async (name) => {
      await iam(endpoint, { Action: 'CreateUser', UserName: name });
      const xml = await iam(endpoint, { Action: 'CreateAccessKey', UserName: name });
      const accessKeyId = /<AccessKeyId>([^<]+)<\/AccessKeyId>/.exec(xml)?.[1];
      const secretAccessKey = /<SecretAccessKey>([^<]+)<\/SecretAccessKey>/.exec(xml)?.[1];
      if (!accessKeyId || !secretAccessKey) throw new Error(`moto made no access key: ${xml.slice(0, 300)}`);
      return { accessKeyId, secretAccessKey };
    },
    enableAuth: async () => {
      const res = await fetch(`${endpoint}/moto-api/reset-auth`, { method: 'POST', body: '0' });
      if (!res.ok) throw new Error(`moto refused reset-auth: HTTP ${res.status}`);
    },
    stop: async () => {
      admin.destroy();
      await stopChild(child);
    },
  };
}

/** An IAM query-API call; moto routes it by the service named in the (unchecked) Authorization header. */
async function iam(endpoint: string, params: Record<string, string>): Promise<string> {
  const res = await fetch(`${endpoint}/`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: `AWS4-HMAC-SHA256 Credential=${MOTO_CREDENTIALS.accessKeyId}/20240101/${MOTO_REGION}/iam/aws4_request, SignedHeaders=host, Signature=0`,
    },
    body: new URLSearchParams({ ...params, Version: '2010-05-08' }).toString(),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`moto IAM ${params.Action}: HTTP ${res.status} ${text.slice(0, 300)}`);
  return text;
}

async function waitUntilAnswering(endpoint: string, exited: () => boolean, limitMs: number): Promise<void> {
  const deadline = Date.now() + limitMs;
  for (;;) {
    if (exited()) throw new Error('it exited');
    try {
      const res = await fetch(`${endpoint}/moto-api/`, { signal: AbortSignal.timeout(1000) });
      await res.arrayBuffer();
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`no answer within ${limitMs} ms`);
    await sleep(100);
  }
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const killed = await Promise.race([gone.then(() => true), sleep(5000).then(() => false)]);
  if (!killed) {
    child.kill('SIGKILL');
    await gone;
  }
}
