// SQLite store of the analytics event tables: verification_events and
// ratelimit_events (raw rows), and their per-minute/hour/day/month rollups
// (verification_rollups_per_*, ratelimit_rollups_per_*, see ./analytics-rollups.ts).
// `insertMany` writes a batch in one transaction together with its rollups, so
// a rollup row always equals the raw rows it stands for and a per-day query
// reads a few rows per key and day. The analytics writer thread instead writes
// raw rows alone (`insertRaw`) and their rollups a second later, grouped over
// many batches (./owed-rollups.ts keeps that exact across a crash). A batch is
// written in chunks, yielding between them, so that the event loop is never
// held for the whole batch.
import {
  type EventStore,
  ROLLUP_GRAINS,
  type RatelimitEvent,
  type RatelimitEventStore,
  type VerificationEvent,
  type VerificationEventStore,
} from '../stores/analytics'
import { type Row, type RollupSpec, RollupWriter } from './analytics-rollups'
import { nextTurn, type SqliteEngine } from './engine'
import { WorkspacePrune } from './workspace-prune'

/**
 * Events grouped, or statements run, between two turns of the event loop while a batch is
 * written: at a few microseconds a statement, 128 hold the loop about a millisecond, which
 * keeps a request's p99 near the bare server's while a batch of thousands goes in.
 */
const CHUNK = 128

/**
 * Raw rows per INSERT in `insertRaw`: one statement of many rows binds the
 * same values but runs once, about 3.3 µs a verification row here against 5.5
 * for a statement per row, on the analytics writer thread, which shares the
 * machine's cores with the request thread.
 */
const ROWS_PER_INSERT = 32

/** Raw rows plus rollups of one kind of event, and slice-wise deletion of the raw rows. */
export class SqliteEventStore<E> implements EventStore<E> {
  readonly rollups: RollupWriter<E>
  private readonly insert
  private readonly insertRows
  private readonly deleteSlice
  private readonly prune

  constructor(
    private readonly sql: SqliteEngine,
    table: string,
    columns: readonly string[],
    private readonly values: (event: E) => (string | number | null)[],
    rollup: RollupSpec<E>,
  ) {
    const row = `(${columns.map(() => '?').join(', ')})`
    this.insert = sql.prepare(`INSERT INTO ${table} (${columns.join(', ')}) VALUES ${row}`)
    this.insertRows = sql.prepare(`INSERT INTO ${table} (${columns.join(', ')}) VALUES ${Array(ROWS_PER_INSERT).fill(row).join(', ')}`)
    this.prune = new WorkspacePrune(sql, table)
    this.deleteSlice = sql.prepare<unknown, [string, number, number]>(
      `DELETE FROM ${table} WHERE id IN (SELECT id FROM ${table} WHERE workspace_id = ? AND time < ? ORDER BY time LIMIT ?)`,
    )
    this.rollups = new RollupWriter(sql, rollup)
  }

  /**
   * One transaction (joining the caller's) for the raw rows and their rollups,
   * prepared and then run CHUNK at a time with a turn of the event loop
   * between: a batch of 5,000 verifications is some 25,000 statements, and
   * requests that need no database (a cached verification) go on meanwhile;
   * those that do wait for the batch, as for any transaction.
   */
  async insertMany(events: E[]) {
    if (events.length === 0) return
    const rows: Row[] = []
    const groups = this.rollups.group()
    for (let i = 0; i < events.length; i++) {
      if (i > 0 && i % CHUNK === 0) await nextTurn()
      rows.push([this.insert, this.values(events[i]!)])
      groups.add(events[i]!)
    }
    // Not push(...rows): a batch requeued after failures may hold more rows than a call takes arguments.
    for (let g = 0; g < ROLLUP_GRAINS.length; g++) for (const row of groups.rows(g)) rows.push(row)
    await this.sql.transaction(async () => {
      for (let from = 0; from < rows.length; from += CHUNK) {
        if (from > 0) await nextTurn()
        await this.sql.run(() => {
          for (let i = from; i < Math.min(rows.length, from + CHUNK); i++) rows[i]![0].run(...rows[i]![1])
        })
      }
    })
  }

