// Option parsers and checks shared by the commands in src/cli/commands/. A parser given to commander
// throws InvalidArgumentError (commander prints it with the option's name); a check runs in the action.
import { InvalidArgumentError } from 'commander';

export const BAD_POSITIVE_INT = 'expected a positive integer';
export const BAD_INTEGER = 'expected an integer';
export const BAD_PORT = 'port must be an integer from 0 to 65535';
export const BAD_DEVICE = '--device must be auto, cpu or cuda';
export const BAD_DTYPE = '--dtype must be auto, float32 or bfloat16';
export const BAD_EXTRACT = '--extract must be boxed or any';

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

export function checkDevice(device: string): 'auto' | 'cpu' | 'cuda' {
  if (device !== 'auto' && device !== 'cpu' && device !== 'cuda')
    throw new Error(`${BAD_DEVICE}, got ${device}`);
  return device;
}

export function checkDtype(dtype: string): 'auto' | 'float32' | 'bfloat16' {
  if (dtype !== 'auto' && dtype !== 'float32' && dtype !== 'bfloat16')
    throw new Error(`${BAD_DTYPE}, got ${dtype}`);
  return dtype;
}

export function checkExtract(extract: string): 'boxed' | 'any' {
  if (extract !== 'boxed' && extract !== 'any') throw new Error(`${BAD_EXTRACT}, got ${extract}`);
  return extract;
}
