// A real HDFS for the WebHDFS tests and the bench: MiniDFSCluster (one NameNode, one DataNode,
// WebHDFS on a free loopback port) from the launcher in dev/hdfs/ (built by .ci/run; built here
// when its jar is missing). The launcher exits when its stdin closes, so a process that dies
// never leaves a cluster running. Fixtures are written over WebHDFS as the superuser (the launcher's
// OS user): MKDIRS, CREATE through the DataNode redirect, SETTIMES, SETOWNER, SETPERMISSION.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const HDFS_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../hdfs');
const JAR = path.join(HDFS_DIR, 'target/hdfs-launcher.jar');

export interface MiniHdfs {
  /** `127.0.0.1:<port>` of the NameNode's HTTP (WebHDFS) server. */
  nameNode: string;
  /** The HDFS superuser (who started the cluster). */
  superuser: string;
  /** `webhdfs://<nameNode><hdfsPath>`. */
  url(hdfsPath: string): string;
  mkdirs(hdfsPath: string): Promise<void>;
  /** Creates (or overwrites) a file, its parents too. */
  write(hdfsPath: string, data: string | Buffer): Promise<void>;
  /** Sets a file's or dir's modification time (epoch ms). */
  setMtime(hdfsPath: string, mtimeMs: number): Promise<void>;
  setOwner(hdfsPath: string, owner: string, group?: string): Promise<void>;
  /** Octal permission, e.g. '700'. */
  setPermission(hdfsPath: string, permission: string): Promise<void>;
  remove(hdfsPath: string): Promise<void>;
  stop(): Promise<void>;
}

/** Builds the launcher jar when it is not there (`.ci/run` builds it before the tests). */
export function ensureLauncherBuilt(): void {
  if (fs.existsSync(JAR) && fs.existsSync(path.join(HDFS_DIR, 'target/lib'))) return;
  const built = spawnSync('mvn', ['-q', '-f', path.join(HDFS_DIR, 'pom.xml'), 'package'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  if (built.status !== 0) {
    throw new Error(`building the MiniDFSCluster launcher failed (mvn -q -f dev/hdfs/pom.xml package):\n${built.stdout}\n${built.stderr}`);
  }
}

async function expectOk(res: Response, what: string): Promise<void> {
  if (res.ok) {
    await res.arrayBuffer();
    return;
  }
  throw new Error(`${what}: HTTP ${res.status} ${await res.text()}`);
}

function putBody(url: string, body: Buffer, what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: 'PUT', headers: { 'content-length': body.length, 'content-type': 'application/octet-stream' } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => (res.statusCode === 201 || res.statusCode === 200 ? resolve() : reject(new Error(`${what}: HTTP ${res.statusCode} ${Buffer.concat(chunks).toString()}`))));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

/**
 * `lsLimit` is dfs.ls.limit, entries per listing page: the tests' 100 makes small dirs page; a real
 * NameNode's is 1,000. `heapMb` is the JVM's -Xmx (the bench's 10,000 versions want about 1 GB).
 */
export async function startMiniHdfs(opts: { lsLimit?: number; heapMb?: number } = {}): Promise<MiniHdfs> {
  ensureLauncherBuilt();
  const child: ChildProcess = spawn('java', [`-Xmx${opts.heapMb ?? 768}m`, '-XX:+UseSerialGC', '-XX:TieredStopAtLevel=1', '-jar', JAR, '--ls-limit', String(opts.lsLimit ?? 100)], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString('utf8')).slice(-20_000);
  });
  const ready = await new Promise<{ nameNodeHttpPort: number; superuser: string }>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`MiniDFSCluster did not start within 180 s:\n${stderr}`));
    }, 180_000);
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString('utf8');
      const line = out.split('\n').find((l) => l.startsWith('{"ready"'));
      if (line !== undefined) {
        clearTimeout(timer);
        resolve(JSON.parse(line) as { nameNodeHttpPort: number; superuser: string });
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`MiniDFSCluster exited (${code}) before it was ready:\n${stderr}`));
    });
  });
  const nameNode = `127.0.0.1:${ready.nameNodeHttpPort}`;
  const superuser = ready.superuser;
  const api = (hdfsPath: string, op: string, params: Record<string, string> = {}): string => {
    const query = new URLSearchParams({ op, 'user.name': superuser, ...params });
    return `http://${nameNode}/webhdfs/v1${hdfsPath.split('/').map(encodeURIComponent).join('/')}?${query}`;
  };
  const put = async (hdfsPath: string, op: string, params: Record<string, string> = {}): Promise<void> => {
    await expectOk(await fetch(api(hdfsPath, op, params), { method: 'PUT' }), `${op} ${hdfsPath}`);
  };
  return {
    nameNode,
    superuser,
    url: (hdfsPath) => `webhdfs://${nameNode}${hdfsPath}`,
    mkdirs: (hdfsPath) => put(hdfsPath, 'MKDIRS'),
    async write(hdfsPath, data) {
      const first = await fetch(api(hdfsPath, 'CREATE', { overwrite: 'true' }), { method: 'PUT', redirect: 'manual' });
      await first.arrayBuffer();
      const location = first.headers.get('location');
      if (first.status !== 307 || location === null) throw new Error(`CREATE ${hdfsPath}: HTTP ${first.status}`);
      // node:http, not fetch: the DataNode answers `100 Continue` unasked, which fetch refuses.
      await putBody(location, typeof data === 'string' ? Buffer.from(data) : data, `CREATE ${hdfsPath} (DataNode)`);
    },
    setMtime: (hdfsPath, mtimeMs) => put(hdfsPath, 'SETTIMES', { modificationtime: String(Math.round(mtimeMs)), accesstime: '-1' }),
    setOwner: (hdfsPath, owner, group) => put(hdfsPath, 'SETOWNER', { owner, ...(group ? { group } : {}) }),
    setPermission: (hdfsPath, permission) => put(hdfsPath, 'SETPERMISSION', { permission }),
    async remove(hdfsPath) {
      await expectOk(await fetch(api(hdfsPath, 'DELETE', { recursive: 'true' }), { method: 'DELETE' }), `DELETE ${hdfsPath}`);
    },
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.stdin!.end();
      const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Runs `task` over `items` with at most `width` at a time (fixtures of many dirs). */
export async function inParallel<T>(items: readonly T[], width: number, task: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) await task(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(width, items.length) }, worker));
}
