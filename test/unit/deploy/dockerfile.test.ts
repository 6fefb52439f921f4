/**
 * The Dockerfile, read as its instructions (no Docker engine runs here, so the image is never
 * built in `npm test`; CI's `image` job builds it): the pinned base, the build and runtime stages,
 * a runtime stage with production dependencies and dist/ only, run as `node` under tini, and what
 * depends on the rest of the repository: the files it copies exist and pass .dockerignore, every
 * package src/ loads at run time is a production dependency (the runtime stage installs no
 * other), and its HEALTHCHECK command, run here against real HTTP servers, tells up from down.
 */
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { isBuiltin } from 'node:module';
import { join, relative } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { VARIABLES } from '../../../src/platform/config.js';
import { ROOT, readText } from './manifests.js';

interface Instruction {
  readonly keyword: string;
  readonly args: string;
}
interface Stage {
  readonly name: string;
  readonly from: string;
  readonly instructions: Instruction[];
}

/** The Dockerfile's instructions: comments dropped, `\` continuations joined. */
const instructions = (text: string): Instruction[] =>
  text
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((line) => {
      const [keyword = '', ...rest] = line.split(/\s+/);
      return { keyword: keyword.toUpperCase(), args: rest.join(' ') };
    });

const all = instructions(readText('Dockerfile'));
const globalArgs = new Map(
  all
    .slice(0, all.findIndex((i) => i.keyword === 'FROM'))
    .filter((i) => i.keyword === 'ARG')
    .map((i) => {
      const [name = '', value = ''] = i.args.split('=');
      return [name, value] as const;
    }),
);
const stages: Stage[] = [];
for (const instruction of all) {
  if (instruction.keyword === 'FROM') {
    const [from = '', as, name] = instruction.args.split(/\s+/);
    stages.push({ name: as?.toUpperCase() === 'AS' ? (name ?? '') : String(stages.length), from, instructions: [] });
  } else {
    stages.at(-1)?.instructions.push(instruction);
  }
}
const stage = (name: string): Stage => {
  const found = stages.find((s) => s.name === name);
  if (found === undefined) throw new Error(`the Dockerfile has no stage ${name}`);
  return found;
};
const runtime = stages.at(-1) ?? stage('runtime');
const argsOf = (s: Stage, keyword: string): string[] => s.instructions.filter((i) => i.keyword === keyword).map((i) => i.args);

/** Keel's default for a variable, from its configuration (src/platform/config.ts). */
const keelDefault = (name: string): string | undefined => Object.entries(VARIABLES).find(([variable]) => variable === name)?.[1].default;

/** Whether .dockerignore keeps `path` (relative to the root) out of the build context: a pattern matches it or a folder above it. */
const ignored = (path: string): boolean => {
  const patterns = readText('.dockerignore')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
  expect(patterns.filter((p) => p.startsWith('!')), 'exceptions are not handled here').toEqual([]);
  // A pattern as a regular expression: `**/` any folders (or none), `*` within one name, `?` one character.
  const regexOf = (pattern: string): RegExp =>
    new RegExp(
      `^${pattern
        .replace(/\/$/, '')
        .split('**/')
        .map((part) => part.replace(/[.+^${}()|[\]]/g, '\\$&').replace(/\*/g, '[^/]*').replace(/\?/g, '[^/]'))
        .join('(?:.*/)?')}$`,
    );
  const regexes = patterns.map(regexOf);
  const parts = path.replace(/\/$/, '').split('/');
  return parts.some((_, i) => regexes.some((regex) => regex.test(parts.slice(0, i + 1).join('/'))));
};

