import { watch, type FSWatcher } from 'node:fs';
import path from 'node:path';

export interface PublishWatcher {
  /** Watch these version dirs (still writing or settling) closely; others are left alone. Also tries again what could not be watched. */
  watchVersions(versions: readonly string[]): void;
  /** Ask for a scan at a given time (a version finishes settling then). */
  wakeAt(epochMs: number): void;
  close(): void;
}

export interface PublishWatcherOptions {
  debounceMs?: number;
  /**
   * Every dir that should be watched and cannot be, as `<dir>: <why>` (empty once all are
   * watched): told after each change of the list. A dir that does not exist is not listed
   * (the scan reports a missing publish dir; a version dir may simply be gone).
   */
  onProblems?: (problems: string[]) => void;
}

/**
 * Best-effort change detection (the schedule stays the safety net): the publish dir itself
 * for new versions, plus recursive watches on versions not complete yet, so `_SUCCESS` landing
 * deep inside triggers a scan. Watching only unfinished versions keeps inotify use small
 * however much history the dir holds. Events are debounced into one `onChange` call.
 */
export function watchPublishDir(publishDir: string, onChange: () => void, opts: PublishWatcherOptions = {}): PublishWatcher {
  const debounceMs = opts.debounceMs ?? 150;
  let timer: NodeJS.Timeout | undefined;
  let wake: NodeJS.Timeout | undefined;
  let closed = false;
  // Dirs that could not be watched, and why: tried again at the next watchVersions.
  const failed = new Map<string, string>();
  let reported = '';
  const report = () => {
    const problems = [...failed].map(([dir, why]) => `${dir}: ${why}`);
    if (closed || problems.join('\n') === reported) return;
    reported = problems.join('\n');
    opts.onProblems?.(problems);
  };
  const fire = () => {
    if (closed) return;
    clearTimeout(timer);
    timer = setTimeout(onChange, debounceMs);
  };
  const tryWatch = (dir: string, recursive: boolean, onLost: (w: FSWatcher) => void): FSWatcher | undefined => {
    try {
      const w = watch(dir, { recursive, persistent: false }, fire);
      failed.delete(dir);
      w.on('error', (error) => {
        // The watch is gone (the dir was removed, or the kernel dropped it): the next scan tries again.
        w.close();
        onLost(w);
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') failed.set(dir, (error as Error).message);
        report();
      });
      return w;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') failed.delete(dir);
      else failed.set(dir, (error as Error).message);
      return undefined;
    }
  };
  let root: FSWatcher | undefined;
  const watchRoot = () => {
    root ??= tryWatch(publishDir, false, (lost) => {
      if (root === lost) root = undefined;
    });
  };
  watchRoot();
  report();
  const versionWatchers = new Map<string, FSWatcher | undefined>();

  return {
    watchVersions(versions) {
      watchRoot();
      const wanted = new Set(versions);
      for (const [version, w] of versionWatchers) {
        if (!wanted.has(version)) {
          w?.close();
          versionWatchers.delete(version);
          failed.delete(path.join(publishDir, version));
        }
      }
      for (const version of wanted) {
        if (versionWatchers.get(version)) continue;
        versionWatchers.set(
          version,
          tryWatch(path.join(publishDir, version), true, (lost) => {
            if (versionWatchers.get(version) === lost) versionWatchers.delete(version);
          }),
        );
      }
      report();
    },
    wakeAt(epochMs) {
      clearTimeout(wake);
      wake = setTimeout(fire, Math.max(0, epochMs - Date.now()));
      wake.unref();
    },
    close() {
      closed = true;
      clearTimeout(timer);
      clearTimeout(wake);
      root?.close();
      for (const w of versionWatchers.values()) w?.close();
      versionWatchers.clear();
    },
  };
}
