/** Consistency tokens and bearer tokens: the formats the API hands out and accepts. */
import { describe, expect, it } from 'vitest';
import { decodeConsistencyToken, encodeConsistencyToken } from '../../../src/api/consistency-token.js';
import { signToken } from '../../../src/api/tokens.js';
import { parseDuration } from '../../../src/cli/token-command.js';
import { ValidationError } from '../../../src/platform/errors.js';

describe('consistency tokens', () => {
  it('round-trip any position, up to 2^64 - 1', () => {
    for (const position of [0n, 1n, 12_345_678_901_234n, 2n ** 63n, 2n ** 64n - 1n]) {
      const token = encodeConsistencyToken(position);
      expect(token).toMatch(/^v1\.[A-Za-z0-9_-]+$/);
      expect(decodeConsistencyToken(token)).toBe(position);
    }
  });

  it('refuse anything else with a validation error naming the field', () => {
    const bad = ['', '42', 'v2.NDI', 'v1.', 'v1.!!', `v1.${Buffer.from('-1').toString('base64url')}`, `v1.${Buffer.from('01').toString('base64url')}`,
      `v1.${Buffer.from('1e3').toString('base64url')}`, `v1.${Buffer.from((2n ** 64n).toString()).toString('base64url')}`, `v1.${'A'.repeat(100)}`];
    for (const token of bad) {
      let error: unknown;
      try {
        decodeConsistencyToken(token, 'after');
      } catch (e) {
        error = e;
      }
      expect(error, token).toBeInstanceOf(ValidationError);
      expect(error).toMatchObject({ code: 'KEEL_ERR_VALIDATION', field: 'after' });
    }
  });
});

describe('bearer tokens', () => {
  it('are HS256 JWTs with sub, roles, iat and exp', () => {
    const token = signToken({ subject: 'alice', roles: ['customer'], secret: 's'.repeat(32), expiresInSeconds: 60, now: new Date('2026-11-30T00:00:00Z') });
    const [header, claims] = token.split('.').slice(0, 2).map((part): unknown => JSON.parse(Buffer.from(part, 'base64url').toString('utf8')));
    expect(header).toEqual({ alg: 'HS256', typ: 'JWT' });
    expect(claims).toEqual({ sub: 'alice', roles: ['customer'], iat: 1795996800, exp: 1795996860 });
  });

  it('refuse a subject that is not an id', () => {
    expect(() => signToken({ subject: 'alice@example.com', roles: ['customer'], secret: 's'.repeat(32), expiresInSeconds: 60 })).toThrow();
  });

  it('keel token --expires-in takes s, m, h and d', () => {
    expect(parseDuration('90s')).toBe(90);
    expect(parseDuration('15m')).toBe(900);
    expect(parseDuration('12h')).toBe(43_200);
    expect(parseDuration('30d')).toBe(2_592_000);
    for (const bad of ['0s', '12', 'h', '1.5h', '-1h', '10w']) expect(parseDuration(bad), bad).toBeUndefined();
  });
});