/** The packages a TypeScript file loads at run time: imports and exports that are not type-only, import(), require() and require.resolve(). */
const runtimePackagesOf = (path: string): string[] => {
  const source = ts.createSourceFile(path, readFileSync(path, 'utf8'), ts.ScriptTarget.Latest, false);
  const found: string[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node) && ts.isStringLiteral(node.moduleSpecifier)) {
      const clause = node.importClause;
      const named = clause?.namedBindings;
      const onlyTypes =
        clause !== undefined &&
        (clause.isTypeOnly ||
          (clause.name === undefined && named !== undefined && ts.isNamedImports(named) && named.elements.length > 0 && named.elements.every((e) => e.isTypeOnly)));
      if (!onlyTypes) found.push(node.moduleSpecifier.text);
    } else if (ts.isExportDeclaration(node) && node.moduleSpecifier !== undefined && ts.isStringLiteral(node.moduleSpecifier) && !node.isTypeOnly) {
      found.push(node.moduleSpecifier.text);
    } else if (ts.isCallExpression(node) && node.arguments.length > 0) {
      const [first] = node.arguments;
      const callee = node.expression;
      const loads =
        callee.kind === ts.SyntaxKind.ImportKeyword ||
        (ts.isIdentifier(callee) && callee.text === 'require') ||
        (ts.isPropertyAccessExpression(callee) && callee.name.text === 'resolve');
      if (loads && first !== undefined && ts.isStringLiteral(first)) found.push(first.text);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found
    .filter((specifier) => !specifier.startsWith('.') && !specifier.startsWith('/') && !isBuiltin(specifier))
    .map((specifier) => (specifier.startsWith('@') ? specifier.split('/').slice(0, 2).join('/') : (specifier.split('/')[0] ?? specifier)));
};
const typescriptUnder = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return typescriptUnder(path);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts') ? [path] : [];
  });

/**
 * Runs the image's HEALTHCHECK command here, with `env`; resolves to its exit code. Asynchronous:
 * the servers it probes run in this process.
 */
