/**
 * What a rebuild checks before it swaps (inside the swap transaction, with both generations at the
 * same position, so the counts are comparable):
 * - every table the projection declares exists in the build;
 * - same version as the live tables (a repair rebuild): every table has exactly as many rows as
 *   its live twin — the handler is deterministic, so the same events must give the same rows;
 * - a new version: tables present in both are compared and reported, and a table that has rows
 *   live but none in the build fails (the new code lost them);
 * - the build parked no more events than the live generation has parked.
 * When no projector was running, the build goes to the head while the live tables stay behind:
 * then only the tables' existence is checked and the counts are reported, not compared.
 * `acceptMismatch` (`--accept-count-mismatch`) swaps anyway, e.g. to repair a live model that
 * drifted; a missing table always fails.
 */
import type { Kysely } from 'kysely';
import type { Projection } from '../projection.js';
import { countParkedIn } from './parked-store.js';
import { countRows } from './schemas.js';

export interface TableCheck {
  readonly table: string;
  readonly live: number | null;
  readonly build: number | null;
  readonly ok: boolean;
  readonly problem?: string;
}

export interface Verification {
  readonly tables: readonly TableCheck[];
  readonly liveParked: number;
  readonly buildParked: number;
  readonly problems: readonly string[];
}

export const verifyBuild = async (
  db: Kysely<unknown>,
  projection: Projection,
  live: { readonly schema: string; readonly generation: number; readonly version: number },
  build: { readonly schema: string; readonly generation: number },
  /** False when the live tables are behind the build (no projector ran them): counts are only reported. */
  comparable = true,
): Promise<Verification> => {
  const sameVersion = live.version === projection.version;
  const tables: TableCheck[] = [];
  for (const table of projection.tables) {
    const liveCount = (await countRows(db, live.schema, table)) ?? null;
    const buildCount = (await countRows(db, build.schema, table)) ?? null;
    let problem: string | undefined;
    if (buildCount === null) problem = `table ${table} is missing from the build`;
    else if (!comparable) problem = undefined;
    else if (sameVersion && liveCount !== null && liveCount !== buildCount) problem = `table ${table}: ${buildCount} rows built, ${liveCount} live (same version: they must match)`;
    else if (!sameVersion && liveCount !== null && liveCount > 0 && buildCount === 0) problem = `table ${table}: empty in the build but ${liveCount} rows live`;
    tables.push({ table, live: liveCount, build: buildCount, ok: problem === undefined, ...(problem === undefined ? {} : { problem }) });
  }
  const liveParked = await countParkedIn(db, projection.name, live.generation);
  const buildParked = await countParkedIn(db, projection.name, build.generation);
  const problems = tables.flatMap((t) => (t.problem === undefined ? [] : [t.problem]));
  if (comparable && buildParked > liveParked) problems.push(`the build parked ${buildParked} failing event(s), the live generation ${liveParked}`);
  return { tables, liveParked, buildParked, problems };
};
