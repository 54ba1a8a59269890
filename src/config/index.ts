export { CONFIG_ERROR, ConfigError } from './errors.ts';
export { configKeys, formatConfigHelp } from './help.ts';
export { configFromObject, loadConfig, parseConfig, parseOverride } from './load.ts';
export { checkContextFit, checkRunInputs, type ResolvedConfig, resolveConfig } from './resolve.ts';
export { type Config, type ConfigInput, ConfigSchema } from './schema.ts';
export { configToYaml } from './to-yaml.ts';
