// The per-minute/hour/day/month rollups of SQLite's analytics event tables:
// how events are grouped into rollup rows (in memory, bucket by bucket), the
// upsert that adds a group's counts (`count = count + excluded.count`), and
// the same grouping in SQL over a range of stored raw rows, which the owed
// rollups of a crashed writer are rebuilt from (./rollup-debts.ts).
import { ROLLUP_GRAINS, type RollupGrain } from '../stores/analytics'
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

/** The same bucket in SQL, over an integer column of unix ms. */
function bucketSql(time: string, grain: RollupGrain): string {
  if (grain === 'month') return `unixepoch(${time} / 1000, 'unixepoch', 'start of month') * 1000`
  return `${time} / ${GRAIN_MS[grain]} * ${GRAIN_MS[grain]}`
}

export type Row = [statement: ReturnType<SqliteEngine['prepare']>, params: (string | number | null)[]]

/** How one kind of event rolls up: the columns it is grouped by (after workspace_id and time) and the sums it adds. */
export interface RollupSpec<E> {
  /** The raw table, which `rebuild` reads. */
  raw: string
  table: (grain: RollupGrain) => string
  keys: readonly string[]
  sums: readonly string[]
  time: (event: E) => number
  /** workspace_id, then the values of `keys`. */
  group: (event: E) => (string | number)[]
  /** The event's contributions to `sums`. */
  add: (event: E) => number[]
  /** The SQL over one raw row of each of `keys`, then of each of `sums` (aggregated), as `group` and `add` compute them. */
  rawKeys: readonly string[]
  rawSums: readonly string[]
}

type Groups = Map<number, Map<string, [(string | number)[], number[]]>>

/** Adds `sums` to the group `text` of `bucket` in `groups`; true when that group is new. */
function addTo(groups: Groups, bucket: number, text: string, key: (string | number)[], sums: number[]): boolean {
  let inBucket = groups.get(bucket)
  if (!inBucket) {
    inBucket = new Map()
    groups.set(bucket, inBucket)
  }
  const found = inBucket.get(text)
  if (!found) {
    inBucket.set(text, [key, [...sums]])
    return true
  }
  for (let j = 0; j < sums.length; j++) found[1][j]! += sums[j]!
  return false
}

/**
 * Rollup rows of many events, each grain apart (so that one grain can be
 * written and forgotten while the others wait). An event costs one string
 * (the grouping key as JSON) and one lookup, into its minute's groups; those
 * are folded into every grain's rows only when rows are asked for, a lookup
 * per grain per minute group rather than per event (a key verified a dozen
 * times a second costs the four grains a dozen times less). Groups come out
 * bucket by bucket in the order first seen, which for recent events is time
 * order, so the upserts land near the end of each table.
 */
export class RollupGroups<E> {
  /** Events added since the last fold, grouped by minute. */
  private pending: Groups = new Map()
  private pendingCount = 0
  /** Per grain: bucket → grouping key (JSON) → [key values, sums]. */
  private readonly grains: Groups[] = ROLLUP_GRAINS.map(() => new Map())
  private readonly counts = ROLLUP_GRAINS.map(() => 0)

  constructor(private readonly writer: RollupWriter<E>) {}

  add(event: E): void {
    const { spec } = this.writer
    const key = spec.group(event)
    if (addTo(this.pending, bucketStart(spec.time(event), 'minute'), JSON.stringify(key), key, spec.add(event))) this.pendingCount++
  }

  /** At most how many rows grain `g` holds, counting the events added since the last fold (exact once folded). */
  size(g: number): number {
    return this.counts[g]! + this.pendingCount
  }

  /** Grain `g`'s upserts as statements and their parameters. */
  rows(g: number): Row[] {
    this.fold()
    const rows: Row[] = []
    for (const [time, groups] of this.grains[g]!) {
      for (const [[workspace, ...rest], sums] of groups.values()) rows.push([this.writer.upserts[g]!, [workspace!, time, ...rest, ...sums]])
    }
    return rows
  }

  /** Forgets grain `g` as of its last `rows` (written); events added since stay for every grain. */
  clear(g: number): void {
    this.grains[g]!.clear()
    this.counts[g] = 0
  }

  /** Adds the minute groups of the events added since the last fold to every grain. */
  private fold(): void {
    if (this.pendingCount === 0) return
    for (const [minute, groups] of this.pending) {
      const buckets = this.writer.buckets(minute)
      for (const [text, [key, sums]] of groups) {
        for (let g = 0; g < this.grains.length; g++) if (addTo(this.grains[g]!, buckets[g]!, text, key, sums)) this.counts[g]!++
      }
    }
    this.pending = new Map()
    this.pendingCount = 0
  }
}

/** The upsert statements of one kind of event's four rollup tables, and their rebuild from raw rows. */
export class RollupWriter<E> {
  readonly upserts
  /** Per grain: adds the raw rows with ids in [?1, ?2] to the grain's table. */
  readonly rebuilds
  /** Start of the month of a day (ms → ms); the only bucket that needs a Date. */
  private readonly months = new Map<number, number>()

  constructor(
    sql: SqliteEngine,
    readonly spec: RollupSpec<E>,
  ) {
    const conflict = ['workspace_id', 'time', ...spec.keys].join(', ')
    const columns = ['workspace_id', 'time', ...spec.keys, ...spec.sums]
    const sets = spec.sums.map((c) => `${c} = ${c} + excluded.${c}`).join(', ')
    const upsert = `ON CONFLICT (${conflict}) DO UPDATE SET ${sets}`
    this.upserts = ROLLUP_GRAINS.map((grain) =>
      sql.prepare(`INSERT INTO ${spec.table(grain)} (${columns.join(', ')}) VALUES (${columns.map(() => '?').join(', ')}) ${upsert}`),
    )
    const grouped = spec.keys.length + 2
    this.rebuilds = ROLLUP_GRAINS.map((grain) =>
      sql.prepare<unknown, [number, number]>(
        `INSERT INTO ${spec.table(grain)} (${columns.join(', ')})
         SELECT workspace_id, ${bucketSql('time', grain)}, ${[...spec.rawKeys, ...spec.rawSums].join(', ')} FROM ${spec.raw}
         WHERE id BETWEEN ?1 AND ?2 GROUP BY ${Array.from({ length: grouped }, (_, i) => i + 1).join(', ')} ${upsert}`,
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
