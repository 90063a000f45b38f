// Real git servers on loopback, started by the tests themselves:
//
//   startGitSshServer(root)  an SSH server the suite owns (the ssh2 package) with its own host key
//                            and one authorized client key; the real `ssh` client that git runs
//                            talks to it, and it runs git-upload-pack / git-receive-pack.
//   startHttpGitServer(root) `git http-backend` run as CGI behind a small node HTTP server that
//                            demands basic auth, and records every login it was offered.
//   startBlackHole()         accepts TCP connections and never says a word.
//
// Plus `processesMentioning(text)`: the processes whose command line holds a text (from /proc),
// to prove nothing outlived a timeout and no secret ever showed in `ps`.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import ssh2 from 'ssh2';

export { freePort } from '../../dev/world/ports.ts';

export interface GitSshServer {
  port: number;
  /** The one login the server accepts (as on a git host: `git`). */
  user: string;
  /** Private key the bot authenticates with. */
  clientKey: string;
  /** A known_hosts file holding this server's host key. */
  knownHosts: string;
  /** A known_hosts file that knows nothing. */
  emptyKnownHosts: string;
  /** `ssh://git@127.0.0.1:port/abs/path` */
  url(repoPath: string): string;
  /** The GIT_SSH_COMMAND an operator would write (README): key, known_hosts, no user ssh config. */
  sshCommand(opts?: { knownHosts?: string; batchMode?: boolean }): string;
  /** Each authentication attempt: `<method>:<user>:accepted|key-ok|rejected`. */
  auths: string[];
  /** The commands asked for in exec requests (`git-upload-pack '/path'`, …). */
  execs: string[];
  stop(): Promise<void>;
}

const GIT_SERVICES = new Set(['git-upload-pack', 'git-receive-pack', 'git-upload-archive']);

/**
 * What git asks an SSH server to run: `git-upload-pack '/abs/path'` (git quotes the path in
 * single quotes, a quote inside as `'\''`: sq_quote_buf in git's quote.c). Null for anything else.
 */
export function parseGitExec(command: string): { service: string; repoPath: string } | null {
  const match = /^(git-[a-z-]+) '((?:[^']|'\\'')*)'$/.exec(command.trim());
  if (!match || !GIT_SERVICES.has(match[1]!)) return null;
  return { service: match[1]!, repoPath: match[2]!.replaceAll("'\\''", "'") };
}

/**
 * A git host over real SSH on loopback that the suite owns (the `ssh2` package's server; no
 * system sshd): its own ed25519 host key, public-key auth for one user and one key (signature
 * checked), and exec requests for git's services run as `git upload-pack|receive-pack <path>`
 * on this host's bare repos, with GIT_PROTOCOL passed on (what sshd's `AcceptEnv GIT_PROTOCOL`
 * did). The client is the real `ssh` that git starts.
 */
