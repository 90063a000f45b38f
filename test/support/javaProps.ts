// Runs test/java/PropsDump.java (java.util.Properties.load as the oracle) over whole
// directories in ONE JVM start, so corpus tests stay fast.

import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export type JavaPropsResult = { ok: true; props: Record<string, string> } | { ok: false; error: string };

const DUMP_SOURCE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../java/PropsDump.java');

/** Loads every file of `dirs` with Java; keyed by absolute file path. Throws with a clear message when `java` is missing. */
export function loadWithJava(dirs: readonly string[]): Map<string, JavaPropsResult> {
  let stdout: string;
  try {
    // Java 11+ runs a single source file directly (no javac step).
    stdout = execFileSync('java', [DUMP_SOURCE, ...dirs.map((d) => path.resolve(d))], {
      encoding: 'utf8',
      maxBuffer: 256 * 1024 * 1024,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  } catch (error) {
    const e = error as NodeJS.ErrnoException & { stderr?: string };
    if (e.code === 'ENOENT') {
      throw new Error('This test needs Java 17 (`java` on PATH): java.util.Properties is the reference parser. Install a JDK (e.g. apt-get install openjdk-17-jdk-headless) and run again.');
    }
    throw new Error(`PropsDump.java failed: ${e.message}\n${e.stderr ?? ''}`);
  }
  const results = new Map<string, JavaPropsResult>();
  for (const line of stdout.split('\n')) {
    if (line.trim() === '') continue;
    const { file, ...result } = JSON.parse(line) as { file: string } & JavaPropsResult;
    results.set(path.resolve(file), result as JavaPropsResult);
  }
  return results;
}

/** What Java loaded from a file as a map; null when Java refused the file (or it was not loaded). */
export function javaMap(result: JavaPropsResult | undefined): Map<string, string> | null {
  return result && result.ok ? new Map(Object.entries(result.props)) : null;
}

export function sameMap(a: ReadonlyMap<string, string>, b: ReadonlyMap<string, string>): boolean {
  return a.size === b.size && [...a].every(([k, v]) => b.get(k) === v);
}

/** A map as sorted JSON, for failure messages. */
export function showMap(m: ReadonlyMap<string, string> | null): string {
  return m ? JSON.stringify(Object.fromEntries([...m].sort())) : 'null';
}
