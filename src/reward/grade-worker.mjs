// Piscina worker entry. Plain JS so that it loads in a worker thread whatever way the parent
// registered TypeScript support; it registers tsx itself (a custom reward may be a .ts file, in the
// sources or the installed package) and then imports grade-item: .ts beside the sources, .js in dist/.
import { existsSync } from 'node:fs';
import { register as registerCjs } from 'tsx/cjs/api';
import { register } from 'tsx/esm/api';

// Both hooks: a .ts reward outside a `"type": "module"` package is CommonJS to Node, and the ESM hook
// alone hands it to an unhooked require() (a syntax error or a require(esm) cycle).
register();
registerCjs();
const compiled = new URL('./grade-item.js', import.meta.url);
const mod = await import(
  existsSync(compiled) ? compiled.href : new URL('./grade-item.ts', import.meta.url).href
);
const customs = new Map();

/**
 * The reward function of a loaded module. A .ts/.js file outside a `"type": "module"` package loads as
 * CommonJS, where Node hands the ESM `export default` over as `module.exports.default`, one level down.
 */
function defaultFunction(m) {
  if (typeof m.default === 'function') return m.default;
  if (typeof m.default?.default === 'function') return m.default.default;
  return undefined;
}

async function loadCustom(path) {
  if (!customs.has(path)) {
    const { pathToFileURL } = await import('node:url');
    customs.set(
      path,
      import(pathToFileURL(path).href).then(
        (m) => {
          const fn = defaultFunction(m);
          if (typeof fn !== 'function')
            throw new Error(`custom reward ${path}: default export must be a function`);
          return fn;
        },
        (err) => {
          // Re-thrown as a plain Error with the path: a module's load error does not cross threads intact.
          throw new Error(`custom reward ${path}: cannot load: ${err?.message ?? String(err)}`);
        },
      ),
    );
  }
  return customs.get(path);
}

/** task: { items: GradeItem[], settings: GradeSettings, customReward?: string } → Graded[] */
export default async function gradeBatch(task) {
  const custom = task.customReward ? await loadCustom(task.customReward) : null;
  const out = [];
  for (const item of task.items) {
    let graded = mod.gradeItem(item, task.settings);
    if (custom) {
      try {
        graded = await mod.applyCustomReward(item, graded, custom);
      } catch (err) {
        graded = {
          ...graded,
          reason: `error: custom reward: ${err instanceof Error ? err.message : String(err)}`,
        };
      }
    }
    out.push(graded);
  }
  return out;
}
