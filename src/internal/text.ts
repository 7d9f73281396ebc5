// Fitting printed text to the terminal: the one wrapper every command uses.

const ANSI_COLOUR = /\x1b\[[0-9;]*m/g;

/** Columns a line takes on a terminal (colour codes take none). */
export function visibleLength(line: string): number {
  return [...line.replace(ANSI_COLOUR, '')].length;
}

/**
 * The output's width: the terminal's, else COLUMNS (when piped), else
 * `unknown` (80; a log that tools read line by line passes Infinity).
 */
export function terminalWidth(stream: { isTTY?: boolean; columns?: number } = process.stdout, unknown = 80): number {
  if (stream.isTTY && stream.columns) return stream.columns;
  const columns = Number(process.env.COLUMNS);
  return Number.isInteger(columns) && columns >= 20 ? columns : unknown;
}

export interface WrapOptions {
  /** Columns per line (default: terminalWidth()). */
  width?: number;
  /** What a continuation line starts with (default: the line's own leading spaces). */
  indent?: string;
  /**
   * For system calls: never break inside a "quoted string" (a buffer), a
   * (remark) or a ' = result', unless that alone is too wide.
   */
  keepQuoted?: boolean;
}

/** The words of `text`, each with the spaces before it, split at spaces (see keepQuoted). */
function words(text: string, keepQuoted: boolean): { space: string; word: string }[] {
  const out: { space: string; word: string }[] = [];
  let space = '';
  let word = '';
  let quoted = false;
  let remark = 0; // depth in a parenthesised remark ("(broken pipe)"), not a call's arguments
  let result = false; // past the " = " of a result, which is kept whole
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted && c === '\\') {
      word += c + (text[++i] ?? '');
      continue;
    }
    if (keepQuoted && c === '"') quoted = !quoted;
    if (keepQuoted && !quoted && c === '(' && text[i - 1] === ' ') remark++;
    if (keepQuoted && !quoted && c === ')' && remark > 0) remark--;
    if (keepQuoted && !quoted && text.startsWith(' = ', i)) result = true;
    if (c === ' ' && !quoted && !result && remark === 0) {
      if (word !== '') out.push({ space, word });
      if (word !== '') space = '';
      word = '';
      space += ' ';
    } else {
      word += c;
    }
  }
  if (word !== '') out.push({ space, word });
  return out;
}

/** One line broken at spaces into lines of at most `width` columns. */
export function wrapLine(line: string, options: WrapOptions = {}): string[] {
  const width = options.width ?? terminalWidth();
  if (visibleLength(line) <= width) return [line];
  const lead = /^ */.exec(line)![0];
  const indent = options.indent ?? lead;
  const lines: string[] = [];
  let current = lead;
  let start = true; // `current` holds only its prefix so far
  for (const { space, word } of words(line.slice(lead.length), options.keepQuoted === true)) {
    const joined = start ? current + word : current + space + word;
    if (visibleLength(joined) <= width) {
      current = joined;
      start = false;
      continue;
    }
    if (!start) lines.push(current);
    current = indent + word;
    // A word wider than a whole line is cut where the line ends.
    while (visibleLength(current) > width) {
      const room = Math.max(1, width - indent.length);
      const chars = [...current.slice(indent.length)];
      lines.push(indent + chars.slice(0, room).join(''));
      current = indent + chars.slice(room).join('');
    }
    start = current === indent;
  }
  if (!start || lines.length === 0) lines.push(current);
  return lines;
}

/** Every line of `text` wrapped (see wrapLine); the line breaks it has are kept. */
export function wrap(text: string, options: WrapOptions = {}): string {
  return text
    .split('\n')
    .flatMap((line) => wrapLine(line, options))
    .join('\n');
}

/** Says what a slow command is doing: `what` is a stage ('building the Rust original'). */
export type Progress = (what: string) => void;

/**
 * Progress lines for `command` on `stream` (stderr), only when it is a
 * terminal: a person is waiting there; a pipe or a file gets nothing.
 */
export function progress(
  command: string,
  stream: { isTTY?: boolean; write(text: string): unknown } = process.stderr,
): Progress {
  if (stream.isTTY !== true) return () => {};
  return (what) =>
    void stream.write(`${wrap(`${command}: ${what}...`, { width: terminalWidth(stream), indent: '  ' })}\n`);
}
