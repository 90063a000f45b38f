import { watch, type FSWatcher } from 'node:fs';
import path from 'node:path';

export interface PublishWatcher {
  /** Watch these version dirs (still writing or settling) closely; others are left alone. */
  watchVersions(versions: readonly string[]): void;
  /** Ask for a scan at a given time (a version finishes settling then). */
  wakeAt(epochMs: number): void;
  close(): void;
}

/**
 * Best-effort change detection (the schedule stays the safety net): the publish dir itself
 * for new versions, plus recursive watches on versions not complete yet, so `_SUCCESS` landing
 * deep inside triggers a scan. Watching only unfinished versions keeps inotify use small
 * however much history the dir holds. Events are debounced into one `onChange` call.
 */
export function watchPublishDir(publishDir: string, onChange: () => void, opts: { debounceMs?: number; onError?: (error: unknown) => void } = {}): PublishWatcher {
  const debounceMs = opts.debounceMs ?? 150;
  let timer: NodeJS.Timeout | undefined;
  let wake: NodeJS.Timeout | undefined;
  let closed = false;
  const fire = () => {
    if (closed) return;
    clearTimeout(timer);
    timer = setTimeout(onChange, debounceMs);
  };
  const tryWatch = (dir: string, recursive: boolean): FSWatcher | undefined => {
    try {
      const w = watch(dir, { recursive, persistent: false }, fire);
      w.on('error', () => w.close());
      return w;
    } catch (error) {
      // A dir that is not there (yet) or cannot be watched: the schedule still finds changes.
      opts.onError?.(error);
      return undefined;
    }
  };
  const root = tryWatch(publishDir, false);
  const versionWatchers = new Map<string, FSWatcher | undefined>();

  return {
    watchVersions(versions) {
      const wanted = new Set(versions);
      for (const [version, w] of versionWatchers) {
        if (!wanted.has(version)) {
          w?.close();
          versionWatchers.delete(version);
        }
      }
      for (const version of wanted) {
        if (!versionWatchers.has(version)) versionWatchers.set(version, tryWatch(path.join(publishDir, version), true));
      }
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
