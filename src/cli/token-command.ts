/**
 * `keel token --sub alice --role admin`: prints a bearer token for the API, signed with
 * JWT_SECRET (outside production, the development secret when it is unset), living at most
 * TOKEN_MAX_LIFETIME_SECONDS (the API refuses longer-lived tokens). For development, tests and
 * operators; in production tokens come from the identity provider that shares the secret.
 *
 * `keel token revoke --sub alice`: revokes every token of the subject issued up to now, in the
 * primary database; every API process refuses them within about a second.
 */
import type { Command } from 'commander';
import { ROLES, signToken } from '../api/tokens.js';
import type { Role } from '../api/tokens.js';
import { loadConfig, requireJwtSecret } from '../platform/config.js';
import type { Config } from '../platform/config.js';
import { exitOnStartupError } from './exit.js';

const DURATION = /^(\d{1,7})([smhd])$/;
const SECONDS = { s: 1, m: 60, h: 3600, d: 86_400 } as const;
const SUBJECT = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;

const isRole = (value: string): value is Role => ROLES.some((role) => role === value);

/** `90s`, `15m`, `12h`, `30d` → seconds. */
export const parseDuration = (text: string): number | undefined => {
  const match = DURATION.exec(text);
  const unit = match?.[2];
  if (match?.[1] === undefined || (unit !== 's' && unit !== 'm' && unit !== 'h' && unit !== 'd')) return undefined;
  const seconds = Number(match[1]) * SECONDS[unit];
  return seconds > 0 ? seconds : undefined;
};

interface TokenOptions {
  readonly sub?: string;
  readonly role: readonly string[];
  readonly expiresIn: string;
}

/** The configuration, or exit 1 with its one-line error. */
const configOf = (env: NodeJS.ProcessEnv): Config => {
  try {
    return loadConfig(env);
  } catch (error) {
    return exitOnStartupError(error);
  }
};

const subjectError = (sub: string): string =>
  `error: --sub "${sub}" must be 1 to 64 letters, digits, "-" or "_", starting with a letter or digit`;

export const registerTokenCommand = (program: Command, env: NodeJS.ProcessEnv): void => {
  // `keel token --sub …` mints and `keel token revoke --sub …` revokes: both have a --sub, so the
  // options after a subcommand's name must be that subcommand's (commander's positional options,
  // which must be enabled from the top of the program down; no other command has program options).
  program.enablePositionalOptions();
  const token = program
    .command('token')
    .description('print a bearer token for the GraphQL API, signed with JWT_SECRET (or revoke a subject\'s tokens: token revoke)')
    // Not a commander "required" option: `token revoke` would then demand the parent's --sub too.
    .option('--sub <id>', 'the subject (required): the customer id, or who the admin is (letters, digits, "-", "_")')
    .option('--role <role...>', `one or more of ${ROLES.join(', ')}`, ['customer'])
    .option('--expires-in <duration>', 'lifetime, e.g. 15m, 12h, 1d; at most TOKEN_MAX_LIFETIME_SECONDS', '12h')
    .action((options: TokenOptions, command: Command) => {
      if (options.sub === undefined) command.error("error: required option '--sub <id>' not specified");
      const sub = options.sub;
      const bad = options.role.filter((role) => !isRole(role));
      if (bad.length > 0) command.error(`error: --role ${bad.join(', ')}: must be one of ${ROLES.join(', ')}`);
      const expiresInSeconds = parseDuration(options.expiresIn);
      if (expiresInSeconds === undefined) command.error(`error: --expires-in "${options.expiresIn}" must look like 90s, 15m, 12h or 30d`);
      if (!SUBJECT.test(sub)) command.error(subjectError(sub));
      const roles = options.role.filter(isRole);
      const config = configOf(env);
      // The API would refuse a longer-lived token: say so now rather than hand one out.
      if (expiresInSeconds > config.tokenMaxLifetimeSeconds) {
        command.error(
          `error: --expires-in "${options.expiresIn}" (${expiresInSeconds} s) is longer than TOKEN_MAX_LIFETIME_SECONDS (${config.tokenMaxLifetimeSeconds} s); the API refuses such tokens`,
        );
      }
      try {
        process.stdout.write(`${signToken({ subject: sub, roles, secret: requireJwtSecret(config), expiresInSeconds })}\n`);
      } catch (error) {
        exitOnStartupError(error);
      }
    });

  token
    .command('revoke')
    .description(
      'revoke every token of a subject issued up to now: each API process refuses them within about a second. ' +
        'Writes the primary database (DATABASE_URL); in embedded mode (PGlite) the data directory is locked while a server runs, ' +
        'so there use the revokeTokens mutation instead',
    )
    .requiredOption('--sub <id>', 'the subject whose tokens to revoke')
    .action(async (options: { readonly sub: string }, command: Command) => {
      if (!SUBJECT.test(options.sub)) command.error(subjectError(options.sub));
      try {
        const config = loadConfig(env);
        // Loaded on demand: minting and `--help` need no database driver.
        const { openDatabase } = await import('../platform/database.js');
        const { migrateTokenRevocations, revokeSubjectTokens } = await import('../api/token-revocations.js');
        const handle = await openDatabase({
          dataDir: config.dataDir,
          poolSize: 1,
          ...(config.databaseUrl === undefined ? {} : { databaseUrl: config.databaseUrl }),
        });
        try {
          await migrateTokenRevocations(handle);
          const at = await revokeSubjectTokens(handle.db, options.sub);
          process.stdout.write(`Revoked the tokens of ${options.sub} issued up to ${at.toISOString()}.\n`);
        } finally {
          await handle.close();
        }
      } catch (error) {
        exitOnStartupError(error);
      }
    });
};
