#!/usr/bin/env node
// `npm run build`: compiles src/ to dist/ (tsc -p tsconfig.build.json), copies what tsc does not
// (the inspector's page, script and stylesheet), and stamps the build with the time it started.
// bin/keel.js runs dist/ only while no file under src/ is newer than that stamp. The build is made
// beside dist/ and swapped in whole, so a `keel` starting meanwhile never sees half of one.
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const startedAt = Date.now();
const next = `${root}dist.next-${process.pid}`;
const old = `${root}dist.old-${process.pid}`;
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
const compiled = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.build.json', '--outDir', next], { cwd: root, stdio: 'inherit' });
if (compiled.status !== 0) {
  rmSync(next, { recursive: true, force: true });
  console.error('npm run build: tsc failed; dist/ is unchanged.');
  process.exit(compiled.status ?? 1);
}
cpSync(`${root}src/api/inspector/assets`, `${next}/api/inspector/assets`, { recursive: true });
writeFileSync(`${next}/BUILD.json`, `${JSON.stringify({ startedAt: new Date(startedAt).toISOString() })}\n`);
if (existsSync(`${root}dist`)) renameSync(`${root}dist`, old);
renameSync(next, `${root}dist`);
rmSync(old, { recursive: true, force: true });
console.log(`Built dist/ in ${((Date.now() - startedAt) / 1000).toFixed(1)} s. bin/keel.js runs it until a file under src/ changes.`);
