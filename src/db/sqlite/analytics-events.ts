// SQLite store of the analytics event tables: verification_events and
// ratelimit_events (raw rows), and their per-minute/hour/day/month rollups
// (verification_rollups_per_*, ratelimit_rollups_per_*). A batch of events is
// written in one transaction together with its rollups: the batch is grouped
// in memory by bucket and grouping key, and each group is one upsert that adds
// its counts (`count = count + excluded.count`), so a rollup row always equals
// the raw rows it stands for and a per-day query reads a few rows per key and day.
// The batch is written in chunks, yielding between them, so that the event
// loop is never held for the whole batch.
import {
  type EventStore,
  ROLLUP_GRAINS,
  type RatelimitEvent,
  type RatelimitEventStore,
  type RollupGrain,
  type VerificationEvent,
  type VerificationEventStore,
} from '../stores/analytics'
import type { SqliteEngine } from './engine'

const GRAIN_MS: Record<Exclude<RollupGrain, 'month'>, number> = { minute: 60_000, hour: 3_600_000, day: 86_400_000 }

/** The start (unix ms, UTC) of the bucket holding `time`; SQLite's `time / size * size` and 'start of month' agree. */
export function bucketStart(time: number, grain: RollupGrain): number {
  if (grain === 'month') {
    const date = new Date(time)
    return Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), 1)
  }
  return Math.floor(time / GRAIN_MS[grain]) * GRAIN_MS[grain]
}

type Row = [statement: ReturnType<SqliteEngine['prepare']>, params: (string | number | null)[]]

/** How one kind of event rolls up: the columns it is grouped by (after workspace_id and time) and the sums it adds. */
interface RollupSpec<E> {
  table: (grain: RollupGrain) => string
  keys: readonly string[]
  sums: readonly string[]
  time: (event: E) => number
  /** workspace_id, then the values of `keys`. */
  group: (event: E) => (string | number)[]
  /** The event's contributions to `sums`. */
  add: (event: E) => number[]
}

/**
 * The rollup upserts of one batch. Grouping costs one string lookup per event
 * (its grouping key, as JSON) and numeric lookups per grain; groups come out
 * bucket by bucket in the order first seen, which for a batch of recent
 * events is time order, so the upserts land near the end of each table.
 */
class RollupGroups<E> {
  private readonly ids = new Map<string, number>()
  private readonly keys: (string | number)[][] = []
  /** Per grain: bucket → key id → sums. */
  private readonly grains = ROLLUP_GRAINS.map(() => new Map<number, Map<number, number[]>>())

  constructor(private readonly writer: RollupWriter<E>) {}

  add(event: E): void {
    const { spec } = this.writer
    const key = spec.group(event)
    const text = JSON.stringify(key)
    let id = this.ids.get(text)
    if (id === undefined) {
      id = this.keys.push(key) - 1
      this.ids.set(text, id)
    }
    const add = spec.add(event)
    const buckets = this.writer.buckets(spec.time(event))
    for (let g = 0; g < this.grains.length; g++) {
      let groups = this.grains[g]!.get(buckets[g]!)
      if (!groups) {
        groups = new Map()
        this.grains[g]!.set(buckets[g]!, groups)
      }
      const sums = groups.get(id)
      if (!sums) groups.set(id, [...add])
      else for (let j = 0; j < add.length; j++) sums[j]! += add[j]!
    }
  }

  /** Each upsert as a statement and its parameters, grain by grain. */
  rows(): Row[] {
    const rows: Row[] = []
    this.grains.forEach((buckets, g) => {
      for (const [time, groups] of buckets) {
        for (const [id, sums] of groups) {
          const [workspace, ...rest] = this.keys[id]!
          rows.push([this.writer.upserts[g]!, [workspace!, time, ...rest, ...sums]])
        }
      }
    })
    return rows
  }
}

/** The upsert statements of one kind of event's four rollup tables. */
class RollupWriter<E> {
  readonly upserts
  /** Start of the month of a day (ms → ms); the only bucket that needs a Date. */
  private readonly months = new Map<number, number>()

