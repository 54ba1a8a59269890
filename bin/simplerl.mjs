#!/usr/bin/env node
// Entry point. From a checkout (src/ present) the TypeScript sources run as they are through tsx, so
// there is no build step while developing; from the installed package the compiled dist/ runs.
import { existsSync } from 'node:fs';

const source = new URL('../src/cli/main.ts', import.meta.url);
let main;
if (existsSync(source)) {
  const { register } = await import('tsx/esm/api');
  register();
  ({ main } = await import(source.href));
} else {
  ({ main } = await import('../dist/cli/main.js'));
}
await main(process.argv);
