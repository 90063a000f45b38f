// Java `.properties` reading and writing with the exact semantics of
// `java.util.Properties.load(Reader)` (JDK 17), plus the source offsets of every entry so
// an edit can splice one logical line and leave every other byte alone (SPEC §2).
//
// The scanner is a line-for-line port of JDK 17 `Properties.LineReader.readLine`,
// `Properties.load0` and `Properties.loadConvert`, including their quirks:
// - leading whitespace (space, tab, form feed) of every physical line is dropped, as are
//   blank lines; a `#`/`!` comment is only recognised at the start of a logical line, and
//   a comment line ending in `\` does not continue;
// - a line ending in an odd number of `\` continues on the next physical line (one `\`
//   is removed, the next line's leading whitespace is dropped); an empty next line ends it;
// - a dangling `\` at end of input is dropped;
// - key/value separators are the first unescaped `=`, `:` or whitespace; whitespace around
//   it and one following `=`/`:` (after a whitespace separator) are skipped;
// - escapes: `\t \n \r \f`, `\uXXXX` (exactly four hex digits, else Java throws), any other
//   `\x` is `x`.
//
// Offsets are UTF-16 code-unit indexes into the string given to `parseProps` (the caller
// decodes the file as UTF-8, like SMV's `new InputStreamReader(fd, "UTF-8")`; a BOM is not
// stripped by Java, so it is not stripped here either).

export type LineTerminator = '\n' | '\r\n' | '\r' | '';

/** One key/value pair of a props text, with where its logical line sits in the source. */
export interface PropsEntry {
  /** Key after unescaping. */
  key: string;
  /** Value after unescaping (continuations joined). */
  value: string;
  /** 1-based number of the physical line where the logical line starts. */
  lineNumber: number;
  /** Offset of the start of the physical line where the logical line starts. */
  lineStart: number;
  /** Offset of the first character of the raw key. */
  keyStart: number;
  /** Offset just after the raw key (== keyStart for an empty key). */
  keyEnd: number;
  /** Offset of the first character of the raw value; for an empty value, just after the line's content. */
  valueStart: number;
  /** Offset where the terminator of the logical line's last physical line begins (text length at end of input). */
  lineEnd: number;
  /** The terminator found at `lineEnd` (`''` at end of input). */
  lineTerminator: LineTerminator;
}

/** A logical line Java refuses to load (`IllegalArgumentException: Malformed \uxxxx encoding.`). */
export interface PropsSyntaxError {
  lineNumber: number;
  lineStart: number;
  lineEnd: number;
  message: string;
}

export interface PropsDocument {
  text: string;
  /** Key/value entries in source order; duplicates kept (the last one wins in Java). */
  entries: PropsEntry[];
  /** Non-empty means Java's `Properties.load` throws on this text (SMV would not start). */
  errors: PropsSyntaxError[];
  /**
   * The text ends inside a `\` continuation of a non-empty logical line, so text appended
   * after it would be glued onto that line unless an empty line is put in between.
   */
  endsInContinuation: boolean;
  /**
   * Where the logical line that the end of the text cuts off starts (Java keeps it as the last
   * entry, jprops drops it): new lines go in before it. null when the text ends cleanly.
   */
  danglingStart: number | null;
}

interface RawLogicalLine {
  /** Characters of the logical line as Java's lineBuf holds them. */
  chars: string[];
  /** Source offset of each character in `chars`. */
  positions: number[];
  lineStart: number;
  lineEnd: number;
  lineTerminator: LineTerminator;
}

const isBlank = (c: string): boolean => c === ' ' || c === '\t' || c === '\f';
const isEol = (c: string): boolean => c === '\r' || c === '\n';

/** Port of JDK 17 `Properties.LineReader`: yields logical lines, skipping comments and blank lines. */
class LogicalLineReader {
  private off = 0;
  endsInContinuation = false;

  constructor(private readonly text: string) {}

