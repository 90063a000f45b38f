// Small checks of config values against the machine and git's rules (paths, repo URLs, branch names).
import { statSync } from 'node:fs';
import path from 'node:path';

/** Problem text when the path is not an existing file/directory, else null. */
export function checkPath(absolute: string, kind: 'file' | 'directory'): string | null {
  let isDir: boolean;
  try {
    isDir = statSync(absolute).isDirectory();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return code === 'ENOENT'
      ? `${absolute} does not exist; create it or fix the path (relative paths are resolved against the folder of the topology file)`
      : `${absolute} cannot be accessed (${code ?? 'error'})`;
  }
  if (kind === 'directory' && !isDir) return `${absolute} is not a directory`;
  if (kind === 'file' && isDir) return `${absolute} is a directory, expected a file`;
  return null;
}

/** `scheme://…` or scp-style `user@host:path` / `host:path` (a colon before any slash), as git reads them. */
export function isGitUrl(repo: string): boolean {
  if (/^[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(repo)) return true;
  const colon = repo.indexOf(':');
  const slash = repo.indexOf('/');
  return colon > 0 && (slash === -1 || colon < slash);
}

export function isUsableBranchName(name: string): boolean {
  // git check-ref-format rules that matter here; a leading "-" would read as an option.
  return (
    name.length > 0 &&
    !name.startsWith('-') &&
    !name.startsWith('/') &&
    !name.endsWith('/') &&
    !name.endsWith('.') &&
    !name.endsWith('.lock') &&
    !name.includes('..') &&
    !name.includes('@{') &&
    !name.includes('//') &&
    !/[\s~^:?*[\\\x00-\x1f\x7f]/.test(name)
  );
}

export function isInsideRepo(confPath: string): boolean {
  const normalized = path.posix.normalize(confPath.replaceAll('\\', '/'));
  return (
    confPath.length > 0 &&
    !path.isAbsolute(confPath) &&
    !/^[A-Za-z]:/.test(confPath) &&
    normalized !== '.' &&
    normalized !== '..' &&
    !normalized.startsWith('../') &&
    !normalized.endsWith('/')
  );
}

/** Names of items, including items with other problems, so duplicates show up in the same run. */
export function namesOf(items: unknown[]): string[] {
  return items.flatMap((item) => {
    const name = (item as { name?: unknown } | null)?.name;
    return typeof name === 'string' ? [name] : [];
  });
}

export function arrayOrEmpty(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

/** YAML `key:` with no value means "not given", so defaults apply. */
export function withoutNulls(value: unknown): unknown {
  if (Array.isArray(value)) return value.map((v) => (v !== null && typeof v === 'object' ? withoutNulls(v) : v));
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) if (v !== null) out[key] = withoutNulls(v);
  return out;
}

export function displayPath(absolute: string, cwd: string): string {
  const relative = path.relative(cwd, absolute);
  return relative && !relative.startsWith('..') && !path.isAbsolute(relative) ? relative : absolute;
}