  /**
   * The raw rows of `events` alone, in the caller's transaction (whose rows
   * are the only ones written meanwhile, so their ids are consecutive);
   * returns the first and last id, or null for no events.
   */
  async insertRaw(events: E[]): Promise<[first: number, last: number] | null> {
    if (events.length === 0) return null
    return this.sql.run(() => {
      let last = 0
      let i = 0
      for (; i + ROWS_PER_INSERT <= events.length; i += ROWS_PER_INSERT) {
        const params: (string | number | null)[] = []
        for (let j = i; j < i + ROWS_PER_INSERT; j++) for (const value of this.values(events[j]!)) params.push(value)
        last = Number(this.insertRows.run(...params).lastInsertRowid)
      }
      for (; i < events.length; i++) last = Number(this.insert.run(...this.values(events[i]!)).lastInsertRowid)
      return [last - events.length + 1, last]
    })
  }

  /** Workspace by workspace (./workspace-prune.ts): the raw tables have no index on time alone (migration 16). */
  deleteBefore(before: number, limit: number) {
    return this.prune.slice(limit, (workspace, left) => this.deleteSlice.run(workspace, before, left).changes)
  }
}

export function sqliteVerificationEventStore(sql: SqliteEngine): SqliteEventStore<VerificationEvent> & VerificationEventStore {
  return new SqliteEventStore<VerificationEvent>(
    sql,
    'verification_events',
    ['request_id', 'time', 'workspace_id', 'api_id', 'key_id', 'identity_id', 'external_id', 'outcome', 'tags', 'credits_spent', 'latency'],
    (e) => [
      e.requestId,
      e.time,
      e.workspaceId,
      e.apiId,
      e.keyId,
      e.identityId,
      e.externalId ?? '',
      e.outcome,
      // No tags is NULL in the raw table (as before analytics) and '[]' in the rollups and the public columns.
      e.tags.length ? JSON.stringify(e.tags) : null,
      e.creditsSpent,
      e.latency,
    ],
    {
      raw: 'verification_events',
      table: (grain) => `verification_rollups_per_${grain}`,
      keys: ['key_space_id', 'identity_id', 'external_id', 'key_id', 'outcome', 'tags'],
      sums: ['count', 'spent_credits'],
      time: (e) => e.time,
      group: (e) => [e.workspaceId, e.apiId ?? '', e.identityId ?? '', e.externalId ?? '', e.keyId ?? '', e.outcome, JSON.stringify(e.tags)],
      add: (e) => [1, e.creditsSpent],
      rawKeys: ["coalesce(api_id, '')", "coalesce(identity_id, '')", 'external_id', "coalesce(key_id, '')", 'outcome', "coalesce(tags, '[]')"],
      rawSums: ['count(*)', 'sum(credits_spent)'],
    },
  )
}

export function sqliteRatelimitEventStore(sql: SqliteEngine): SqliteEventStore<RatelimitEvent> & RatelimitEventStore {
  return new SqliteEventStore<RatelimitEvent>(
    sql,
    'ratelimit_events',
    ['request_id', 'time', 'workspace_id', 'namespace_id', 'identifier', 'passed', 'latency', 'override_id', '"limit"', 'remaining', 'reset_at', 'tokens'],
    (e) => [
      e.requestId,
      e.time,
      e.workspaceId,
      e.namespaceId,
      e.identifier,
      e.passed ? 1 : 0,
      e.latency,
      e.overrideId ?? '',
      e.limit,
      e.remaining,
      e.resetAt,
      e.tokens,
    ],
    {
      raw: 'ratelimit_events',
      table: (grain) => `ratelimit_rollups_per_${grain}`,
      keys: ['namespace_id', 'identifier'],
      sums: ['passed', 'total', 'total_tokens', 'passed_tokens'],
      time: (e) => e.time,
      group: (e) => [e.workspaceId, e.namespaceId, e.identifier],
      add: (e) => [e.passed ? 1 : 0, 1, e.tokens, e.passed ? e.tokens : 0],
      rawKeys: ['namespace_id', 'identifier'],
      rawSums: ['sum(passed)', 'count(*)', 'sum(tokens)', 'sum(CASE WHEN passed THEN tokens ELSE 0 END)'],
    },
  )
}
