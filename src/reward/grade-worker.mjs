// Piscina worker entry. Plain JS so that it loads in a worker thread whatever way the parent
// registered TypeScript support; it registers tsx itself and then imports the TS modules.
import { register } from 'tsx/esm/api';

register();
const mod = await import('./grade-item.ts');
const customs = new Map();

async function loadCustom(path) {
  if (!customs.has(path)) {
    const { pathToFileURL } = await import('node:url');
    customs.set(
      path,
      import(pathToFileURL(path).href).then(
        (m) => {
          const fn = m.default;
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