export async function startGitSshServer(root: string, user = 'git'): Promise<GitSshServer> {
  const dir = path.join(root, 'ssh-server');
  fs.mkdirSync(dir, { recursive: true });
  const keygen = (file: string) => execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'smvbot-test', '-f', file]);
  keygen(path.join(dir, 'host_key'));
  keygen(path.join(dir, 'client_key'));
  const parsed = ssh2.utils.parseKey(fs.readFileSync(path.join(dir, 'client_key.pub')));
  if (parsed instanceof Error) throw parsed;
  const authorized = Array.isArray(parsed) ? parsed[0]! : parsed;
  const authorizedBlob = authorized.getPublicSSH();
  const auths: string[] = [];
  const execs: string[] = [];
  const children = new Set<ChildProcess>();
  const connections = new Set<ssh2.Connection>();

  const server = new ssh2.Server({ hostKeys: [fs.readFileSync(path.join(dir, 'host_key'))] }, (client) => {
    connections.add(client);
    client.on('close', () => connections.delete(client));
    client.on('error', () => undefined);
    client.on('authentication', (ctx) => {
      let outcome: 'accepted' | 'key-ok' | 'rejected' = 'rejected';
      if (ctx.method === 'publickey' && ctx.username === user && ctx.key.algo === authorized.type && ctx.key.data.equals(authorizedBlob)) {
        if (!ctx.signature) outcome = 'key-ok';
        else if (authorized.verify(ctx.blob!, ctx.signature, ctx.hashAlgo) === true) outcome = 'accepted';
      }
      auths.push(`${ctx.method}:${ctx.username}:${outcome}`);
      if (outcome === 'rejected') ctx.reject(['publickey']);
      else ctx.accept();
    });
    client.on('ready', () => {
      client.on('session', (acceptSession) => {
        const session = acceptSession();
        const env: Record<string, string> = {};
        session.on('env', (accept, reject, info) => {
          if (info.key !== 'GIT_PROTOCOL') return void reject?.();
          env.GIT_PROTOCOL = info.val;
          accept?.();
        });
        session.on('exec', (accept, reject, info) => {
          execs.push(info.command);
          const git = parseGitExec(info.command);
          if (!git) return void reject();
          const stream = accept();
          stream.on('error', () => undefined);
          const child = spawn('git', [git.service.slice('git-'.length), git.repoPath], {
            env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: dir, GIT_CONFIG_NOSYSTEM: '1', ...env },
            stdio: ['pipe', 'pipe', 'pipe'],
          });
          children.add(child);
          child.stdin!.on('error', () => undefined);
          stream.pipe(child.stdin!);
          child.stdout!.pipe(stream, { end: false });
          child.stderr!.pipe(stream.stderr, { end: false });
          child.once('close', (code, signal) => {
            children.delete(child);
            if (signal) stream.exit(signal.replace(/^SIG/, ''), false, '');
            else stream.exit(code ?? 1);
            stream.end();
          });
        });
      });
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as net.AddressInfo).port;
  const [type, key] = fs.readFileSync(path.join(dir, 'host_key.pub'), 'utf8').trim().split(/\s+/);
  fs.writeFileSync(path.join(dir, 'known_hosts'), `[127.0.0.1]:${port} ${type} ${key}\n`);
  fs.writeFileSync(path.join(dir, 'empty_known_hosts'), '');
  const clientKey = path.join(dir, 'client_key');
  const knownHosts = path.join(dir, 'known_hosts');
  return {
    port,
    user,
    clientKey,
    knownHosts,
    emptyKnownHosts: path.join(dir, 'empty_known_hosts'),
    auths,
    execs,
    url: (repoPath) => `ssh://${user}@127.0.0.1:${port}${repoPath}`,
    sshCommand: (opts = {}) =>
      [
        'ssh',
        '-F /dev/null',
        `-i ${clientKey}`,
        '-o IdentitiesOnly=yes',
        `-o UserKnownHostsFile=${opts.knownHosts ?? knownHosts}`,
        '-o GlobalKnownHostsFile=/dev/null',
        ...(opts.batchMode === false ? ['-o StrictHostKeyChecking=ask'] : []),
      ].join(' '),
    stop: async () => {
      for (const child of children) child.kill('SIGKILL');
      for (const connection of connections) connection.end();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export interface HttpGitServer {
  port: number;
  /** `http://user:password@127.0.0.1:port/<name>` (no login part when `login` is null). */
  url(repoName: string, login?: { user: string; password: string } | null): string;
  /** Every Authorization the server was offered: `user:password`, or `(none)`. */
  logins: string[];
  /** Requests that got 401. */
  refused: number;
  stop(): Promise<void>;
}

/**
 * `git http-backend` as CGI (RFC 3875) behind basic auth: serves every bare repo under
 * `projectRoot`, fetch and push, to the one user it knows.
 */
export async function startHttpGitServer(projectRoot: string, account: { user: string; password: string }): Promise<HttpGitServer> {
  const logins: string[] = [];
  const children = new Set<ChildProcess>();
  const server: HttpGitServer = { port: 0, url: () => '', logins, refused: 0, stop: async () => undefined };
  const http_ = http.createServer((req, res) => {
    const auth = req.headers.authorization;
    const login = auth?.startsWith('Basic ') ? Buffer.from(auth.slice(6), 'base64').toString('utf8') : '(none)';
    logins.push(login);
    if (login !== `${account.user}:${account.password}`) {
      server.refused++;
      res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="git"', 'Content-Type': 'text/plain' });
      res.end('Unauthorized\n');
      req.resume();
      return;
    }
    const url = new URL(req.url ?? '/', 'http://localhost');
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      GIT_PROJECT_ROOT: projectRoot,
      GIT_HTTP_EXPORT_ALL: '1',
      GIT_CONFIG_NOSYSTEM: '1',
      HOME: projectRoot,
      REQUEST_METHOD: req.method ?? 'GET',
      PATH_INFO: decodeURIComponent(url.pathname),
      QUERY_STRING: url.search.replace(/^\?/, ''),
      REMOTE_USER: account.user,
      REMOTE_ADDR: '127.0.0.1',
      GATEWAY_INTERFACE: 'CGI/1.1',
      SERVER_PROTOCOL: 'HTTP/1.1',
    };
    if (req.headers['content-type']) env.CONTENT_TYPE = req.headers['content-type'];
    if (req.headers['content-length']) env.CONTENT_LENGTH = req.headers['content-length'];
    if (req.headers['content-encoding']) env.HTTP_CONTENT_ENCODING = String(req.headers['content-encoding']);
    if (req.headers['git-protocol']) env.GIT_PROTOCOL = String(req.headers['git-protocol']);
    const cgi = spawn('git', ['http-backend'], { env, stdio: ['pipe', 'pipe', 'ignore'] });
    children.add(cgi);
    cgi.once('exit', () => children.delete(cgi));
    req.pipe(cgi.stdin);
    cgi.stdin.on('error', () => undefined);
    let head = Buffer.alloc(0);
    let headersDone = false;
    cgi.stdout.on('data', (chunk: Buffer) => {
      if (headersDone) return void res.write(chunk);
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf('\r\n\r\n') >= 0 ? head.indexOf('\r\n\r\n') : head.indexOf('\n\n');
      if (end < 0) return;
      const sep = head[end] === 0x0d ? 4 : 2;
      let status = 200;
      const headers: Record<string, string> = {};
      for (const line of head.subarray(0, end).toString('latin1').split(/\r?\n/)) {
        const colon = line.indexOf(':');
        const name = line.slice(0, colon).trim();
        const value = line.slice(colon + 1).trim();
        if (name.toLowerCase() === 'status') status = Number(value.split(' ')[0]);
        else headers[name] = value;
      }
      res.writeHead(status, headers);
      headersDone = true;
      res.write(head.subarray(end + sep));
    });
    cgi.stdout.on('end', () => {
      if (!headersDone) res.writeHead(502);
      res.end();
    });
  });
  await new Promise<void>((resolve) => http_.listen(0, '127.0.0.1', resolve));
  server.port = (http_.address() as net.AddressInfo).port;
  server.url = (repoName, login = account) =>
    `http://${login ? `${encodeURIComponent(login.user)}:${encodeURIComponent(login.password)}@` : ''}127.0.0.1:${server.port}/${repoName}`;
  server.stop = async () => {
    for (const child of children) child.kill('SIGKILL');
    http_.closeAllConnections();
    await new Promise<void>((resolve) => http_.close(() => resolve()));
  };
  return server;
}

export interface BlackHole {
  port: number;
  /** Connections accepted so far. */
  accepted: number;
  stop(): Promise<void>;
}

/** A server that accepts connections and never answers (a hung proxy, a half-dead host). */
export async function startBlackHole(): Promise<BlackHole> {
  const sockets = new Set<net.Socket>();
  const hole: BlackHole = { port: 0, accepted: 0, stop: async () => undefined };
  const server = net.createServer((socket) => {
    hole.accepted++;
    sockets.add(socket);
    socket.on('error', () => undefined);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  hole.port = (server.address() as net.AddressInfo).port;
  hole.stop = async () => {
    for (const s of sockets) s.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  return hole;
}

/** Live processes (pid and command line) whose command line contains `text`, this process excluded. */
export function processesMentioning(text: string): { pid: number; cmdline: string }[] {
  const found: { pid: number; cmdline: string }[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    let cmdline: string;
    try {
      cmdline = fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').join(' ');
    } catch {
      continue;
    }
    if (cmdline.includes(text)) found.push({ pid: Number(entry), cmdline });
  }
  return found;
}

/**
 * Watches every command line on the host (as `ps` would show them) until stopped; returns the
 * ones that ever contained `secret`.
 */
export function watchCommandLines(secret: string, everyMs = 5): { stop(): { pid: number; cmdline: string }[]; scans: () => number } {
  const seen: { pid: number; cmdline: string }[] = [];
  let scans = 0;
  const timer = setInterval(() => {
    scans++;
    seen.push(...processesMentioning(secret));
  }, everyMs);
  return {
    stop() {
      clearInterval(timer);
      seen.push(...processesMentioning(secret));
      return seen;
    },
    scans: () => scans,
  };
}
