// CLI help generated from the schema: one line per key with its type, default and help text.
import { z } from 'zod';
import { ConfigSchema } from './schema.ts';

interface JsonSchema {
  type?: string | string[];
  enum?: unknown[];
  anyOf?: JsonSchema[];
  properties?: Record<string, JsonSchema>;
  items?: JsonSchema | JsonSchema[];
  prefixItems?: JsonSchema[];
  default?: unknown;
  description?: string;
}

export interface ConfigKeyHelp {
  key: string;
  type: string;
  default: unknown;
  help: string;
}

/** Every leaf key of the config with its type, default and help (sections flattened with dots). */
export function configKeys(): ConfigKeyHelp[] {
  const root = z.toJSONSchema(ConfigSchema, { io: 'input', unrepresentable: 'any' }) as JsonSchema;
  const out: ConfigKeyHelp[] = [];
  const walk = (node: JsonSchema, prefix: string) => {
    for (const [name, child] of Object.entries(node.properties ?? {})) {
      const key = prefix ? `${prefix}.${name}` : name;
      const obj = objectOf(child);
      if (obj !== undefined && !isLeafObject(child)) walk(obj, key);
      else out.push({ key, type: typeName(child), default: child.default, help: child.description ?? '' });
    }
  };
  walk(root, '');
  return out;
}

function objectOf(node: JsonSchema): JsonSchema | undefined {
  if (node.properties !== undefined) return node;
  return node.anyOf?.find((n) => n.properties !== undefined);
}

// An object that can be null (kl.adaptive) is one key: it is set as a whole.
function isLeafObject(node: JsonSchema): boolean {
  return node.anyOf?.some((n) => n.type === 'null') === true;
}

function typeName(node: JsonSchema): string {
  if (node.enum !== undefined) return node.enum.map((v) => JSON.stringify(v)).join('|');
  if (node.anyOf !== undefined) return node.anyOf.map(typeName).join('|');
  if (node.prefixItems !== undefined) return `[${node.prefixItems.map(typeName).join(', ')}]`;
  if (node.type === 'array') return `${typeName((node.items as JsonSchema) ?? {})}[]`;
  if (node.properties !== undefined) return `{${Object.keys(node.properties).join(', ')}}`;
  if (Array.isArray(node.type)) return node.type.join('|');
  return node.type ?? 'any';
}

export const UNKNOWN_CONFIG_SECTION = 'no config section or key';

/** Text for `--help-config [section]` (a section such as `algo` or `algo.kl`, or one key); throws for a name
 * that is neither, listing the sections. */
export function formatConfigHelp(section?: string): string {
  const all = configKeys();
  const keys = all.filter(
    (k) => section === undefined || k.key === section || k.key.startsWith(`${section}.`),
  );
  if (keys.length === 0) {
    const sections = [...new Set(all.map((k) => k.key.split('.')[0]))];
    throw new Error(`${UNKNOWN_CONFIG_SECTION} "${section}" (sections: ${sections.join(', ')})`);
  }
  return keys
    .map((k) => {
      const def = k.default === undefined ? '' : ` = ${JSON.stringify(k.default)}`;
      return `${k.key} (${k.type})${def}\n    ${k.help}`;
    })
    .join('\n');
}
