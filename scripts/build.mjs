#!/usr/bin/env node
// `npm run build`: compiles src/ to dist/ (tsc -p tsconfig.build.json), copies what tsc does not
// (the inspector's page, script and stylesheet), and stamps the build with the time it started.
// bin/keel.js runs dist/ only while no file under src/ is newer than that stamp. The build is made
// beside its output folder and swapped in whole, so a `keel` starting meanwhile never sees half of
// one. `--out-dir <dir>` builds into another folder instead (tests do, leaving dist/ alone); the
// compiled tree needs nothing from src/ at run time: `node <dir>/cli/main.js serve` beside a
// node_modules with the production dependencies is the whole of production.
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = fileURLToPath(new URL('..', import.meta.url));
const { values } = parseArgs({ options: { 'out-dir': { type: 'string' } } });
const out = resolve(root, values['out-dir'] ?? 'dist');
const shown = values['out-dir'] === undefined ? 'dist/' : out;
const startedAt = Date.now();
const next = `${out}.next-${process.pid}`;
const old = `${out}.old-${process.pid}`;
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
const compiled = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.build.json', '--outDir', next], { cwd: root, stdio: 'inherit' });
if (compiled.status !== 0) {
  rmSync(next, { recursive: true, force: true });
  console.error(`npm run build: tsc failed; ${shown} is unchanged.`);
  process.exit(compiled.status ?? 1);
}
// Files the code reads at run time beside itself (new URL('./…', import.meta.url)), which tsc
// does not emit. Everything else (GraphiQL's bundle, d3-hierarchy, migrations) is either code or
// comes from node_modules.
cpSync(`${root}src/api/inspector/assets`, `${next}/api/inspector/assets`, { recursive: true });
writeFileSync(`${next}/BUILD.json`, `${JSON.stringify({ startedAt: new Date(startedAt).toISOString() })}\n`);
if (existsSync(out)) renameSync(out, old);
renameSync(next, out);
rmSync(old, { recursive: true, force: true });
const seconds = ((Date.now() - startedAt) / 1000).toFixed(1);
console.log(
  values['out-dir'] === undefined
    ? `Built dist/ in ${seconds} s. bin/keel.js runs it until a file under src/ changes.`
    : `Built ${shown} in ${seconds} s.`,
);
