// Python SMV's props rules (its vendored jprops): the reader in src/domain/jprops.ts against hand
// cases for each rule and, over a generated corpus, against the independent model in
// test/support/smvModel.ts.
import { describe, expect, it } from 'vitest';
import { parseJprops } from '../src/domain/jprops.ts';
import { toMap } from '../src/domain/props.ts';
import { jpropsModel } from './support/smvModel.ts';
import { prng } from './support/prng.ts';

const read = (text: string) => Object.fromEntries(toMap(parseJprops(text)));

describe('jprops rules that differ from java.util.Properties', () => {
  it.each([
    ['Unicode whitespace (NBSP, em space, U+001C) is stripped at line start', '\u00a0a = 1\n\u2003b = 2\n\u001cc = 3\n', { a: '1', b: '2', c: '3' }],
    ['a comment ending in an odd number of `\\` swallows the next line', '# C:\\data\\\nsmv.x = 1\ny = 2\n', { y: '2' }],
    ['a comment ending in an even number of `\\` does not', '# C:\\\\\nsmv.x = 1\n', { 'smv.x': '1' }],
    ['a blank line does not end a continuation', 'a = 1 \\\n\n   \nb = 2\n', { a: '1 b = 2' }],
    ['a dangling `\\` at the end of the file drops the entry', 'a = 1\nb = 2\\', { a: '1' }],
    ['a malformed \\u is no error: the `\\` goes', 'p = C:\\users\\me\nq = \\u12G4\n', { p: 'C:usersme', q: 'u12G4' }],
    ['\\uXXXX after an odd run of `\\` is a character', 'a = \\u0041\\\\u0041\n', { a: 'A\\u0041' }],
    ['`\\\\` does not cancel itself before a separator', 'a\\\\=b\n', { 'a\\=b': '' }],
    ['a vertical tab separates key and value', 'a\u000bb\n', { a: 'b' }],
    ['leading Unicode whitespace of a value is stripped', 'a =\u00a0\u2003v\n', { a: 'v' }],
    ['CR, LF and CRLF end lines', 'a = 1\rb = 2\r\nc = 3\n', { a: '1', b: '2', c: '3' }],
    ['a BOM is part of the first key', '\ufeffa = 1\n', { '\ufeffa': '1' }],
  ])('%s', (_name, text, expected) => {
    expect(read(text)).toEqual(expected);
    expect(Object.fromEntries(jpropsModel(text))).toEqual(expected);
  });

  it('keeps the offsets an edit splices: key, value and the whole logical line', () => {
    const text = 'x = 0\r\n\u00a0smv.conn.a.path = /p/V1 \\\r\n\r\n   tail\r\nz = 9';
    const doc = parseJprops(text);
    const entry = doc.entries[1]!;
    expect(text.slice(entry.keyStart, entry.keyEnd)).toBe('smv.conn.a.path');
    expect(text.slice(entry.valueStart, entry.valueStart + 5)).toBe('/p/V1');
    expect(text.slice(entry.lineStart, entry.lineEnd + entry.lineTerminator.length)).toBe('\u00a0smv.conn.a.path = /p/V1 \\\r\n\r\n   tail\r\n');
    expect(entry.value).toBe('/p/V1 tail');
    expect(doc.danglingStart).toBeNull();
    expect(parseJprops('a = 1\n# c:\\\n').danglingStart).toBe(6);
  });

  it('reads 3,000 generated hazard files exactly like the independent model', () => {
    const atoms = ['smv.conn.pdd_geo.path', 'smv.stages', ' ', '\t', '\u00a0', '\u2003', '\u000b', '\f', '\u001c', '\u0085', '\u3000', '=', ':', '\\', '\\\\', '\\\\\\', '#', '!', 'a', 'key', 'C:\\data\\', '\\u0041', '\\u00', '\\u005c', '\\u000a', '\\n', '\\t', 'x y', '\ufeff', 'é', '😀', '\r\n', '\n', '\r', '\n\n', ' = ', 'v'];
    const differ: string[] = [];
    for (let i = 0; i < 3000; i++) {
      const r = prng(91_000 + i);
      const text = Array.from({ length: r.int(30) }, () => r.pick(atoms)).join('');
      const ours = JSON.stringify([...toMap(parseJprops(text))]);
      const model = JSON.stringify([...jpropsModel(text)]);
      if (ours !== model) differ.push(`${JSON.stringify(text)}\nours:  ${ours}\nmodel: ${model}`);
    }
    expect(differ.length, `first:\n${differ[0]}`).toBe(0);
  });
});
