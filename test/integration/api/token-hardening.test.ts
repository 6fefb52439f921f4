/**
 * Issue #10, bearer tokens: a lifetime above TOKEN_MAX_LIFETIME_SECONDS and an `iat` in the future
 * are refused; `keel token` will not mint a longer-lived token; an admin (or `keel token revoke`)
 * revokes every token of a subject issued up to now, and every API process honours it within about
 * a second (each polls the revocation table; the per-request check is a Map lookup).
 */
import { createHmac } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signToken } from '../../../src/api/tokens.js';
import { startKeel } from '../../../src/server/index.js';
import type { KeelServer } from '../../../src/server/index.js';
import { DEVELOPMENT_JWT_SECRET, loadConfig } from '../../../src/platform/config.js';
import { codes, gql, openApiHarness, silentLogger, TEST_JWT_SECRET, tokenFor } from '../../support/api-app.js';
import type { ApiHarness, GraphqlResponse } from '../../support/api-app.js';
import { postGraphql } from '../../support/api-server.js';
import type { HttpGraphqlResponse } from '../../support/api-server.js';
import { createTestDatabase } from '../../support/database.js';
import type { TestDatabase } from '../../support/database.js';
import { spawnKeel } from '../../support/keel-process.js';

const base64url = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');
/** A correctly signed token with whatever claims. */
const signedWith = (claims: Record<string, unknown>, secret = TEST_JWT_SECRET): string => {
  const unsigned = `${base64url({ alg: 'HS256', typ: 'JWT' })}.${base64url(claims)}`;
  return `${unsigned}.${createHmac('sha256', secret).update(unsigned).digest('base64url')}`;
};
const nowSeconds = (): number => Math.floor(Date.now() / 1000);
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

const PING = '{ __typename }';
const REVOKE = 'mutation ($input: RevokeTokensInput!) { revokeTokens(input: $input) { subject revokedBefore } }';

const refusedWith = (response: GraphqlResponse | HttpGraphqlResponse, reason: RegExp): void => {
  expect(response.status).toBe(401);
  expect(response.body.errors?.map((e) => e.extensions?.code)).toEqual(['UNAUTHENTICATED']);
  expect(response.body.errors?.[0]?.message).toMatch(reason);
};
const accepted = (response: GraphqlResponse | HttpGraphqlResponse): void => {
  expect(response.body).toEqual({ data: { __typename: 'Query' } });
  expect(response.status).toBe(200);
};

describe('token lifetime and issue time (TOKEN_MAX_LIFETIME_SECONDS=3600)', () => {
  let h: ApiHarness;
  beforeAll(async () => {
    h = await openApiHarness('api_token_lifetime', { env: { TOKEN_MAX_LIFETIME_SECONDS: '3600' } });
  });
  afterAll(async () => {
    await h.close();
  });

  it('refuses a token whose lifetime (exp - iat) exceeds the limit, naming TOKEN_MAX_LIFETIME_SECONDS; the limit itself is fine', async () => {
    refusedWith(await gql(h.app, PING, undefined, tokenFor('alice', ['customer'], TEST_JWT_SECRET, 3601)), /lifetime.*TOKEN_MAX_LIFETIME_SECONDS/);
    // A year-long admin token minted long ago is refused too, though it has not expired.
    const old = signToken({ subject: 'ada', roles: ['admin'], secret: TEST_JWT_SECRET, expiresInSeconds: 365 * 86_400, now: new Date(Date.now() - 86_400_000) });
    refusedWith(await gql(h.app, PING, undefined, old), /TOKEN_MAX_LIFETIME_SECONDS/);
    accepted(await gql(h.app, PING, undefined, tokenFor('alice', ['customer'], TEST_JWT_SECRET, 3600)));
  });

  it('without iat, counts the lifetime from now (exp - now)', async () => {
    refusedWith(await gql(h.app, PING, undefined, signedWith({ sub: 'alice', roles: ['customer'], exp: nowSeconds() + 7200 })), /TOKEN_MAX_LIFETIME_SECONDS/);
    accepted(await gql(h.app, PING, undefined, signedWith({ sub: 'alice', roles: ['customer'], exp: nowSeconds() + 600 })));
  });

  it('refuses a token issued in the future beyond the allowed clock skew, accepts a few seconds of skew', async () => {
    const now = nowSeconds();
    refusedWith(await gql(h.app, PING, undefined, signedWith({ sub: 'alice', roles: ['customer'], iat: now + 3000, exp: now + 3600 })), /issued in the future/);
    accepted(await gql(h.app, PING, undefined, signedWith({ sub: 'alice', roles: ['customer'], iat: now + 5, exp: now + 600 })));
  });

  it('refuses such tokens on public queries too, as a whole request (HTTP 401)', async () => {
    const response = await gql(h.app, '{ products { edges { node { id } } } }', undefined, tokenFor('alice', ['customer'], TEST_JWT_SECRET, 7200));
    expect(response.status).toBe(401);
    expect(codes(response)).toEqual(['UNAUTHENTICATED']);
    expect(response.body.data).toBeUndefined();
  });
});