  constructor(
    sql: SqliteEngine,
    readonly spec: RollupSpec<E>,
  ) {
    const conflict = ['workspace_id', 'time', ...spec.keys].join(', ')
    const columns = ['workspace_id', 'time', ...spec.keys, ...spec.sums]
    const sets = spec.sums.map((c) => `${c} = ${c} + excluded.${c}`).join(', ')
    this.upserts = ROLLUP_GRAINS.map((grain) =>
      sql.prepare(
        `INSERT INTO ${spec.table(grain)} (${columns.join(', ')}) VALUES (${columns.map(() => '?').join(', ')}) ON CONFLICT (${conflict}) DO UPDATE SET ${sets}`,
      ),
    )
  }

  /** The buckets (minute, hour, day, month) holding `time`. */
  buckets(time: number): number[] {
    const day = bucketStart(time, 'day')
    let month = this.months.get(day)
    if (month === undefined) {
      if (this.months.size > 1000) this.months.clear()
      month = bucketStart(day, 'month')
      this.months.set(day, month)
    }
    return [bucketStart(time, 'minute'), bucketStart(time, 'hour'), day, month]
  }

  group(): RollupGroups<E> {
    return new RollupGroups(this)
  }
}

/**
 * Events grouped, or statements run, between two turns of the event loop while a batch is
 * written: at a few microseconds a statement, 128 hold the loop about a millisecond, which
 * keeps a request's p99 near the bare server's while a batch of thousands goes in.
 */
const CHUNK = 128

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve))

/** Raw rows plus rollups of one kind of event, and slice-wise deletion of the raw rows. */
class SqliteEventStore<E> implements EventStore<E> {
  private readonly rollups: RollupWriter<E>
  private readonly insert
  private readonly deleteSlice

  constructor(
    private readonly sql: SqliteEngine,
    table: string,
    columns: readonly string[],
    private readonly values: (event: E) => (string | number | null)[],
    rollup: RollupSpec<E>,
  ) {
    this.insert = sql.prepare(`INSERT INTO ${table} (${columns.join(', ')}) VALUES (${columns.map(() => '?').join(', ')})`)
    this.deleteSlice = sql.prepare<unknown, [number, number]>(`DELETE FROM ${table} WHERE id IN (SELECT id FROM ${table} WHERE time < ? ORDER BY time LIMIT ?)`)
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
    for (const row of groups.rows()) rows.push(row)
    await this.sql.transaction(async () => {
      for (let from = 0; from < rows.length; from += CHUNK) {
        if (from > 0) await nextTurn()
        await this.sql.run(() => {
          for (let i = from; i < Math.min(rows.length, from + CHUNK); i++) rows[i]![0].run(...rows[i]![1])
        })
      }
    })
  }

  deleteBefore(before: number, limit: number) {
    return this.sql.run(() => this.deleteSlice.run(before, limit).changes)
  }
}

export function sqliteVerificationEventStore(sql: SqliteEngine): VerificationEventStore {
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
      table: (grain) => `verification_rollups_per_${grain}`,
      keys: ['key_space_id', 'identity_id', 'external_id', 'key_id', 'outcome', 'tags'],
      sums: ['count', 'spent_credits'],
      time: (e) => e.time,
      group: (e) => [e.workspaceId, e.apiId ?? '', e.identityId ?? '', e.externalId ?? '', e.keyId ?? '', e.outcome, JSON.stringify(e.tags)],
      add: (e) => [1, e.creditsSpent],
    },
  )
}

export function sqliteRatelimitEventStore(sql: SqliteEngine): RatelimitEventStore {
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
      table: (grain) => `ratelimit_rollups_per_${grain}`,
      keys: ['namespace_id', 'identifier'],
      sums: ['passed', 'total', 'total_tokens', 'passed_tokens'],
      time: (e) => e.time,
      group: (e) => [e.workspaceId, e.namespaceId, e.identifier],
      add: (e) => [e.passed ? 1 : 0, 1, e.tokens, e.passed ? e.tokens : 0],
    },
  )
}
