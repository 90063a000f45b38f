// The StoreTree of a publish dir on HDFS, over WebHDFS/HttpFS: listings page by page, a walk
// breadth-first (one paged listing per dir, within the budget) and reads refused by size before
// a byte is fetched. HDFS symlinks (off by default in HDFS) are not followed or shown.
import { StoreError, type StoreItem, type StoreTree, type WalkBudget } from '../remote/storeTree.ts';
import { WebHdfsClient, type HdfsFileStatus, type WebHdfsOptions } from './webhdfsClient.ts';
import { joinHdfsPath, parseWebHdfsUrl, type WebHdfsLocation } from './webhdfsUrl.ts';

export type { WebHdfsOptions } from './webhdfsClient.ts';

function joinRel(a: string, b: string): string {
  return a === '' ? b : b === '' ? a : `${a}/${b}`;
}

function toItem(status: HdfsFileStatus, prefix: string): StoreItem | null {
  if (status.type === 'SYMLINK') return null;
  const kind = status.type === 'DIRECTORY' ? 'dir' : 'file';
  return { path: joinRel(prefix, status.pathSuffix), kind, size: kind === 'file' ? status.length : 0, mtimeMs: status.modificationTime };
}

export class WebHdfsTree implements StoreTree {
  readonly where: string;
  readonly client: WebHdfsClient;

  constructor(
    readonly location: WebHdfsLocation,
    opts: WebHdfsOptions = {},
  ) {
    this.where = location.where;
    this.client = new WebHdfsClient(location, opts);
  }

  private abs(rel: string): string {
    return joinHdfsPath(this.location.path, rel);
  }

  async *list(rel: string): AsyncIterable<StoreItem[]> {
    for await (const page of this.client.listStatus(this.abs(rel))) {
      const items = page.map((s) => toItem(s, '')).filter((i): i is StoreItem => i !== null);
      if (items.length) yield items;
    }
  }

  async *walk(rel: string, budget: WalkBudget): AsyncIterable<StoreItem[]> {
    const queue: { rel: string; level: number }[] = [{ rel: '', level: 0 }];
    let yielded = 0;
    for (let next = 0; next < queue.length; next++) {
      const dir = queue[next]!;
      try {
        for await (const page of this.client.listStatus(this.abs(joinRel(rel, dir.rel)))) {
          const items: StoreItem[] = [];
          for (const status of page) {
            const item = toItem(status, dir.rel);
            if (item === null) continue;
            if (yielded >= budget.maxEntries) {
              if (items.length) yield items;
              return;
            }
            yielded++;
            items.push(item);
            if (item.kind === 'dir' && dir.level + 1 < budget.maxDepth) queue.push({ rel: item.path, level: dir.level + 1 });
          }
          if (items.length) yield items;
        }
      } catch (err) {
        // A dir below that is gone since its parent was listed (a `_temporary` cleaned up): nothing to read.
        if (dir.rel !== '' && err instanceof StoreError && err.kind === 'not-found') continue;
        if (err instanceof StoreError) throw new StoreError(err.kind, err.message, dir.rel);
        throw err;
      }
      // Walked dirs are not kept: memory follows the dirs still to list.
      queue[next] = undefined as never;
    }
  }

  async read(rel: string, maxBytes: number): Promise<Buffer> {
    const path = this.abs(rel);
    const status = await this.client.getFileStatus(path);
    if (status.type !== 'FILE') throw new StoreError('unreadable', `${this.where}: ${rel} is not a file`);
    if (status.length > maxBytes) throw new StoreError('too-large', `${rel} holds ${status.length} bytes, over ${maxBytes}; not read`);
    if (status.length === 0) return Buffer.alloc(0);
    // One byte more than allowed tells a file that grew since from one that did not.
    const bytes = await this.client.open(path, maxBytes + 1);
    if (bytes.length > maxBytes) throw new StoreError('too-large', `${rel} grew over ${maxBytes} bytes while being read; not read`);
    return bytes;
  }
}

/** The StoreTree of a `webhdfs://` or `swebhdfs://` publish dir. Throws on an invalid URL (no secret in the message). */
export function webHdfsTree(location: string | WebHdfsLocation, opts: WebHdfsOptions = {}): WebHdfsTree {
  return new WebHdfsTree(typeof location === 'string' ? parseWebHdfsUrl(location) : location, opts);
}