describe('revokeTokens in one process', () => {
  let h: ApiHarness;
  const admin = tokenFor('ada', ['admin']);
  beforeAll(async () => {
    h = await openApiHarness('api_token_revoke');
  });
  afterAll(async () => {
    await h.close();
  });

  it('needs the admin role (UNAUTHENTICATED without a token, FORBIDDEN for a customer or the payment provider)', async () => {
    const input = { subject: 'carol' };
    expect(codes(await gql(h.app, REVOKE, { input }))).toEqual(['UNAUTHENTICATED']);
    expect(codes(await gql(h.app, REVOKE, { input }, tokenFor('carol', ['customer'])))).toEqual(['FORBIDDEN']);
    expect(codes(await gql(h.app, REVOKE, { input }, tokenFor('acme-pay', ['payment-provider'])))).toEqual(['FORBIDDEN']);
    // Nothing was revoked: carol's token still works.
    accepted(await gql(h.app, PING, undefined, tokenFor('carol', ['customer'])));
  });

  it('refuses a subject that is not an id with KEEL_ERR_VALIDATION naming input.subject', async () => {
    const response = await gql(h.app, REVOKE, { input: { subject: 'carol@example.com' } }, admin);
    expect(response.body.errors?.[0]?.extensions).toMatchObject({ code: 'KEEL_ERR_VALIDATION', field: 'input.subject' });
  });

  it("refuses the subject's tokens issued up to now (or without iat), accepts one issued after and other subjects' tokens", async () => {
    const old = tokenFor('carol', ['customer']);
    const noIat = signedWith({ sub: 'carol', roles: ['customer'], exp: nowSeconds() + 600 });
    accepted(await gql(h.app, PING, undefined, old));
    const revoked = await gql(h.app, REVOKE, { input: { subject: 'carol' } }, admin);
    expect(revoked.body.errors).toBeUndefined();
    const payload = revoked.body.data?.revokeTokens as { subject: string; revokedBefore: string };
    expect(payload.subject).toBe('carol');
    const revokedBefore = Date.parse(payload.revokedBefore);
    expect(Math.abs(revokedBefore - Date.now())).toBeLessThan(60_000);

    refusedWith(await gql(h.app, PING, undefined, old), /the token was revoked/);
    refusedWith(await gql(h.app, PING, undefined, noIat), /the token was revoked/);
    accepted(await gql(h.app, PING, undefined, tokenFor('dan', ['customer'])));
    // iat has whole seconds: a token issued in a later second than the revocation is accepted.
    const fresh = signToken({ subject: 'carol', roles: ['customer'], secret: TEST_JWT_SECRET, expiresInSeconds: 600, now: new Date(revokedBefore + 1000) });
    accepted(await gql(h.app, PING, undefined, fresh));
  });
});