  readLine(): RawLogicalLine | null {
    const text = this.text;
    const n = text.length;
    const chars: string[] = [];
    const positions: number[] = [];
    let len = 0;
    let skipWhiteSpace = true;
    let appendedLineBegin = false;
    let precedingBackslash = false;
    let firstCharAt = -1;
    // Where the last continuation's line terminator sits, to place lineEnd at end of input.
    let continuationTermAt = -1;
    let continuationTermEnd = -1;

    const finish = (length: number, lineEnd: number, lineTerminator: LineTerminator): RawLogicalLine => {
      chars.length = length;
      positions.length = length;
      return { chars, positions, lineStart: physicalLineStart(text, firstCharAt), lineEnd, lineTerminator };
    };

    for (;;) {
      if (this.off >= n) {
        if (len === 0) return null;
        const afterContinuationOnly = skipWhiteSpace && appendedLineBegin && continuationTermEnd === n;
        this.endsInContinuation = precedingBackslash || afterContinuationOnly;
        return afterContinuationOnly
          ? finish(len, continuationTermAt, text.slice(continuationTermAt, n) as LineTerminator)
          : finish(precedingBackslash ? len - 1 : len, n, '');
      }
      const c = text[this.off++] as string;

      if (skipWhiteSpace) {
        if (isBlank(c)) continue;
        if (!appendedLineBegin && isEol(c)) continue;
        skipWhiteSpace = false;
        appendedLineBegin = false;
      }
      if (len === 0 && (c === '#' || c === '!')) {
        // A comment runs to the end of its physical line; `\` there does not continue it.
        let ended = false;
        while (this.off < n) {
          if (isEol(text[this.off++] as string)) {
            ended = true;
            break;
          }
        }
        if (!ended) return null;
        skipWhiteSpace = true;
        firstCharAt = -1;
        continue;
      }

      if (!isEol(c)) {
        chars[len] = c;
        positions[len] = this.off - 1;
        len++;
        if (firstCharAt < 0) firstCharAt = this.off - 1;
        precedingBackslash = c === '\\' ? !precedingBackslash : false;
        continue;
      }

      // End of a physical line.
      if (len === 0) {
        skipWhiteSpace = true;
        firstCharAt = -1;
        continue;
      }
      const termAt = this.off - 1;
      if (this.off >= n) {
        this.endsInContinuation = precedingBackslash;
        return finish(precedingBackslash ? len - 1 : len, termAt, c as LineTerminator);
      }
      if (precedingBackslash) {
        // The `\` is not part of the line; the next line's leading whitespace is skipped.
        len -= 1;
        skipWhiteSpace = true;
        appendedLineBegin = true;
        precedingBackslash = false;
        if (c === '\r' && text[this.off] === '\n') this.off++;
        continuationTermAt = termAt;
        continuationTermEnd = this.off;
        continue;
      }
      const terminator: LineTerminator = c === '\r' && text[this.off] === '\n' ? '\r\n' : (c as LineTerminator);
      return finish(len, termAt, terminator);
    }
  }
}

function physicalLineStart(text: string, offset: number): number {
  let i = offset;
  while (i > 0 && !isEol(text[i - 1] as string)) i--;
  return i;
}

/** Port of JDK 17 `Properties.loadConvert`: resolves escapes, or says why Java would throw. */
function unescape(chars: readonly string[], from: number, to: number): { ok: true; text: string } | { ok: false } {
  let out = '';
  let i = from;
  while (i < to) {
    let c = chars[i++] as string;
    if (c !== '\\') {
      out += c;
      continue;
    }
    c = chars[i++] ?? '';
    if (c === 'u') {
      if (i > to - 4) return { ok: false };
      let code = 0;
      for (let k = 0; k < 4; k++) {
        const digit = parseHexDigit(chars[i++] as string);
        if (digit < 0) return { ok: false };
        code = (code << 4) + digit;
      }
      out += String.fromCharCode(code);
    } else {
      out += c === 't' ? '\t' : c === 'r' ? '\r' : c === 'n' ? '\n' : c === 'f' ? '\f' : c;
    }
  }
  return { ok: true, text: out };
}

function parseHexDigit(c: string): number {
  if (c >= '0' && c <= '9') return c.charCodeAt(0) - 48;
  if (c >= 'a' && c <= 'f') return c.charCodeAt(0) - 87;
  if (c >= 'A' && c <= 'F') return c.charCodeAt(0) - 55;
  return -1;
}

/** Counts physical lines (`\r\n`, `\r`, `\n` each end one) up to increasing offsets. */
class LineCounter {
  private at = 0;
  private line = 1;
  constructor(private readonly text: string) {}
  lineNumberAt(offset: number): number {
    for (; this.at < offset; this.at++) {
      const c = this.text[this.at];
      if (c === '\n' || (c === '\r' && this.text[this.at + 1] !== '\n')) this.line++;
    }
    return this.line;
  }
}

