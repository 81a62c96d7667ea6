// Every key of helm/dcdir/values.yaml is documented by a "## @param <path> <description>" line
// (for itself or for an enclosing object), and every @param names a key that exists.
//   node check_values_documented.mjs VALUES.yaml
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

const YAML = createRequire(path.resolve(process.env.NODE_PATH ?? '', 'noop.js'))('yaml');
const file = process.argv[2];
const text = fs.readFileSync(file, 'utf8');
const values = YAML.parse(text);

const params = new Map();
for (const m of text.matchAll(/^\s*## @param (\S+)(?: (.*))?$/gm)) {
  params.set(m[1], (m[2] ?? '').trim());
}

const failures = [];
const paths = [];
(function walk(obj, prefix) {
  for (const [k, v] of Object.entries(obj)) {
    const p = prefix ? `${prefix}.${k}` : k;
    paths.push(p);
    if (v && typeof v === 'object' && !Array.isArray(v) && !params.has(p)) walk(v, p);
  }
})(values, '');

const documented = (p) => {
  for (let q = p; q; q = q.includes('.') ? q.slice(0, q.lastIndexOf('.')) : '') {
    if (params.has(q)) return true;
  }
  return false;
};
for (const p of paths) {
  const v = p.split('.').reduce((o, k) => o[k], values);
  const isObject = v && typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length > 0;
  if (!isObject && !documented(p)) failures.push(`undocumented value: ${p} (add "## @param ${p} ...")`);
}
const all = new Set(paths);
for (const [p, desc] of params) {
  if (!all.has(p)) failures.push(`@param ${p} names no value`);
  if (!desc) failures.push(`@param ${p} has no description`);
}
if (failures.length) {
  console.error(failures.join('\n'));
  process.exit(1);
}
console.log(`${params.size} @param lines document all ${paths.length} value paths`);
