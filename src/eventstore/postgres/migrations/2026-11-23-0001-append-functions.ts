/**
 * The append functions of migration 2026-11-23-0001, frozen with it (a later change of behaviour is
 * a new migration with `create or replace`). One statement per entry: PGlite's extended protocol
 * runs one statement per call.
 *
 * Outcomes come back as a status, never as an exception, because an exception would abort a whole
 * group-commit batch for the sake of one caller's conflict:
 *   ok | duplicate (a re-sent append: the original result) | duplicate_id (r_event_id is stored
 *   elsewhere) | wrong_expected (r_revision = actual, null = no stream) | too_large.
 *
 * A stream's current revision is its last row in (stream_id, revision): there is no streams table
 * to update, because the advisory lock, not a row lock, is what serialises a stream's writers.
 * That saves a row and an index entry per append (about a third of the function's time).
 */

/** Appends to a stream whose lock the caller holds, at positions p_next, p_next + 1, … */
const APPEND_LOCKED = `
create function keel_append_locked(p_stream text, p_expected text, p_events jsonb, p_next bigint,
  out r_status text, out r_revision bigint, out r_position bigint, out r_event_id uuid)
language plpgsql as $$
declare
  v_count bigint := jsonb_array_length(p_events);
  v_stored bigint;
  v_matched bigint;
  v_current bigint;
  v_last_position bigint;
begin
  select (select e.revision from keel_events e where e.event_id = (p_events->0->>'id')::uuid), s.revision, s.position
    into v_stored, v_current, v_last_position
    from (select) x left join lateral (
      select l.revision, l.position from keel_events l where l.stream_id = p_stream order by l.revision desc limit 1
    ) s on true;

  -- Idempotency: a stored first id means a re-send, which must match the original exactly.
  if v_stored is not null then
    select count(*), max(e.position) into v_matched, r_position
      from jsonb_array_elements(p_events) with ordinality as x(ev, i)
      join keel_events e on e.event_id = (x.ev->>'id')::uuid
       and e.stream_id = p_stream and e.revision = v_stored + x.i - 1;
    if v_matched = v_count then
      r_status := 'duplicate';
      r_revision := v_stored + v_count - 1;
      return;
    end if;
    r_status := 'duplicate_id';
    r_position := null;
    select (x.ev->>'id')::uuid into r_event_id
      from jsonb_array_elements(p_events) with ordinality as x(ev, i)
      left join keel_events e on e.event_id = (x.ev->>'id')::uuid
       and e.stream_id = p_stream and e.revision = v_stored + x.i - 1
      where e.event_id is null order by x.i limit 1;
    return;
  end if;

  if (p_expected = 'no_stream' and v_current is not null)
     or (p_expected = 'exists' and v_current is null)
     or (p_expected not in ('any', 'no_stream', 'exists') and v_current is distinct from p_expected::bigint) then
    r_status := 'wrong_expected';
    r_revision := v_current;
    return;
  end if;
  if v_count = 0 then
    r_status := 'ok';
    r_revision := coalesce(v_current, -1);
    r_position := coalesce(v_last_position, -1);
    return;
  end if;
  if (p_next & 1048575) + v_count > 1048576 then
    r_status := 'too_large';
    return;
  end if;
  -- Only reachable when this transaction had its id before it locked the stream (two appends
  -- in one hand-written transaction): refuse rather than put revisions out of position order.
  if v_last_position >= p_next then
    raise exception 'keel: stream "%" was appended by a transaction that began writing later; retry', p_stream
      using errcode = '40001';
  end if;

  insert into keel_events (position, stream_id, revision, event_id, type, schema_version, data, metadata)
  select p_next + x.i - 1, p_stream, coalesce(v_current, -1) + x.i, (x.ev->>'id')::uuid, x.ev->>'type',
         coalesce((x.ev->>'v')::integer, 1), coalesce(x.ev->'data', 'null'::jsonb),
         coalesce(x.ev->'metadata', '{}'::jsonb)
    from jsonb_array_elements(p_events) with ordinality as x(ev, i);
  r_status := 'ok';
  r_revision := coalesce(v_current, -1) + v_count;
  r_position := p_next + v_count - 1;
end
$$`;

/**
 * The next free position of this transaction: (transaction id << 20) + the events it has already
 * appended (one primary-key probe), so several appends in one transaction continue the index.
 * Assigns the transaction id: call it only once the streams are locked.
 */
// plpgsql, not `language sql`: PostgreSQL 15 plans an SQL function afresh on every call, which was
// 60% of a single append's server time; plpgsql caches the plan.
const NEXT_POSITION = `
create function keel_next_position() returns bigint language plpgsql as $$
declare
  base bigint := pg_current_xact_id()::text::bigint << 20;
  last bigint;
begin
  select max(e.position) into last from keel_events e where e.position >= base and e.position < base + 1048576;
  return coalesce(last + 1, base);
end
$$`;

/** One append: lock the stream first (an advisory lock takes no transaction id), then append. */
const APPEND = `
create function keel_append(p_stream text, p_expected text, p_events jsonb,
  out r_status text, out r_revision bigint, out r_position bigint, out r_event_id uuid)
language plpgsql as $$
begin
  perform pg_advisory_xact_lock(1801807212, hashtext(p_stream));
  select * into r_status, r_revision, r_position, r_event_id
    from keel_append_locked(p_stream, p_expected, p_events, keel_next_position());
end
$$`;

/**
 * Group commit: p_appends = [{ s: stream, e: expected, ev: events }]. Every stream is locked
 * first, in key order (so concurrent batches cannot deadlock), before the first write assigns the
 * transaction id; then each append runs independently, in the order given, one row each.
 */
const APPEND_BATCH = `
create function keel_append_batch(p_appends jsonb)
returns table (r_index integer, r_status text, r_revision bigint, r_position bigint, r_event_id uuid)
language plpgsql as $$
declare
  v_key integer;
  v_append record;
  v_next bigint;
begin
  for v_key in select distinct hashtext(a->>'s') from jsonb_array_elements(p_appends) a order by 1 loop
    perform pg_advisory_xact_lock(1801807212, v_key);
  end loop;
  v_next := keel_next_position();
  for v_append in select a.value, a.ordinality from jsonb_array_elements(p_appends) with ordinality a loop
    select v_append.ordinality - 1, r.* into r_index, r_status, r_revision, r_position, r_event_id
      from keel_append_locked(v_append.value->>'s', v_append.value->>'e', v_append.value->'ev', v_next) r;
    if r_status = 'ok' and r_position >= v_next then
      v_next := r_position + 1;
    end if;
    return next;
  end loop;
end
$$`;

export const APPEND_FUNCTIONS: readonly string[] = [APPEND_LOCKED, NEXT_POSITION, APPEND, APPEND_BATCH];