const healthcheck = (env: Record<string, string>): Promise<number | null> => {
  const command = argsOf(runtime, 'HEALTHCHECK')[0]?.replace(/^.*?CMD\s+/, '') ?? '';
  const argv: unknown = JSON.parse(command);
  if (!Array.isArray(argv) || argv[0] !== 'node') throw new Error(`HEALTHCHECK is not a node command: ${command}`);
  const { PORT: _port, PROJECTOR_PORT: _projectorPort, ...rest } = process.env;
  const child = spawn(process.execPath, argv.slice(1).map(String), { env: { ...rest, ...env }, stdio: 'ignore', timeout: 10_000 });
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', (code) => resolve(code));
  });
};
const serving = async (status: number): Promise<{ server: Server; port: string }> => {
  const server = createServer((request, response) => {
    response.statusCode = request.url === '/health' ? status : 404;
    response.end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: String((server.address() as AddressInfo).port) };
};
/** A port nothing listens on: one a server just let go of. */
const closedPort = async (): Promise<string> => {
  const { server, port } = await serving(200);
  await new Promise((resolve) => server.close(resolve));
  return port;
};

describe('Dockerfile', () => {
  it('builds every stage on the pinned base image node:20-bookworm-slim', () => {
    expect(globalArgs.get('NODE_IMAGE')).toBe('node:20-bookworm-slim');
    expect(stages.map((s) => s.from)).toEqual(stages.map(() => '${NODE_IMAGE}'));
  });

  it('compiles in a build stage with every dependency, and installs production dependencies only for the runtime', () => {
    const build = argsOf(stage('build'), 'RUN');
    expect(build.findIndex((run) => run.startsWith('npm ci'))).toBeLessThan(build.indexOf('npm run build'));
    expect(build.find((run) => run.startsWith('npm ci'))).not.toContain('--omit=dev');
    expect(argsOf(stage('deps'), 'RUN').some((run) => run.startsWith('npm ci --omit=dev'))).toBe(true);
  });

  it('copies into the runtime stage only the production node_modules, the package files and dist/', () => {
    expect(argsOf(runtime, 'COPY')).toEqual(['--from=deps /app/node_modules ./node_modules', 'package.json package-lock.json ./', '--from=build /app/dist ./dist']);
  });

  it('runs as the unprivileged node user, in production mode, with tini as PID 1 starting dist/cli/main.js', () => {
    expect(argsOf(runtime, 'USER')).toEqual(['node']);
    expect(argsOf(runtime, 'ENV').join(' ')).toMatch(/\bNODE_ENV=production\b/);
    expect(JSON.parse(argsOf(runtime, 'ENTRYPOINT')[0] ?? '[]')).toEqual(['/usr/bin/tini', '--', 'node', '/app/dist/cli/main.js']);
    expect(JSON.parse(argsOf(runtime, 'CMD')[0] ?? '[]')).toEqual(['serve', '--role', 'api']);
    expect(argsOf(runtime, 'RUN').join(' ')).toMatch(/apt-get install -y --no-install-recommends tini/);
  });

  it("exposes Keel's default ports: the API's PORT and the projector's PROJECTOR_PORT", () => {
    const exposed = argsOf(runtime, 'EXPOSE').flatMap((args) => args.split(/\s+/));
    expect(exposed).toEqual([keelDefault('PORT'), keelDefault('PROJECTOR_PORT')]);
    const env = argsOf(runtime, 'ENV').join(' ');
    expect(env).toContain(`PORT=${keelDefault('PORT') ?? ''}`);
    expect(env).toContain(`PROJECTOR_PORT=${keelDefault('PROJECTOR_PORT') ?? ''}`);
    expect(env).toMatch(/\bHOST=0\.0\.0\.0\b/);
  });

  it('copies from the build context only files that exist and that .dockerignore lets through', () => {
    const sources = stages
      .flatMap((s) => argsOf(s, 'COPY'))
      .filter((args) => !args.startsWith('--from='))
      .flatMap((args) => args.split(/\s+/).slice(0, -1));
    expect(sources.length).toBeGreaterThan(0);
    for (const source of sources) {
      expect(existsSync(join(ROOT, source)), source).toBe(true);
      expect(ignored(source), `${source} is in .dockerignore`).toBe(false);
    }
    // What the build reads besides src/: the inspector's assets, which scripts/build.mjs copies.
    expect(readText('scripts/build.mjs')).toContain('src/api/inspector/assets');
    expect(ignored('src/api/inspector/assets/inspector.js')).toBe(false);
    // And what must stay out of the image.
    for (const local of ['node_modules', 'dist', '.keel', '.git', '.env', 'test', 'src/api/node_modules']) expect(ignored(local), local).toBe(true);
  });

  it('needs only production dependencies at run time: every package src/ loads is in "dependencies"', () => {
    const manifest: unknown = JSON.parse(readText('package.json'));
    const dependencies = Object.keys((manifest as { dependencies?: Record<string, string> }).dependencies ?? {});
    const loaded = new Map<string, string>();
    for (const file of typescriptUnder(join(ROOT, 'src'))) {
      for (const pkg of runtimePackagesOf(file)) loaded.set(pkg, relative(ROOT, file));
    }
    expect(loaded.size).toBeGreaterThan(10);
    expect([...loaded].filter(([pkg]) => !dependencies.includes(pkg)).map(([pkg, file]) => `${pkg} (${file})`)).toEqual([]);
  });

  it('its HEALTHCHECK succeeds when /health answers 200 on PORT or PROJECTOR_PORT, and fails otherwise', async () => {
    const ok = await serving(200);
    const unavailable = await serving(503);
    const closed = await closedPort();
    try {
      expect(await healthcheck({ PORT: ok.port, PROJECTOR_PORT: closed }), 'the API role').toBe(0);
      expect(await healthcheck({ PORT: closed, PROJECTOR_PORT: ok.port }), 'the projector role').toBe(0);
      expect(await healthcheck({ PORT: unavailable.port, PROJECTOR_PORT: closed }), '/health answering 503').toBe(1);
      expect(await healthcheck({ PORT: closed, PROJECTOR_PORT: closed }), 'nothing listening').toBe(1);
    } finally {
      await Promise.all([ok.server, unavailable.server].map((server) => new Promise((resolve) => server.close(resolve))));
    }
  });
});
