/** Without JWT_SECRET (the public development secret signs tokens), the API serves loopback only. */
import { describe, expect, it } from 'vitest';
import { ConfigError, isLoopbackHost, loadConfig, requireSecretBeyondLoopback } from '../../src/platform/config.js';

const errorOf = (env: NodeJS.ProcessEnv): unknown => {
  try {
    requireSecretBeyondLoopback(loadConfig(env));
  } catch (error) {
    return error;
  }
  return undefined;
};

describe('isLoopbackHost', () => {
  it('is true for 127.0.0.0/8, ::1 (in any spelling, IPv4-mapped too) and localhost', () => {
    for (const host of ['127.0.0.1', '127.1.2.3', '127.255.255.255', '::1', '0:0:0:0:0:0:0:1', '[::1]', '::ffff:127.0.0.1', 'localhost', 'LOCALHOST', 'localhost.']) {
      expect(isLoopbackHost(host), host).toBe(true);
    }
  });

  it('is false for every other address and for host names (they may resolve anywhere)', () => {
    for (const host of ['0.0.0.0', '::', '10.0.0.1', '128.0.0.1', '::ffff:10.0.0.1', '192.168.1.10', 'example.com', 'localhost.example.com', 'my-laptop', '127.0.0.1.nip.io', '1270.0.0.1']) {
      expect(isLoopbackHost(host), host).toBe(false);
    }
  });
});

describe('requireSecretBeyondLoopback', () => {
  it('refuses a non-loopback HOST without JWT_SECRET with one line naming HOST and JWT_SECRET', () => {
    for (const host of ['0.0.0.0', '::', '10.1.2.3', 'keel.example.com']) {
      const error = errorOf({ HOST: host, NODE_ENV: 'development' });
      expect(error, host).toBeInstanceOf(ConfigError);
      expect(error).toMatchObject({ code: 'KEEL_ERR_CONFIG', variables: ['HOST', 'JWT_SECRET'] });
      const message = error instanceof Error ? error.message : '';
      expect(message).toContain(`HOST=${JSON.stringify(host)}`);
      expect(message).toContain('JWT_SECRET');
      expect(message).not.toContain('\n');
    }
  });

  it('accepts a loopback HOST without JWT_SECRET, and any HOST with JWT_SECRET', () => {
    for (const host of ['127.0.0.1', '::1', 'localhost']) expect(errorOf({ HOST: host, NODE_ENV: 'test' }), host).toBeUndefined();
    expect(errorOf({ NODE_ENV: 'development' })).toBeUndefined(); // the default HOST is 127.0.0.1
    const secret = 'a-real-secret-0123456789abcdef0123456789';
    for (const host of ['0.0.0.0', '::', 'keel.example.com']) expect(errorOf({ HOST: host, JWT_SECRET: secret }), host).toBeUndefined();
  });

  it('leaves production without JWT_SECRET to requireJwtSecret (its own message), whatever the HOST', () => {
    expect(errorOf({ HOST: '0.0.0.0', NODE_ENV: 'production' })).toBeUndefined();
  });
});
