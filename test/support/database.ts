/**
 * Per-test-file isolation on the real PostgreSQL: each call creates a fresh database and returns
 * its URL; `drop()` removes it. Needs KEEL_TEST_DATABASE_URL (set by scripts/with-services.mjs,
 * which `npm test` runs first).
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';

export const adminDatabaseUrl = (): string => {
  const url = process.env.KEEL_TEST_DATABASE_URL;
  if (!url) {
    throw new Error('KEEL_TEST_DATABASE_URL is not set: run the tests with `npm test` (it starts PostgreSQL and Redis).');
  }
  return url;
};

export const redisTestUrl = (): string => {
  const url = process.env.KEEL_TEST_REDIS_URL;
  if (!url) throw new Error('KEEL_TEST_REDIS_URL is not set: run the tests with `npm test`.');
  return url;
};

/** A unique Redis key prefix for one test file. */
export const redisTestPrefix = (label: string): string => `keel-test:${label}:${randomBytes(4).toString('hex')}:`;

export interface TestDatabase {
  readonly url: string;
  readonly name: string;
  drop(): Promise<void>;
}

export const createTestDatabase = async (label: string): Promise<TestDatabase> => {
  const admin = adminDatabaseUrl();
  const safe = label.toLowerCase().replace(/[^a-z0-9]+/g, '_').slice(0, 30);
  const name = `keel_t_${safe}_${randomBytes(4).toString('hex')}`;
  const client = new pg.Client({ connectionString: admin });
  await client.connect();
  try {
    await client.query(`CREATE DATABASE "${name}"`);
  } finally {
    await client.end();
  }
  const url = new URL(admin);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    name,
    drop: async () => {
      const c = new pg.Client({ connectionString: admin });
      await c.connect();
      try {
        await c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      } finally {
        await c.end();
      }
    },
  };
};
