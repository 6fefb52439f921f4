/** Every relative link in the documentation points to a file that exists, and to a heading of it when it has an #anchor. */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../', import.meta.url));

const markdownUnder = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return markdownUnder(path);
    return entry.name.endsWith('.md') ? [path] : [];
  });

const files = [join(root, 'README.md'), join(root, 'bench', 'README.md'), ...markdownUnder(join(root, 'docs'))];

/** The lines of `text` outside fenced code blocks, with inline code spans blanked. */
const prose = (text: string): string[] => {
  let fenced = false;
  return text.split('\n').flatMap((line) => {
    if (/^\s*(```|~~~)/.test(line)) {
      fenced = !fenced;
      return [];
    }
    return fenced ? [] : [line.replace(/`[^`]*`/g, (code) => ' '.repeat(code.length))];
  });
};

/** GitHub's anchor for a heading: lowercase, punctuation dropped (but '-' and '_'), spaces to '-'; repeats get -1, -2, … */
const anchorsOf = (path: string): Set<string> => {
  const seen = new Map<string, number>();
  const anchors = new Set<string>();
  let fenced = false;
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    if (/^\s*(```|~~~)/.test(line)) fenced = !fenced;
    const heading = fenced ? null : /^#{1,6} (.*)$/.exec(line);
    if (heading === null) continue;
    const text = (heading[1] ?? '').replace(/\[([^\]]*)\]\([^)]*\)/g, '$1').trim();
    const slug = text
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, '')
      .replace(/\s/g, '-');
    const count = seen.get(slug) ?? 0;
    seen.set(slug, count + 1);
    anchors.add(count === 0 ? slug : `${slug}-${count}`);
  }
  return anchors;
};

const links = files.flatMap((file) =>
  prose(readFileSync(file, 'utf8')).flatMap((line) =>
    [...line.matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)]
      .map((m) => m[1] ?? '')
      .filter((target) => !/^[a-z][a-z0-9+.-]*:/i.test(target))
      .map((target) => ({ file, target })),
  ),
);

describe('relative links in README.md, bench/README.md and docs/', () => {
  it('finds the links', () => {
    expect(links.length).toBeGreaterThan(20);
  });

  for (const { file, target } of links) {
    it(`${relative(root, file)} → ${target}`, () => {
      const [path = '', anchor] = target.split('#');
      const destination = path === '' ? file : resolve(dirname(file), decodeURIComponent(path));
      expect(existsSync(destination), `${destination} does not exist`).toBe(true);
      if (anchor === undefined || anchor === '') return;
      expect(statSync(destination).isFile(), `${destination} is not a file, so it has no #${anchor}`).toBe(true);
      expect([...anchorsOf(destination)], `${relative(root, destination)} has no heading for #${anchor}`).toContain(anchor);
    });
  }
});
