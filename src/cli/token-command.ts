/**
 * `keel token --sub alice --role admin`: prints a bearer token for the API, signed with
 * JWT_SECRET (outside production, the development secret when it is unset). For development,
 * tests and operators; in production tokens come from the identity provider that shares the secret.
 */
import type { Command } from 'commander';
import { ROLES, signToken } from '../api/tokens.js';
import type { Role } from '../api/tokens.js';
import { loadConfig, requireJwtSecret } from '../platform/config.js';
import { exitOnStartupError } from './exit.js';

const DURATION = /^(\d{1,7})([smhd])$/;
const SECONDS = { s: 1, m: 60, h: 3600, d: 86_400 } as const;

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
  readonly sub: string;
  readonly role: readonly string[];
  readonly expiresIn: string;
}

export const registerTokenCommand = (program: Command, env: NodeJS.ProcessEnv): void => {
  program
    .command('token')
    .description('print a bearer token for the GraphQL API, signed with JWT_SECRET')
    .requiredOption('--sub <id>', 'the subject: the customer id, or who the admin is (letters, digits, "-", "_")')
    .option('--role <role...>', `one or more of ${ROLES.join(', ')}`, ['customer'])
    .option('--expires-in <duration>', 'lifetime, e.g. 15m, 12h, 30d', '12h')
    .action((options: TokenOptions, command: Command) => {
      const bad = options.role.filter((role) => !isRole(role));
      if (bad.length > 0) command.error(`error: --role ${bad.join(', ')}: must be one of ${ROLES.join(', ')}`);
      const expiresInSeconds = parseDuration(options.expiresIn);
      if (expiresInSeconds === undefined) command.error(`error: --expires-in "${options.expiresIn}" must look like 90s, 15m, 12h or 30d`);
      if (!/^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/.test(options.sub)) {
        command.error(`error: --sub "${options.sub}" must be 1 to 64 letters, digits, "-" or "_", starting with a letter or digit`);
      }
      const roles = options.role.filter(isRole);
      try {
        const config = loadConfig(env);
        process.stdout.write(`${signToken({ subject: options.sub, roles, secret: requireJwtSecret(config), expiresInSeconds })}\n`);
      } catch (error) {
        exitOnStartupError(error);
      }
    });
};
