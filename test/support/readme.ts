/** Reads README.md and returns the body of one `## ` section, for documentation tests. */
import { readFileSync } from 'node:fs';

export const readme = (): string => readFileSync(new URL('../../README.md', import.meta.url), 'utf8');

export const readmeSection = (heading: string): string => {
  const text = readme();
  const start = text.indexOf(`\n## ${heading}\n`);
  if (start < 0) throw new Error(`README.md has no "## ${heading}" section`);
  const end = text.indexOf('\n## ', start + 1);
  return end < 0 ? text.slice(start) : text.slice(start, end);
};

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
