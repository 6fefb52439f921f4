/** Reads the documentation (README.md, docs/**) and returns a file or one section of it, for documentation tests. */
import { readFileSync } from 'node:fs';

const root = new URL('../../', import.meta.url);

/** The text of a documentation file, by its path from the repository root (e.g. `docs/reference/errors.md`). */
export const doc = (path: string): string => readFileSync(new URL(path, root), 'utf8');

/** The text of README.md. */
export const readme = (): string => doc('README.md');

/** Whether `line` opens a fenced code block (or closes one). */
const isFence = (line: string): boolean => /^\s*(```|~~~)/.test(line);

/**
 * The section of `path` under the heading `heading` (any level, `#` to `######`), from that heading
 * to the next heading of the same or a higher level, outside code blocks. Throws when there is none.
 */
export const docSection = (path: string, heading: string): string => {
  const lines = doc(path).split('\n');
  let fenced = false;
  let start = -1;
  let level = 0;
  for (let i = 0; i < lines.length; i += 1) {
    const line = lines[i] ?? '';
    if (isFence(line)) fenced = !fenced;
    if (fenced) continue;
    const match = /^(#{1,6}) (.*)$/.exec(line);
    if (match === null) continue;
    const depth = (match[1] ?? '').length;
    if (start < 0) {
      if ((match[2] ?? '').trim() === heading) {
        start = i;
        level = depth;
      }
    } else if (depth <= level) {
      return lines.slice(start, i).join('\n');
    }
  }
  if (start < 0) throw new Error(`${path} has no "${heading}" heading`);
  return lines.slice(start).join('\n');
};

/** The section of README.md under `heading`. */
export const readmeSection = (heading: string): string => docSection('README.md', heading);

/** The cells of every Markdown table row in `text` whose first cell is one backticked word. */
export const tableRows = (text: string): Array<{ readonly key: string; readonly cells: readonly string[] }> =>
  text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line.startsWith('|') && line.endsWith('|'))
    .map((line) => line.slice(1, -1).split('|').map((cell) => cell.trim()))
    .flatMap((cells) => {
      const key = /^`([A-Z0-9_]+)`$/.exec(cells[0] ?? '')?.[1];
      return key === undefined ? [] : [{ key, cells }];
    });
