// Compares the Kubernetes objects of two multi-document YAML files, ignoring document order and
// key order. node compare_objects.mjs A.yaml B.yaml -> exit 0 when the sets are equal.
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

const YAML = createRequire(path.resolve(process.env.NODE_PATH ?? '', 'noop.js'))('yaml');
const canonical = (v) => {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v && typeof v === 'object') {
    return `{${Object.keys(v).sort().map((k) => `${JSON.stringify(k)}:${canonical(v[k])}`).join(',')}}`;
  }
  return JSON.stringify(v);
};
const load = (f) => {
  const m = new Map();
  for (const o of YAML.parseAllDocuments(fs.readFileSync(f, 'utf8'), { version: '1.1' }).map((d) => d.toJS())) {
    if (o) m.set(`${o.apiVersion} ${o.kind} ${o.metadata?.name}`, canonical(o));
  }
  return m;
};
const [fa, fb] = process.argv.slice(2);
const a = load(fa);
const b = load(fb);
const problems = [];
for (const [k, v] of a) {
  if (!b.has(k)) problems.push(`only in ${fa}: ${k}`);
  else if (b.get(k) !== v) problems.push(`differs: ${k}`);
}
for (const k of b.keys()) if (!a.has(k)) problems.push(`only in ${fb}: ${k}`);
if (problems.length || a.size === 0) {
  console.error(problems.join('\n') || 'no objects');
  process.exit(1);
}
console.log(`${a.size} objects equal`);
