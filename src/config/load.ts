// Loads a YAML config with line-aware errors, applies `--set a.b=c` overrides (typed by the schema) and
// validates with the zod schema. Every problem is reported as `file:line:col key: message`, or as
// `--set key=value: message` when an override caused it.
import { readFileSync } from 'node:fs';
import {
  type Document,
  isMap,
  isScalar,
  LineCounter,
  parseDocument,
  parse as parseYaml,
  stringify as stringifyYaml,
} from 'yaml';
import type { z } from 'zod';
import { ConfigError } from './errors.ts';
import { applyRecipe } from './recipes.ts';
import { type Config, ConfigSchema } from './schema.ts';

/** One `--set key=value` override: the key as dotted path and the raw text. */
export interface Override {
  path: string[];
  raw: string;
}

export interface LoadOptions {
  /** `key=value` strings as given on the command line. */
  sets?: string[];
}

export function loadConfig(file: string, opts: LoadOptions = {}): Config {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`${file}: cannot read: ${(err as Error).message}`, file);
  }
  return parseConfig(text, file, opts);
}

/** Parses config text (`file` only names it in errors). */
export function parseConfig(text: string, file: string, opts: LoadOptions = {}): Config {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    const problems = doc.errors.map((e) => {
      const pos = lineCounter.linePos(e.pos[0]);
      return `${file}:${pos.line}:${pos.col}: ${e.message.split('\n')[0]}`;
    });
    throw new ConfigError(problems.join('\n'), file, problems);
  }
  if (doc.contents !== null && !isMap(doc.contents)) {
    throw new ConfigError(
      `${file}:1:1: the config must be a mapping of sections (run:, model:, algo:, ...)`,
      file,
    );
  }
  const overrides = (opts.sets ?? []).map((s) => parseOverride(s, file));
  for (const o of overrides) applyOverride(doc, o, file);
  const data = applyRecipe(doc.contents === null ? {} : doc.toJS());
  const result = ConfigSchema.safeParse(data);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) =>
    describeIssue(issue, doc, lineCounter, file, overrides),
  );
  throw new ConfigError(problems.join('\n'), file, problems);
}

/**
 * A config from a plain object (e.g. built by the demo in code), with defaults; problems name `label`
 * and the key. Resolve it with `resolveConfig` like a loaded file.
 */
export function configFromObject(input: unknown, label = 'config', opts: LoadOptions = {}): Config {
  const text = stringifyYaml(input ?? {});
  return parseConfig(text, label, opts);
}

export function parseOverride(text: string, file: string): Override {
  const eq = text.indexOf('=');
  if (eq <= 0)
    throw new ConfigError(`--set ${text}: expected key=value (e.g. --set algo.kl.coef=0.001)`, file);
  const key = text.slice(0, eq).trim();
  const path = key.split('.');
  if (path.some((p) => p === '')) throw new ConfigError(`--set ${text}: bad key "${key}"`, file);
  return { path, raw: text.slice(eq + 1) };
}

function applyOverride(doc: Document, o: Override, file: string): void {
  const leaf = schemaAt(o.path);
  if ('unknown' in leaf) {
    const parent = o.path.slice(0, leaf.unknown).join('.');
    const valid = leaf.valid.join(', ');
    throw new ConfigError(
      `--set ${o.path.join('.')}=${o.raw}: unknown key "${o.path.slice(0, leaf.unknown + 1).join('.')}" ` +
        `(config ${file}); valid keys${parent ? ` in ${parent}` : ''}: ${valid}`,
      file,
    );
  }
  let value: unknown;
  try {
    value = parseYaml(o.raw);
  } catch {
    value = o.raw;
  }
  // A string field keeps the text as written (`--set run.name=007` is the name "007", not 7).
  if (leaf.acceptsString && value !== null && typeof value !== 'object') value = o.raw;
  if (o.raw === '' && leaf.acceptsString) value = '';
  if (isMap(doc.contents) || doc.contents === null) doc.setIn(o.path, doc.createNode(value));
}

type SchemaLeaf = { acceptsString: boolean } | { unknown: number; valid: string[] };

interface ZodInternals {
  _zod: { def: { type: string; innerType?: unknown; shape?: Record<string, unknown>; options?: unknown[] } };
}

function unwrap(schema: unknown): ZodInternals {
  let s = schema as ZodInternals;
  while (s._zod.def.innerType !== undefined) s = s._zod.def.innerType as ZodInternals;
  return s;
}

function acceptsString(schema: unknown): boolean {
  const s = unwrap(schema);
  if (s._zod.def.type === 'string' || s._zod.def.type === 'enum') return true;
  if (s._zod.def.type === 'union') return (s._zod.def.options ?? []).some(acceptsString);
  return false;
}

