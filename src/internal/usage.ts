// How the command line reports a mistake in its arguments: the same for
// every command, `view`'s included.
import { parseArgs, type ParseArgsConfig } from 'node:util';

/**
 * A mistake in the command line: one line on stderr, status 2 (as getopt-based
 * tools do). `hint` replaces the pointer to the command's help ('' for none).
 */
export function usageError(message: string, command?: 'view' | 'exercise', hint?: string): never {
  const name = command ? `bidirectional-ipc ${command}` : 'bidirectional-ipc';
  const advice = hint ?? `see ${command ? `${command} --help` : '--help'}`;
  process.stderr.write(`${name}: ${message}${advice ? ` (${advice})` : ''}\n`);
  process.exit(2);
}

/**
 * What a parseArgs error says, in the words of {@link usageError}: its own
 * text ends in advice about positionals (with an unbalanced quote) that does
 * not fit here.
 */
export function parseArgsMistake(error: unknown): string {
  const e = error as Error & { code?: string };
  const option = /'(-[^']*)'/.exec(e.message)?.[1];
  if (e.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') return `unknown option '${option ?? e.message}'`;
  if (e.code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') {
    return `option '${option?.replace(/ <value>.*$/, '')}' needs a value`;
  }
  return e.message.split('\n')[0];
}

/**
 * The command line's options and positionals, as parseArgs reads them; a
 * mistake in them is reported by `report` (a command's usageError) and ends
 * the process.
 */
export function parseCommandLine<const T extends NonNullable<ParseArgsConfig['options']>>(
  args: string[],
  options: T,
  report: (message: string) => never = usageError,
): ReturnType<typeof parseArgs<{ args: string[]; options: T; allowPositionals: true; strict: true }>> {
  // parseArgs takes no value that starts with a dash after a string option:
  // `--iterations -1` is joined so that the command checks -1 as a number.
  const joined: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const name = args[i].startsWith('--') ? args[i].slice(2) : undefined;
    if (name !== undefined && options[name]?.type === 'string' && /^-\d/.test(args[i + 1] ?? '')) {
      joined.push(`${args[i]}=${args[++i]}`);
    } else {
      joined.push(args[i]);
    }
  }
  try {
    return parseArgs({ args: joined, options, allowPositionals: true, strict: true });
  } catch (error) {
    return report(parseArgsMistake(error));
  }
}

/**
 * The value of `--iterations`, a whole number from 1 to `max`; anything else
 * is reported by `report` (a command's usageError).
 */
export function iterationsOption(value: string, max: number, report: (message: string) => never = usageError): number {
  const iterations = Number(value);
  if (!/^\d+$/.test(value) || iterations < 1 || iterations > max) {
    report(`--iterations: a whole number from 1 to ${max}, not '${value}'`);
  }
  return iterations;
}
