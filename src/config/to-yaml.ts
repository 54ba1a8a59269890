import { stringify } from 'yaml';
import type { Config } from './schema.ts';

/** The resolved config as YAML (runs/<name>/config.yaml): loading it back gives the same config. */
export function configToYaml(cfg: Config, header?: string): string {
  const body = stringify(cfg, { lineWidth: 0 });
  return header
    ? `${header
        .split('\n')
        .map((l) => `# ${l}`)
        .join('\n')}\n${body}`
    : body;
}