/** Parses props text exactly like `java.util.Properties.load(Reader)`, keeping source offsets. */
export function parseProps(text: string): PropsDocument {
  const reader = new LogicalLineReader(text);
  const counter = new LineCounter(text);
  const entries: PropsEntry[] = [];
  const errors: PropsSyntaxError[] = [];

  for (let line = reader.readLine(); line !== null; line = reader.readLine()) {
    const { chars, positions } = line;
    const limit = chars.length;
    // Port of Properties.load0: find the end of the key and the start of the value.
    let keyLen = 0;
    let valueAt = limit;
    let hasSeparator = false;
    let precedingBackslash = false;
    while (keyLen < limit) {
      const c = chars[keyLen] as string;
      if ((c === '=' || c === ':') && !precedingBackslash) {
        valueAt = keyLen + 1;
        hasSeparator = true;
        break;
      }
      if (isBlank(c) && !precedingBackslash) {
        valueAt = keyLen + 1;
        break;
      }
      precedingBackslash = c === '\\' ? !precedingBackslash : false;
      keyLen++;
    }
    while (valueAt < limit) {
      const c = chars[valueAt] as string;
      if (!isBlank(c)) {
        if (!hasSeparator && (c === '=' || c === ':')) hasSeparator = true;
        else break;
      }
      valueAt++;
    }

    const lineNumber = counter.lineNumberAt(line.lineStart);
    const key = unescape(chars, 0, keyLen);
    const value = unescape(chars, valueAt, limit);
    if (!key.ok || !value.ok) {
      errors.push({
        lineNumber,
        lineStart: line.lineStart,
        lineEnd: line.lineEnd,
        message: `line ${lineNumber}: malformed \\uXXXX escape (a \\u must be followed by exactly four hex digits)`,
      });
      continue;
    }
    const contentEnd = limit > 0 ? (positions[limit - 1] as number) + 1 : line.lineStart;
    const keyStart = limit > 0 ? (positions[0] as number) : line.lineStart;
    entries.push({
      key: key.text,
      value: value.text,
      lineNumber,
      lineStart: line.lineStart,
      keyStart,
      keyEnd: keyLen > 0 ? (positions[keyLen - 1] as number) + 1 : keyStart,
      valueStart: valueAt < limit ? (positions[valueAt] as number) : contentEnd,
      lineEnd: line.lineEnd,
      lineTerminator: line.lineTerminator,
    });
  }
  const last = entries[entries.length - 1];
  const danglingStart = reader.endsInContinuation && last ? last.lineStart : null;
  return { text, entries, errors, endsInContinuation: reader.endsInContinuation, danglingStart };
}

/** Key → value as Java's `Properties` holds it (last occurrence wins; lines Java rejects are left out). */
export function toMap(doc: PropsDocument): Map<string, string> {
  const map = new Map<string, string>();
  for (const entry of doc.entries) map.set(entry.key, entry.value);
  return map;
}

/** The last entry for `key` (the one Java keeps), or undefined. */
export function lastEntry(doc: PropsDocument, key: string): PropsEntry | undefined {
  for (let i = doc.entries.length - 1; i >= 0; i--) {
    const entry = doc.entries[i] as PropsEntry;
    if (entry.key === key) return entry;
  }
  return undefined;
}

/** The terminator most lines of the text use (`\n` when there are none or on a tie). */
export function dominantLineTerminator(text: string): '\n' | '\r\n' | '\r' {
  let lf = 0;
  let crlf = 0;
  let cr = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '\n') lf++;
    else if (c === '\r') {
      if (text[i + 1] === '\n') {
        crlf++;
        i++;
      } else cr++;
    }
  }
  if (crlf > lf && crlf >= cr) return '\r\n';
  if (cr > lf && cr > crlf) return '\r';
  return '\n';
}

function escapeChar(c: string): string {
  switch (c) {
    case '\\':
      return '\\\\';
    case '\t':
      return '\\t';
    case '\n':
      return '\\n';
    case '\r':
      return '\\r';
    case '\f':
      return '\\f';
  }
  const code = c.charCodeAt(0);
  // Other control characters and lone surrogates (not encodable in UTF-8) become \uXXXX.
  const loneSurrogate = code >= 0xd800 && code <= 0xdfff;
  if (code < 0x20 || code === 0x7f || loneSurrogate) return '\\u' + code.toString(16).toUpperCase().padStart(4, '0');
  return c;
}

/** Escapes surrogate-pair-aware text; `special(c, index)` says which plain characters need a `\`. */
function escapeWith(text: string, special: (c: string, index: number) => boolean): string {
  let out = '';
  let i = 0;
  for (const c of text) {
    // Iterating a string yields code points; a well-formed pair passes through unescaped.
    if (c.length === 2) out += c;
    else out += special(c, i) ? '\\' + c : escapeChar(c);
    i += c.length;
  }
  return out;
}

/** Escapes a key for writing: separators, comment markers and whitespace get a `\`. */
export function escapePropsKey(key: string): string {
  return escapeWith(key, (c) => c === ' ' || c === '=' || c === ':' || c === '#' || c === '!');
}

/**
 * Escapes a value for writing after a separator: `\`, control characters and a leading
 * space/`=`/`:` (which Java would skip as part of the separator). Non-ASCII text is kept
 * as is (files are UTF-8).
 */
export function escapePropsValue(value: string): string {
  return escapeWith(value, (c, i) => i === 0 && (c === ' ' || c === '=' || c === ':'));
}
