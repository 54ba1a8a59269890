// Builds the npm package's dist/: tsc compiles src/ (JS + .d.ts, `.ts` import extensions rewritten to
// `.js` by rewriteRelativeImportExtensions), then the files tsc does not emit are copied beside it.
// Run by `npm run build` and before `npm pack` / `npm publish` (prepack).
import { execFileSync } from 'node:child_process';
import { cpSync, rmSync } from 'node:fs';
import { delimiter, join } from 'node:path';

const root = join(import.meta.dirname, '..');
const dist = join(root, 'dist');
/** Runtime files under src/ that are not TypeScript modules (source → dist, relative to src/). */
const ASSETS = ['reward/grade-worker.mjs', 'dashboard/static', 'run/trackers/wandb_sidecar.py'];

rmSync(dist, { recursive: true, force: true });
const PATH = [join(root, 'node_modules', '.bin'), process.env.PATH].join(delimiter);
execFileSync('tsc', ['-p', join(root, 'tsconfig.build.json')], { stdio: 'inherit', env: { ...process.env, PATH } });
for (const asset of ASSETS) cpSync(join(root, 'src', asset), join(dist, asset), { recursive: true });
