// Props files as bytes from a consumer repo: how big one may be, and how the consumer's SMV
// decodes it (Java: UTF-8 else ISO-8859-1; Python SMV: UTF-8 only).
import { isUtf8 } from 'node:buffer';
import { RepoFileRefusedError } from '../../core/workspaces.ts';

/** Props files are a few KB; past this they are refused, not parsed (a 1.5 MB line or 400k keys exhausted the heap). */
export const MAX_PROPS_BYTES = 1024 * 1024;

export type PropsEncoding = 'java' | 'utf8';

export function tooBig(relPath: string, size: number): RepoFileRefusedError {
  return new RepoFileRefusedError(
    `\`${relPath}\` in the consumer repo is ${size} bytes; props files over ${MAX_PROPS_BYTES} bytes are not read. ` +
      'Shrink it (it should hold a few pins and settings), then try again. Nothing was changed.',
  );
}

/**
 * Props bytes as the consumer's SMV reads them: UTF-8 when valid; else, for Java, ISO-8859-1 (every
 * byte survives); for Python SMV a refusal, since SMV itself would stop on the file.
 */
export function decodeProps(bytes: Buffer, relPath: string, rule: PropsEncoding = 'java'): { text: string; encoding: BufferEncoding } {
  if (isUtf8(bytes)) return { text: bytes.toString('utf8'), encoding: 'utf8' };
  if (rule === 'utf8') {
    throw new RepoFileRefusedError(
      `\`${relPath}\` in the consumer repo is not valid UTF-8, and Python SMV reads props files in the locale's encoding (UTF-8), ` +
        'so SMV itself would stop on it. Save the file as UTF-8 (commit the change), then try again. Nothing was changed.',
    );
  }
  return { text: bytes.toString('latin1'), encoding: 'latin1' };
}

