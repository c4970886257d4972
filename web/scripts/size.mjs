// Page weight: the gzipped size of every built asset (web/dist), and of what the first page loads
// (everything but lazily imported chunks such as the Excel writer).
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { join, relative } from 'node:path';

const dist = new URL('../dist/', import.meta.url).pathname;
const files = [];
const walk = (d) => readdirSync(d).forEach((f) => (statSync(join(d, f)).isDirectory() ? walk(join(d, f)) : files.push(join(d, f))));
walk(dist);
const index = readFileSync(join(dist, 'index.html'), 'utf8');
let total = 0;
let initial = 0;
for (const f of files.sort()) {
  const raw = readFileSync(f);
  const gz = gzipSync(raw, { level: 9 }).length;
  const rel = relative(dist, f);
  const first = rel === 'index.html' || index.includes(rel);
  total += gz;
  if (first) initial += gz;
  console.log(`${rel.padEnd(40)} ${(raw.length / 1024).toFixed(1).padStart(8)} KB  gzip ${(gz / 1024).toFixed(1).padStart(7)} KB${first ? '  (first load)' : ''}`);
}
console.log(`total gzip ${(total / 1024).toFixed(1)} KB; first load ${(initial / 1024).toFixed(1)} KB (aim: < 1024 KB)`);
if (total > 1024 * 1024) process.exit(1);
