// Option parsers and choice options shared by the commands in src/cli/commands/. A parser given to
// commander throws InvalidArgumentError (commander prints it with the option's name); a flag with a
// fixed set of values is a commander Option with .choices(), which rejects anything else by itself.
import { InvalidArgumentError, Option } from 'commander';
import type { ExtractMode } from '../reward/extract.ts';

export const BAD_POSITIVE_INT = 'expected a positive integer';
export const BAD_INTEGER = 'expected an integer';
export const BAD_PORT = 'port must be an integer from 0 to 65535';

export const DEVICES = ['auto', 'cpu', 'cuda'] as const;
export type DeviceChoice = (typeof DEVICES)[number];
export const DTYPES = ['auto', 'float32', 'bfloat16'] as const;
export type DtypeChoice = (typeof DTYPES)[number];
export const EXTRACT_MODES = ['boxed', 'any'] as const satisfies readonly ExtractMode[];

/** Collects a repeatable option (`--set a=1 --set b=2`) into a list. */
export function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/** A comma-separated list; blank items are dropped. */
export function parseList(text: string): string[] {
  return text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

export function parsePositiveInt(text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`${BAD_POSITIVE_INT}, got ${text}`);
  return n;
}

export function parseInteger(text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n)) throw new InvalidArgumentError(`${BAD_INTEGER}, got ${text}`);
  return n;
}

/** A TCP port; 0 lets the system pick a free one. */
export function parsePort(text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError(`${BAD_PORT}, got ${text}`);
  return n;
}

/** `--device <device>`: auto, cpu or cuda (default auto). */
export function deviceOption(description = 'engine device'): Option {
  return new Option('--device <device>', description).choices(DEVICES).default('auto');
}

/** `--dtype <dtype>`: auto (bf16 on CUDA, fp32 on CPU), float32 or bfloat16 (default auto). */
export function dtypeOption(
  description = 'weights and compute dtype; auto: bf16 on CUDA, fp32 on CPU',
): Option {
  return new Option('--dtype <dtype>', description).choices(DTYPES).default('auto');
}

/** `--extract <mode>`: the verifier's answer extraction, boxed or any. */
export function extractOption(description: string, defaultMode: ExtractMode): Option {
  return new Option('--extract <mode>', description).choices(EXTRACT_MODES).default(defaultMode);
}
