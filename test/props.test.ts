import { describe, expect, it } from 'vitest';
import {
  dominantLineTerminator,
  escapePropsKey,
  escapePropsValue,
  lastEntry,
  parseProps,
  toMap,
} from '../src/domain/props.ts';
import { SMV_SAMPLES } from './support/javaPropsSamples.ts';

const mapOf = (text: string) => Object.fromEntries(toMap(parseProps(text)));

describe('parseProps reads text like java.util.Properties.load', () => {
  // Expected values were checked against Java 17 (see propsJavaCorpus.test.ts for the oracle run).
  const cases: [string, string, Record<string, string>][] = [
    ['= separator with spaces', 'a = b\n', { a: 'b' }],
    [': separator', 'a:b\n', { a: 'b' }],
    ['whitespace separator', 'a   b c\n', { a: 'b c' }],
    ['whitespace then = is one separator', 'a \t= b\n', { a: 'b' }],
    ['second = belongs to the value', 'a = = b\n', { a: '= b' }],
    ['=: keeps the colon', 'a=:b\n', { a: ':b' }],
    ['key only', 'lonely\n', { lonely: '' }],
    ['empty value', 'a =\n', { a: '' }],
    ['trailing whitespace kept in value', 'a = b  \n', { a: 'b  ' }],
    ['leading whitespace of line dropped', '  \t\fa = b\n', { a: 'b' }],
    ['# and ! comments', '# a = 1\n! b = 2\n  # c = 3\nd = 4\n', { d: '4' }],
    ['comment ending in backslash does not continue', '# note \\\na = 1\n', { a: '1' }],
    ['# inside a value is text', 'a = b # not a comment\n', { a: 'b # not a comment' }],
    ['continuation drops the backslash and next indentation', 'a = one, \\\n      two\n', { a: 'one, two' }],
    ['continuation line starting with # is value text', 'a = \\\n  #x\n', { a: '#x' }],
    ['even backslashes do not continue', 'a = b\\\\\nc = d\n', { a: 'b\\', c: 'd' }],
    ['three backslashes continue', 'a = b\\\\\\\n c\n', { a: 'b\\c' }],
    ['continuation into an empty line ends the value', 'a = b\\\n\nc = d\n', { a: 'b', c: 'd' }],
    ['continuation at end of input', 'a = b\\', { a: 'b' }],
    ['continuation in the key', 'smv.stages.\\\n   geo.version = v1\n', { 'smv.stages.geo.version': 'v1' }],
    ['lone backslash line joins the next line', '\\\nk = v\n', { k: 'v' }],
    ['escapes in keys', 'a\\=b\\:c\\ d = 1\n', { 'a=b:c d': '1' }],
    ['escapes in values', 'a = \\t\\n\\r\\f\\\\\\q\\u0041\\u00e9\n', { a: '\t\n\r\f\\qAé' }],
    ['escaped leading space survives', 'a = \\  b\n', { a: '  b' }],
    ['surrogate pair from \\u escapes', 'a = \\uD83D\\uDE00\n', { a: '😀' }],
    ['UTF-8 text as is', 'clé = 中文 😀\n', { clé: '中文 😀' }],
    ['CRLF', 'a = 1\r\nb = 2\r\n', { a: '1', b: '2' }],
    ['CR only', 'a = 1\rb = 2\r', { a: '1', b: '2' }],
    ['continuation over CRLF', 'a = 1\\\r\n  2\r\nb = 3\r\n', { a: '12', b: '3' }],
    ['last duplicate wins', 'a = 1\na = 2\n', { a: '2' }],
    ['blank lines with whitespace', '\n   \n\t\na = 1\n \f \n', { a: '1' }],
    ['no final newline', 'a = 1\nb = 2', { a: '1', b: '2' }],
    ['BOM is part of the first key (Java does not strip it)', '\uFEFFa = 1\n', { '\uFEFFa': '1' }],
  ];
  it.each(cases)('%s', (_name, text, expected) => {
    const doc = parseProps(text);
    expect(doc.errors).toEqual([]);
    expect(Object.fromEntries(toMap(doc))).toEqual(expected);
  });

  it("reads SMV's enterprise app conf, whose smv.stages continues over two lines", () => {
    const text = SMV_SAMPLES['enterprise/smv-app-conf.props'];
    expect(mapOf(text)).toEqual({ 'smv.appName': 'Example App', 'smv.stages': 'stage1, stage2' });
  });

  it("reads SMV's testSmvConfig files (commented keys are ignored)", () => {
    expect(mapOf(SMV_SAMPLES['testSmvConfig/smv-app-conf.props'])).toEqual({
      'smv.test0': 'in_app_conf',
      'smv.test1': 'in_app_conf',
      'smv.test2': 'in_app_conf',
      'smv.runtimeConfigFile': 'conf/kv/default-run.props',
    });
    expect(mapOf(SMV_SAMPLES['testSmvConfig/smv-user-conf.props'])).toEqual({
      'smv.test1': 'in_user_conf',
      'smv.test2': 'in_user_conf',
      'smv.stages': 's1,s2,s3',
    });
  });

  it('records where each logical line, key and value sit in the source', () => {
    const text = '# c\n  a = 1\r\nlong = x\\\n   y\nlast:z';
    const [a, long, last] = parseProps(text).entries;
    expect(a).toMatchObject({ key: 'a', value: '1', lineNumber: 2, lineStart: 4, keyStart: 6, keyEnd: 7, valueStart: 10, lineTerminator: '\r\n' });
    expect(text.slice(a!.lineStart, a!.lineEnd)).toBe('  a = 1');
    expect(long).toMatchObject({ key: 'long', value: 'xy', lineNumber: 3, lineTerminator: '\n' });
    expect(text.slice(long!.lineStart, long!.lineEnd)).toBe('long = x\\\n   y');
    expect(text.slice(long!.valueStart, long!.lineEnd)).toBe('x\\\n   y');
    expect(last).toMatchObject({ key: 'last', value: 'z', lineNumber: 5, lineTerminator: '' });
    expect(last!.lineEnd).toBe(text.length);
  });

  it('places an empty value right after the line content', () => {
    const text = 'k = \nnext';
    const [k] = parseProps(text).entries;
    expect(k!.valueStart).toBe(4);
    expect(k!.lineEnd).toBe(4);
  });

  it('says when the text ends inside a continuation', () => {
    expect(parseProps('a = b\\').endsInContinuation).toBe(true);
    expect(parseProps('a = b\\\n').endsInContinuation).toBe(true);
    expect(parseProps('a = b\\\r\n').endsInContinuation).toBe(true);
    expect(parseProps('a = b\\\n  ').endsInContinuation).toBe(false);
    expect(parseProps('a = b\\\\\n').endsInContinuation).toBe(false);
    expect(parseProps('# c\\').endsInContinuation).toBe(false);
  });

  it('reports malformed \\u escapes (Java throws) with the line number, keeping the other entries', () => {
    const doc = parseProps('a = 1\n\nbad = \\u12\nc = \\uZZZZ\nd = 4\n');
    expect(doc.errors.map((e) => e.lineNumber)).toEqual([3, 4]);
    expect(doc.errors[0]!.message).toContain('line 3: malformed \\uXXXX escape');
    expect(Object.fromEntries(toMap(doc))).toEqual({ a: '1', d: '4' });
  });

  it('lastEntry finds the occurrence Java keeps', () => {
    const doc = parseProps('a = 1\nb = 2\na = 3\n');
    expect(lastEntry(doc, 'a')).toMatchObject({ value: '3', lineNumber: 3 });
    expect(lastEntry(doc, 'zzz')).toBeUndefined();
  });
});

