// One process for the whole TypeScript suite: imports every `*.test.ts` under src/ and tests/ so that
// node:test runs them together (a process per file costs ~10x more start-up on 2 cores).
// TEST_FILTER=substring keeps only matching files.
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';

const root = join(import.meta.dirname, '..');
const filter = process.env.TEST_FILTER ?? '';

function* walk(dir: string): Generator<string> {
  for (const name of readdirSync(dir).sort()) {
    if (name === 'node_modules' || name.startsWith('.')) continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) yield* walk(path);
    else if (name.endsWith('.test.ts')) yield path;
  }
}

for (const dir of ['src', 'tests']) {
  for (const file of walk(join(root, dir))) {
    if (filter && !relative(root, file).includes(filter)) continue;
    await import(pathToFileURL(file).href);
  }
}

// Diagnostic (SIMPLERL_TEST_HANDLES=1): after every test, list what still keeps the process alive.
if (process.env.SIMPLERL_TEST_HANDLES === '1') {
  const { after } = await import('node:test');
  after(() => {
    setTimeout(() => {
      const handles = (process as unknown as { _getActiveHandles(): object[] })._getActiveHandles();
      console.error(
        'ACTIVE HANDLES',
        handles.map((h) => h.constructor?.name),
      );
      for (const h of handles)
        if (h.constructor?.name === 'Timeout')
          console.error(String((h as { _onTimeout: unknown })._onTimeout).slice(0, 300));
    }, 5000).unref();
  });
}
