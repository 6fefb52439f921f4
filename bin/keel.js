#!/usr/bin/env node
// The `keel` command: runs the TypeScript sources through tsx (a runtime dependency), so there is
// no build step. `npm run keel -- <command>` does the same through the tsx CLI.
import { register } from 'tsx/esm/api';

register();
await import('../src/cli/main.ts');
