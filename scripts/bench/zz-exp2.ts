import fs from 'node:fs';
import { performance } from 'node:perf_hooks';
const text = fs.readFileSync('/tmp/zz-bench-world/data-exp/smvbot.json', 'utf8');
let t = performance.now(); const data = JSON.parse(text); console.log('parse', performance.now() - t);
for (let i = 0; i < 3; i++) {
t = performance.now(); const pretty = JSON.stringify(data, null, 2); const a = performance.now() - t;
t = performance.now(); const compact = JSON.stringify(data); const b = performance.now() - t;
t = performance.now(); fs.writeFileSync('/tmp/zz-bench-world/x.json', pretty); fs.renameSync('/tmp/zz-bench-world/x.json', '/tmp/zz-bench-world/y.json'); const c = performance.now() - t;
t = performance.now(); fs.writeFileSync('/tmp/zz-bench-world/x.json', compact); fs.renameSync('/tmp/zz-bench-world/x.json', '/tmp/zz-bench-world/y.json'); const d = performance.now() - t;
console.log({ prettyStringify: a, compactStringify: b, prettyWrite: c, compactWrite: d, pretty: pretty.length, compact: compact.length });
}
const v = Object.values(data.publishers['public-data'].versions)[5]; console.log(JSON.stringify(v));