/** Walks the schema along `path`: the leaf's string-ness, or the index of the first unknown key. */
export function schemaAt(path: string[]): SchemaLeaf {
  let s: unknown = ConfigSchema;
  for (let i = 0; i < path.length; i++) {
    const obj = unwrap(s);
    const shape = obj._zod.def.type === 'object' ? obj._zod.def.shape : undefined;
    if (shape === undefined || !(path[i] in shape)) {
      return { unknown: i, valid: shape ? Object.keys(shape) : [] };
    }
    s = shape[path[i]];
  }
  return { acceptsString: acceptsString(s) };
}

/** Words that say which of several `--set` of the same key failed (the last one wins). */
export const REPEATED_SET = 'the last of';

function repeatedNote(overrides: Override[], o: Override): string {
  const key = o.path.join('.');
  const count = overrides.filter((ov) => ov.path.join('.') === key).length;
  return count > 1 ? ` (${REPEATED_SET} ${count} --set ${key}, the one that applies)` : '';
}

function describeIssue(
  issue: z.core.$ZodIssue,
  doc: Document,
  lineCounter: LineCounter,
  file: string,
  overrides: Override[],
): string {
  const path = issue.path.map(String);
  if (issue.code === 'unrecognized_keys') {
    return issue.keys
      .map((k) => {
        const full = [...path, k];
        const leaf = schemaAt(path);
        const valid = 'unknown' in leaf ? '' : validKeys(path);
        return `${locate(doc, lineCounter, file, full, true)} ${full.join('.')}: unknown key${valid}`;
      })
      .join('\n');
  }
  // the last --set of a key wins (applied in order), so it is the one to name
  const matching = overrides.filter((ov) => startsWith(path, ov.path) || startsWith(ov.path, path));
  const o = matching[matching.length - 1];
  const key = path.join('.') || '(top level)';
  if (o !== undefined) {
    const hint = issue.code === 'invalid_type' && issue.expected === 'array' ? listHint(o) : '';
    const which = repeatedNote(overrides, o);
    return `--set ${o.path.join('.')}=${o.raw}${which}: ${key}: ${issue.message} (config ${file})${hint}`;
  }
  return `${locate(doc, lineCounter, file, path, false)} ${key}: ${issue.message}`;
}

/**
 * How to write a list with `--set`: YAML flow syntax, quoted for the shell (`[`, `<` and `|` are special
 * there). The example reuses the given items (`a,b` → `["a", "b"]`) so it can be pasted back.
 */
export const LIST_SYNTAX = 'a list is written in YAML flow syntax, quoted for the shell';

function listHint(o: Override): string {
  const items = o.raw
    .split(',')
    .map((t) => t.trim())
    .filter((t) => t !== '' && t !== 'null' && t !== '~')
    .map((t) => (/^-?\d+$/.test(t) ? t : JSON.stringify(t.replace(/^(["'])(.*)\1$/, '$2'))));
  return `; ${LIST_SYNTAX}: --set '${o.path.join('.')}=[${items.join(', ')}]'`;
}

function validKeys(path: string[]): string {
  let s: unknown = ConfigSchema;
  for (const p of path) s = unwrap(s)._zod.def.shape?.[p];
  const shape = s === undefined ? undefined : unwrap(s)._zod.def.shape;
  return shape ? ` (valid: ${Object.keys(shape).join(', ')})` : '';
}

function startsWith(a: string[], prefix: string[]): boolean {
  return prefix.length <= a.length && prefix.every((p, i) => a[i] === p);
}

/** `file:line:col` of the node at `path` (its key when `atKey`), else of its closest existing ancestor. */
function locate(
  doc: Document,
  lineCounter: LineCounter,
  file: string,
  path: string[],
  atKey: boolean,
): string {
  for (let n = path.length; n >= 0; n--) {
    const parent = n === 0 ? doc.contents : doc.getIn(path.slice(0, n - 1), true);
    let offset: number | undefined;
    if (n === 0) {
      offset = (doc.contents as { range?: number[] } | null)?.range?.[0];
    } else if (isMap(parent)) {
      const pair = parent.items.find((it) => isScalar(it.key) && String(it.key.value) === path[n - 1]);
      if (pair === undefined) continue;
      const node = (atKey && n === path.length ? pair.key : (pair.value ?? pair.key)) as { range?: number[] };
      offset = node?.range?.[0];
    } else if (parent !== undefined && parent !== null && n === path.length) {
      const node = doc.getIn(path, true) as { range?: number[] } | undefined;
      offset = node?.range?.[0];
    }
    if (offset === undefined) continue;
    const { line, col } = lineCounter.linePos(offset);
    return `${file}:${line}:${col}`;
  }
  return `${file}:`;
}
