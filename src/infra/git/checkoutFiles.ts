// A consumer's local checkout for the `smvbot pins|adopt|unpin --dir` tools: the same files the bot
// reads through git, read and written on disk. Regular files inside the checkout only.
import { lstatSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { decodeProps, MAX_PROPS_BYTES, type PropsEncoding } from './consumerRepo.ts';

export class CheckoutFiles {
  /** How each file was decoded, so a write keeps its bytes' encoding (UTF-8, else ISO-8859-1 as Java reads it). */
  private readonly encodings = new Map<string, BufferEncoding>();

  constructor(
    readonly dir: string,
    private readonly propsEncoding: PropsEncoding = 'java',
  ) {}

  /** The file's text, or null when absent; throws with a sentence a person can act on. */
  read(relPath: string): string | null {
    const abs = this.checked(relPath);
    if (abs === null) return null;
    const { text, encoding } = decodeProps(readFileSync(abs), relPath, this.propsEncoding);
    this.encodings.set(relPath, encoding);
    return text;
  }

  write(relPath: string, text: string): void {
    const abs = this.checked(relPath) ?? path.join(this.dir, relPath);
    mkdirSync(path.dirname(abs), { recursive: true });
    writeFileSync(abs, text, this.encodings.get(relPath) ?? 'utf8');
  }

  /** The absolute path when it is a regular file reached without symlinks; null when absent. */
  private checked(relPath: string): string | null {
    let current = this.dir;
    const parts = relPath.split('/');
    for (let i = 0; i < parts.length; i++) {
      current = path.join(current, parts[i]!);
      let info;
      try {
        info = lstatSync(current);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
        throw error;
      }
      const last = i === parts.length - 1;
      if (info.isSymbolicLink()) throw new Error(`${relPath} ${last ? 'is' : 'lies under'} a symbolic link in ${this.dir}; smvbot reads and writes regular files only`);
      if (last && !info.isFile()) throw new Error(`${relPath} in ${this.dir} is not a regular file`);
      if (last && info.size > MAX_PROPS_BYTES) throw new Error(`${relPath} in ${this.dir} is larger than ${MAX_PROPS_BYTES} bytes; that is not a props file smvbot edits`);
    }
    return current;
  }
}
