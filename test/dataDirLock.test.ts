import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { acquireDataDirLock, DataDirLockedError, LOCK_FILE_NAME } from '../src/infra/state/dataDirLock.ts';

const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const tsxBin = path.join(projectRoot, 'node_modules', '.bin', 'tsx');
const lockModuleUrl = new URL('../src/infra/state/dataDirLock.ts', import.meta.url).href;

/** Run a second process that tries to take the lock, the way `npm start` would. */
async function runSecondProcess(dataDir: string): Promise<{ code: number | null; stderr: string; stdout: string }> {
  const scriptFile = path.join(path.dirname(dataDir), `second-process-${Date.now()}.mts`);
  await writeFile(scriptFile, `
    import { acquireDataDirLock } from ${JSON.stringify(lockModuleUrl)};
    try {
      const lock = await acquireDataDirLock(process.argv[2]);
      console.log('acquired');
      await lock.release();
    } catch (err) {
      console.error(err.message);
      process.exit(1);
    }
  `);
  return new Promise((resolve, reject) => {
    const child = spawn(tsxBin, [scriptFile, dataDir], { cwd: projectRoot, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** A pid that certainly isn't running: a child that has already exited. */
function deadPid(): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-e', '0']);
    child.on('error', reject);
    child.on('close', () => resolve(child.pid!));
  });
}

describe('data dir lock', () => {
  let tmp: string;
  beforeEach(async () => {
    tmp = await mkdtemp(path.join(os.tmpdir(), 'smvbot-lock-'));
  });
  afterEach(async () => {
    await rm(tmp, { recursive: true, force: true });
  });

  it('refuses a second process with a clear message while the first holds the lock', async () => {
    const dataDir = path.join(tmp, 'data');
    const lock = await acquireDataDirLock(dataDir);
    try {
      const second = await runSecondProcess(dataDir);
      expect(second.code).not.toBe(0);
      expect(second.stdout).not.toContain('acquired');
      expect(second.stderr).toContain(`Another smvbot (pid ${process.pid}`);
      expect(second.stderr).toContain(`is using the data dir ${dataDir}`);
      expect(second.stderr).toContain('SMVBOT_DATA_DIR');
    } finally {
      await lock.release();
    }
    // Once released, the data dir is free again.
    const next = await acquireDataDirLock(dataDir);
    await next.release();
  });

  it('creates the data dir and writes pid and start time into smvbot.lock', async () => {
    const dataDir = path.join(tmp, 'nested', 'data');
    const lock = await acquireDataDirLock(dataDir);
    const content = JSON.parse(await readFile(path.join(dataDir, LOCK_FILE_NAME), 'utf8'));
    expect(content.pid).toBe(process.pid);
    expect(Number.isNaN(Date.parse(content.startedAt))).toBe(false);
    expect(lock.tookOverFrom).toBeNull();
    await lock.release();
    expect(existsSync(path.join(dataDir, LOCK_FILE_NAME))).toBe(false);
  });

  it('refuses a second acquire inside the same process', async () => {
    const lock = await acquireDataDirLock(tmp);
    await expect(acquireDataDirLock(tmp)).rejects.toBeInstanceOf(DataDirLockedError);
    await lock.release();
    const again = await acquireDataDirLock(tmp);
    await again.release();
  });

  it('takes over a lock left by a process that is no longer running, and says so', async () => {
    const pid = await deadPid();
    await writeFile(path.join(tmp, LOCK_FILE_NAME), JSON.stringify({ pid, startedAt: '2024-01-01T00:00:00.000Z' }));
    const warnings: string[] = [];
    const lock = await acquireDataDirLock(tmp, { onWarning: (m) => warnings.push(m) });
    expect(lock.tookOverFrom).toEqual({ pid, startedAt: '2024-01-01T00:00:00.000Z' });
    expect(warnings).toEqual([expect.stringContaining(`left by pid ${pid}, which is no longer running`)]);
    const content = JSON.parse(await readFile(path.join(tmp, LOCK_FILE_NAME), 'utf8'));
    expect(content.pid).toBe(process.pid);
    await lock.release();
  });

  it('takes over an unreadable lock file', async () => {
    await writeFile(path.join(tmp, LOCK_FILE_NAME), 'garbage');
    const warnings: string[] = [];
    const lock = await acquireDataDirLock(tmp, { onWarning: (m) => warnings.push(m) });
    expect(warnings).toEqual([expect.stringContaining('unreadable lock file')]);
    await lock.release();
  });

  it('release does not delete a lock that another process has since taken', async () => {
    const lock = await acquireDataDirLock(tmp);
    const otherLock = JSON.stringify({ pid: process.ppid, startedAt: new Date().toISOString() });
    await writeFile(path.join(tmp, LOCK_FILE_NAME), otherLock);
    await lock.release();
    expect(await readFile(path.join(tmp, LOCK_FILE_NAME), 'utf8')).toBe(otherLock);
  });
});