describe('escaping for writing', () => {
  const tricky = ['plain', ' leading space', '=starts', ':starts', 'a=b:c', '#hash', '!bang', 'tab\there', 'new\nline', 'cr\rf\f', 'back\\slash', 'é 中文 😀', '\u0001ctl\u007f', 'lone\uD800', ''];
  it.each(tricky)('a value round-trips: %j', (value) => {
    expect(toMap(parseProps(`k = ${escapePropsValue(value)}\n`)).get('k')).toBe(value);
    expect(toMap(parseProps(`k ${escapePropsValue(value)}\n`)).get('k')).toBe(value);
  });
  it.each(tricky.filter((k) => k !== ''))('a key round-trips: %j', (key) => {
    expect([...toMap(parseProps(`${escapePropsKey(key)} = v\n`))]).toEqual([[key, 'v']]);
  });
  it('leaves ordinary versions and keys readable', () => {
    expect(escapePropsValue('TCD.20160802.geo')).toBe('TCD.20160802.geo');
    expect(escapePropsKey('smv.stages.geo.version')).toBe('smv.stages.geo.version');
  });
});

describe('dominantLineTerminator', () => {
  it.each([
    ['', '\n'],
    ['a', '\n'],
    ['a\nb\n', '\n'],
    ['a\r\nb\r\nc\n', '\r\n'],
    ['a\rb\r', '\r'],
    ['a\r\nb\n', '\n'],
  ])('%j → %j', (text, eol) => {
    expect(dominantLineTerminator(text)).toBe(eol);
  });
});
