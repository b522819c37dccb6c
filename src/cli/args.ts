import { parseArgs, type ParseArgsConfig } from 'node:util';
import { ConformError } from '../core/errors.ts';

type Options = NonNullable<ParseArgsConfig['options']>;

/** parseArgs with conform's error style: unknown flags become a usage error that names the command's help. */
export function parseCommandArgs<T extends Options>(
  command: string,
  argv: string[],
  options: T,
  allowPositionals = false,
): ReturnType<typeof parseArgs<{ args: string[]; options: T; allowPositionals: boolean; strict: true }>> {
  try {
    return parseArgs({ args: argv, options, allowPositionals, strict: true });
  } catch (error) {
    // No "conform <command>:" here: the CLI entry puts that in front of every error it prints.
    throw new ConformError('USAGE', `${(error as Error).message.split('\n')[0]}. See "conform ${command} --help".`);
  }
}

/** Reads an integer flag, naming the flag and an example when it is not one. */
export function intFlag(name: string, value: string | undefined, fallback: number, min = 0): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) throw new ConformError('USAGE', `--${name} "${value}", expected an integer ≥ ${min}, for example --${name} ${Math.max(min, fallback)}`);
  return n;
}
