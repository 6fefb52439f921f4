#!/usr/bin/env node
// The `keel` command. After `npm run build` it runs the compiled dist/ (half a second less per
// command: no TypeScript to load), as long as no file under src/ changed since that build;
// otherwise it runs the TypeScript sources through tsx (a runtime dependency), so no build step is
// ever required. KEEL_LAUNCHER_TRACE=1 says on stderr which one runs.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

const newestUnder = (dir) => {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestUnder(path) : statSync(path).mtimeMs);
  }
  return newest;
};

const builtAt = () => {
  try {
    return Date.parse(JSON.parse(readFileSync(join(root, 'dist', 'BUILD.json'), 'utf8')).startedAt);
  } catch {
    return Number.NaN;
  }
};

const built = builtAt();
const compiled = Number.isFinite(built) && newestUnder(join(root, 'src')) <= built;
if (process.env.KEEL_LAUNCHER_TRACE === '1') {
  process.stderr.write(compiled ? `keel: running dist/ (built ${new Date(built).toISOString()})\n` : 'keel: running src/ through tsx (no build, or a source is newer than it)\n');
}
if (compiled) {
  await import('../dist/cli/main.js');
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import('../src/cli/main.ts');
}
