import fs from 'node:fs';
import { performance } from 'node:perf_hooks';
const data = JSON.parse(fs.readFileSync('/tmp/zz-bench-world/data-exp/smvbot.json', 'utf8'));
const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
function entriesOnLines(obj: unknown, valueText: (key: string, value: unknown) => string): string {
  if (!isRecord(obj)) return JSON.stringify(obj);
  const parts: string[] = [];
  for (const key in obj) { const v = obj[key]; if (v === undefined || typeof v === 'function') continue; parts.push(`${JSON.stringify(key)}:${valueText(key, v)}`); }
  return parts.length ? `{\n${parts.join(',\n')}\n}` : '{}';
}
const compact = (_k: string, v: unknown) => JSON.stringify(v);
function stringifyState(d: unknown) {
  return entriesOnLines(d, (k, v) => k === 'publishers' ? entriesOnLines(v, (_n, p) => entriesOnLines(p, (pk, pv) => pk === 'versions' ? entriesOnLines(pv, compact) : JSON.stringify(pv))) : k === 'adoptions' && Array.isArray(v) ? (v.length ? `[\n${v.map((x) => JSON.stringify(x) ?? 'null').join(',\n')}\n]` : '[]') : JSON.stringify(v)) + '\n';
}
for (let i = 0; i < 5; i++) {
  let t = performance.now(); const a = JSON.stringify(data); const ta = performance.now() - t;
  t = performance.now(); const b = stringifyState(data); const tb = performance.now() - t;
  t = performance.now(); const c = JSON.stringify(data, null, 2); const tc = performance.now() - t;
  console.log({ compact: ta.toFixed(1), lines: tb.toFixed(1), pretty: tc.toFixed(1), sizes: [a.length, b.length, c.length] });
  if (i === 0) { console.log(JSON.stringify(JSON.parse(b)) === a); console.log(b.slice(0, 600)); }
}