describe('revocation across API processes on PostgreSQL', () => {
  let database: TestDatabase;
  const servers: KeelServer[] = [];
  const admin = tokenFor('ada', ['admin']);
  beforeAll(async () => {
    database = await createTestDatabase('api_token_revocation');
    const config = loadConfig({ DATABASE_URL: database.url, PORT: '0', LOG_LEVEL: 'silent', NODE_ENV: 'test', JWT_SECRET: TEST_JWT_SECRET });
    // Two API processes on one database, as behind a load balancer.
    for (let i = 0; i < 2; i++) servers.push(await startKeel(config, { role: 'api', handleSignals: false, logger: silentLogger() }));
  });
  afterAll(async () => {
    for (const server of servers) await server.close();
    await database.drop();
  });

  /** A poll interval (1 s) plus slack for a loaded machine: "within about a second". */
  const REVOCATION_DEADLINE_MS = 2500;
  /** Polls until `url` refuses `token`; returns how long that took. */
  const untilRefused = async (url: string, token: string, deadlineMs: number): Promise<number> => {
    const started = Date.now();
    for (;;) {
      const response = await postGraphql(url, PING, undefined, token);
      if (response.status === 401) {
        refusedWith(response, /the token was revoked/);
        return Date.now() - started;
      }
      accepted(response);
      if (Date.now() - started > deadlineMs) throw new Error(`${url} still accepts the token after ${deadlineMs} ms`);
      await sleep(50);
    }
  };

  it('revokeTokens on one process: the other refuses the old token within about a second, a token issued afterwards works', async () => {
    const [a, b] = servers;
    if (a === undefined || b === undefined) throw new Error('two servers expected');
    const old = tokenFor('frank', ['customer']);
    accepted(await postGraphql(b.url, PING, undefined, old));
    const revoked = await postGraphql(a.url, REVOKE, { input: { subject: 'frank' } }, admin);
    expect(revoked.body.errors).toBeUndefined();
    const revokedBefore = Date.parse((revoked.body.data?.revokeTokens as { revokedBefore: string }).revokedBefore);
    // The revoking process honours it at once; the other one at its next poll (every second).
    refusedWith(await postGraphql(a.url, PING, undefined, old), /the token was revoked/);
    await untilRefused(b.url, old, REVOCATION_DEADLINE_MS);
    const fresh = signToken({ subject: 'frank', roles: ['customer'], secret: TEST_JWT_SECRET, expiresInSeconds: 600, now: new Date(revokedBefore + 1000) });
    accepted(await postGraphql(a.url, PING, undefined, fresh));
    accepted(await postGraphql(b.url, PING, undefined, fresh));
  });

  it('keel token revoke --sub: every running API process refuses the old token within about a second', async () => {
    const old = tokenFor('grace', ['customer']);
    for (const server of servers) accepted(await postGraphql(server.url, PING, undefined, old));
    const cli = spawnKeel({ DATABASE_URL: database.url, NODE_ENV: 'test', LOG_LEVEL: 'silent', JWT_SECRET: TEST_JWT_SECRET }, ['token', 'revoke', '--sub', 'grace']);
    expect(await cli.exited(60_000)).toEqual({ code: 0, signal: null });
    expect(cli.stdout()).toMatch(/grace/);
    const finished = Date.now();
    for (const server of servers) await untilRefused(server.url, old, Math.max(0, REVOCATION_DEADLINE_MS - (Date.now() - finished)));
  });
});

describe('keel token --expires-in', () => {
  it('refuses a lifetime above TOKEN_MAX_LIFETIME_SECONDS, naming it', async () => {
    const tooLong = spawnKeel({ NODE_ENV: 'test' }, ['token', '--sub', 'ada', '--role', 'admin', '--expires-in', '2d']);
    expect(await tooLong.exited(60_000)).toEqual({ code: 1, signal: null });
    expect(tooLong.stderr()).toMatch(/--expires-in "2d".*TOKEN_MAX_LIFETIME_SECONDS \(86400 s\)/);
    expect(tooLong.stdout()).toBe('');

    const lowered = spawnKeel({ NODE_ENV: 'test', TOKEN_MAX_LIFETIME_SECONDS: '3600' }, ['token', '--sub', 'ada', '--expires-in', '2h']);
    expect(await lowered.exited(60_000)).toEqual({ code: 1, signal: null });
    expect(lowered.stderr()).toMatch(/TOKEN_MAX_LIFETIME_SECONDS \(3600 s\)/);
  });

  it('mints a token within the limit', async () => {
    const keel = spawnKeel({ NODE_ENV: 'test' }, ['token', '--sub', 'ada', '--role', 'admin', '--expires-in', '1d']);
    expect(await keel.exited(60_000)).toEqual({ code: 0, signal: null });
    const claims: unknown = JSON.parse(Buffer.from(keel.stdout().trim().split('.')[1] ?? '', 'base64url').toString('utf8'));
    expect(claims).toMatchObject({ sub: 'ada', roles: ['admin'] });
    const { iat, exp } = claims as { iat: number; exp: number };
    expect(exp - iat).toBe(86_400);
    // Signed with the development secret (JWT_SECRET unset, not production).
    expect(keel.stdout().trim()).toBe(signToken({ subject: 'ada', roles: ['admin'], secret: DEVELOPMENT_JWT_SECRET, expiresInSeconds: 86_400, now: new Date(iat * 1000) }));
  });
});
