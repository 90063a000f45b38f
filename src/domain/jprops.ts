// Props reading with Python SMV's rules (its vendored `jprops` module, read as SMV's
// `smvconfig.py` opens files: text mode, universal newlines), keeping the same source offsets as
// the Java reader so an edit can splice one logical line (SPEC §2 "Python SMV parses props").
//
// Where jprops differs from java.util.Properties (each one changes what SMV reads):
// - leading whitespace of every physical line is any Unicode whitespace (`\s` in Python: NBSP,
//   U+2000…, U+001C…U+001F, U+0085 too), not only space, tab and form feed;
// - whether a physical line continues is decided before comments are recognised, so a `#`/`!`
//   comment ending in an odd number of `\` swallows the next line;
// - a line with nothing but whitespace is skipped without ending a continuation;
// - a logical line still open at the end of the text is dropped;
// - key separators are `=`, `:` and ASCII whitespace (vertical tab included); a `\` escapes the
//   next character, but `\\` does not cancel itself there (`a\\=b` is the key `a\=b`);
// - the value's leading Unicode whitespace is stripped;
// - `\uXXXX` with four hex digits after an odd run of `\` is a character; anything else after a
//   `\` is that character (a malformed `\u` is no error), and `\t \n \f \r` are control characters.
import type { LineTerminator, PropsDocument, PropsEntry } from './props.ts';

/** Python's `str.isspace()` (and `\s` in a str pattern), which jprops strips with. */
export function isPythonSpace(c: string): boolean {
  const code = c.charCodeAt(0);
  return (
    (code >= 0x09 && code <= 0x0d) ||
    (code >= 0x1c && code <= 0x20) ||
    code === 0x85 ||
    code === 0xa0 ||
    code === 0x1680 ||
    (code >= 0x2000 && code <= 0x200a) ||
    code === 0x2028 ||
    code === 0x2029 ||
    code === 0x202f ||
    code === 0x205f ||
    code === 0x3000
  );
}

/** Key terminators of jprops: `=`, `:` and Python's `string.whitespace` (ASCII only). */
const isKeyTerminator = (c: string): boolean => c === '=' || c === ':' || c === ' ' || (c >= '\t' && c <= '\r');
const isExplicitSeparator = (c: string | undefined): boolean => c === '=' || c === ':';

interface PhysicalLine {
  start: number;
  /** Where the terminator begins (text length for the last line without one). */
  end: number;
  terminator: LineTerminator;
}

function* physicalLines(text: string): Generator<PhysicalLine> {
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c !== '\n' && c !== '\r') continue;
    const terminator: LineTerminator = c === '\r' && text[i + 1] === '\n' ? '\r\n' : (c as LineTerminator);
    yield { start, end: i, terminator };
    i += terminator.length - 1;
    start = i + 1;
  }
  if (start < text.length) yield { start, end: text.length, terminator: '' };
}

interface LogicalLine {
  chars: string[];
  positions: number[];
  /** Physical line where it starts, and the one where it ends. */
  first: PhysicalLine;
  firstNumber: number;
  last: PhysicalLine;
}

/** Python SMV's `_property_lines`, yielding logical lines with the offset of every character. */
function logicalLines(text: string, onDangling: (start: number) => void): LogicalLine[] {
  const out: LogicalLine[] = [];
  let open: LogicalLine | null = null;
  let number = 0;
  for (const line of physicalLines(text)) {
    number++;
    let bodyStart = line.start;
    while (bodyStart < line.end && isPythonSpace(text[bodyStart] as string)) bodyStart++;
    let backslashes = 0;
    while (line.end - backslashes > bodyStart && text[line.end - backslashes - 1] === '\\') backslashes++;
    const continues = backslashes % 2 === 1;
    const bodyEnd = continues ? line.end - 1 : line.end;
    if (bodyEnd <= bodyStart) continue; // an empty body neither starts nor ends a logical line
    open ??= { chars: [], positions: [], first: line, firstNumber: number, last: line };
    for (let i = bodyStart; i < bodyEnd; i++) {
      open.chars.push(text[i] as string);
      open.positions.push(i);
    }
    open.last = line;
    if (!continues) {
      out.push(open);
      open = null;
    }
  }
  if (open) onDangling(open.first.start);
  return out;
}

/** jprops' `_unescape`: `\uXXXX` after an odd run of `\` first, then `\x` → x (t, n, f, r as controls). */
export function unescapeJprops(raw: string): string {
  const unicode = raw.replace(/(\\+)u([0-9a-fA-F]{4})/g, (whole, slashes: string, hex: string) => {
    if (slashes.length % 2 === 0) return whole;
    const c = String.fromCharCode(parseInt(hex, 16));
    return slashes + (c === '\\' ? '\\\\' : c);
  });
  // Python's `.` is anything but `\n` (a `\u000a` above stays behind its `\`).
  return unicode.replace(/\\([^\n])/gu, (_, c: string) => (c === 't' ? '\t' : c === 'n' ? '\n' : c === 'f' ? '\f' : c === 'r' ? '\r' : c));
}

/** Parses props text the way Python SMV's jprops reads it, keeping source offsets (never errors). */
export function parseJprops(text: string): PropsDocument {
  let danglingStart: number | null = null;
  const entries: PropsEntry[] = [];
  for (const line of logicalLines(text, (start) => (danglingStart = start))) {
    const { chars, positions } = line;
    if (chars[0] === '#' || chars[0] === '!') continue;
    // `_split_key_value`: a `\` shields the next character; it does not toggle.
    let keyLen = 0;
    let escaped = false;
    let explicit = false;
    let terminated = false;
    for (; keyLen < chars.length; keyLen++) {
      const c = chars[keyLen] as string;
      if (!escaped && isKeyTerminator(c)) {
        explicit = isExplicitSeparator(c);
        terminated = true;
        break;
      }
      escaped = c === '\\';
    }
    let valueAt = terminated ? keyLen + 1 : chars.length;
    while (valueAt < chars.length && isPythonSpace(chars[valueAt] as string)) valueAt++;
    if (terminated && !explicit && isExplicitSeparator(chars[valueAt])) {
      valueAt++;
      while (valueAt < chars.length && isPythonSpace(chars[valueAt] as string)) valueAt++;
    }
    const contentEnd = (positions[chars.length - 1] as number) + 1;
    const keyStart = positions[0] as number;
    entries.push({
      key: unescapeJprops(chars.slice(0, keyLen).join('')),
      value: unescapeJprops(chars.slice(valueAt).join('')),
      lineNumber: line.firstNumber,
      lineStart: line.first.start,
      keyStart,
      keyEnd: keyLen > 0 ? (positions[keyLen - 1] as number) + 1 : keyStart,
      valueStart: valueAt < chars.length ? (positions[valueAt] as number) : contentEnd,
      lineEnd: line.last.end,
      lineTerminator: line.last.terminator,
    });
  }
  return { text, entries, errors: [], endsInContinuation: danglingStart !== null, danglingStart };
}
