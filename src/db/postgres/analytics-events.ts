// PostgreSQL store of the analytics event tables: verification_events and
// ratelimit_events (raw rows) and their per-minute/hour/day/month rollups. A
// batch is one statement: the events travel as one JSON parameter, the raw
// rows are inserted and each rollup table gets one upsert of the batch grouped
// by bucket and grouping key (`count = count + excluded.count`), so a rollup
// row always equals the raw rows it stands for, whichever node wrote them.
import type { EventStore, RatelimitEvent, RatelimitEventStore, RollupGrain, VerificationEvent, VerificationEventStore } from '../stores/analytics'
import type { PostgresEngine } from './engine'

/** The start (unix ms, UTC) of the bucket holding `time` (a bigint column), in SQL. */
export function bucketSql(time: string, grain: RollupGrain): string {
  if (grain === 'month') return `(extract(epoch FROM date_trunc('month', to_timestamp(${time} / 1000.0) AT TIME ZONE 'UTC')) * 1000)::bigint`
  const size = { minute: 60_000, hour: 3_600_000, day: 86_400_000 }[grain]
  return `(floor(${time} / ${size}.0) * ${size})::bigint`
}

const GRAINS: RollupGrain[] = ['minute', 'hour', 'day', 'month']

interface Spec<E> {
  table: string
  /** `name type` of every field of a batch record. */
  fields: string
  /** Raw columns and the SQL (over the batch record `e`) of each. */
  raw: [column: string, sql: string][]
  rollupTable: (grain: RollupGrain) => string
  /** Grouping columns after workspace_id and time, with their SQL. */
  keys: [column: string, sql: string][]
  /** How a grouping column appears in the rollup tables' unique index (default: as itself). */
  conflictKey?: (column: string) => string
  sums: [column: string, sql: string][]
  record: (event: E) => Record<string, unknown>
}

class PostgresEventStore<E> implements EventStore<E> {
  private readonly insert: string

  constructor(
    private readonly sql: PostgresEngine,
    private readonly spec: Spec<E>,
  ) {
    const batch = `SELECT * FROM json_to_recordset($1::text::json) AS e(${spec.fields})`
    const raw = `INSERT INTO ${spec.table} (${spec.raw.map(([c]) => c).join(', ')}) SELECT ${spec.raw.map(([, s]) => s).join(', ')} FROM batch e`
    const rollups = GRAINS.map((grain) => {
      const table = spec.rollupTable(grain)
      const keys = ['workspace_id', 'time', ...spec.keys.map(([c]) => c)]
      const values = ['e.workspace_id', bucketSql('e.time', grain), ...spec.keys.map(([, s]) => s), ...spec.sums.map(([, s]) => s)]
      const sets = spec.sums.map(([c]) => `${c} = ${table}.${c} + excluded.${c}`).join(', ')
      return `${grain} AS (INSERT INTO ${table} (${[...keys, ...spec.sums.map(([c]) => c)].join(', ')})
        SELECT ${values.join(', ')} FROM batch e GROUP BY ${keys.map((_, i) => i + 1).join(', ')}
        ON CONFLICT (${keys.map((c) => spec.conflictKey?.(c) ?? c).join(', ')}) DO UPDATE SET ${sets})`
    })
    this.insert = `WITH batch AS (${batch}), raw AS (${raw}), ${rollups.join(', ')} SELECT 1`
  }

  async insertMany(events: E[]) {
    if (events.length === 0) return
    await this.sql.run(this.insert, [JSON.stringify(events.map(this.spec.record))])
  }

  deleteBefore(before: number, limit: number) {
    const t = this.spec.table
    return this.sql.run(`DELETE FROM ${t} WHERE id IN (SELECT id FROM ${t} WHERE time < $1 ORDER BY time LIMIT $2)`, [before, limit])
  }
}

export function postgresVerificationEventStore(sql: PostgresEngine): VerificationEventStore {
  return new PostgresEventStore<VerificationEvent>(sql, {
    table: 'verification_events',
    fields:
      'request_id text, time bigint, workspace_id text, api_id text, key_id text, identity_id text, external_id text, outcome text, tags text, rollup_tags text, credits_spent bigint, latency double precision',
    raw: [
      ['request_id', 'e.request_id'],
      ['time', 'e.time'],
      ['workspace_id', 'e.workspace_id'],
      ['api_id', 'e.api_id'],
      ['key_id', 'e.key_id'],
      ['identity_id', 'e.identity_id'],
      ['external_id', 'e.external_id'],
      ['outcome', 'e.outcome'],
      ['tags', 'e.tags'],
      ['credits_spent', 'e.credits_spent'],
      ['latency', 'e.latency'],
    ],
    rollupTable: (grain) => `verification_rollups_per_${grain}`,
    keys: [
      ['key_space_id', "coalesce(e.api_id, '')"],
      ['identity_id', "coalesce(e.identity_id, '')"],
      ['external_id', 'e.external_id'],
      ['key_id', "coalesce(e.key_id, '')"],
      ['outcome', 'e.outcome'],
      ['tags', 'e.rollup_tags'],
    ],
    // Tags are keyed by their hash, tags_key (migration 4: whole, they could pass a B-tree entry's size).
    conflictKey: (column) => (column === 'tags' ? 'tags_key' : column),
    sums: [
      ['count', 'count(*)'],
      ['spent_credits', 'sum(e.credits_spent)'],
    ],
    record: (e) => ({
      request_id: e.requestId,
      time: e.time,
      workspace_id: e.workspaceId,
      api_id: e.apiId,
      key_id: e.keyId,
      identity_id: e.identityId,
      external_id: e.externalId ?? '',
      outcome: e.outcome,
      // No tags is NULL in the raw table (as in SQLite) and '[]' in the rollups and the public columns.
      tags: e.tags.length ? JSON.stringify(e.tags) : null,
      rollup_tags: JSON.stringify(e.tags),
      credits_spent: e.creditsSpent,
      latency: e.latency,
    }),
  })
}

export function postgresRatelimitEventStore(sql: PostgresEngine): RatelimitEventStore {
  return new PostgresEventStore<RatelimitEvent>(sql, {
    table: 'ratelimit_events',
    fields:
      'request_id text, time bigint, workspace_id text, namespace_id text, identifier text, passed boolean, latency double precision, override_id text, "limit" bigint, remaining bigint, reset_at bigint, tokens bigint',
    raw: [
      'request_id',
      'time',
      'workspace_id',
      'namespace_id',
      'identifier',
      'passed',
      'latency',
      'override_id',
      '"limit"',
      'remaining',
      'reset_at',
      'tokens',
    ].map((c): [string, string] => [c, `e.${c}`]),
    rollupTable: (grain) => `ratelimit_rollups_per_${grain}`,
    keys: [
      ['namespace_id', 'e.namespace_id'],
      ['identifier', 'e.identifier'],
    ],
    sums: [
      ['passed', 'count(*) FILTER (WHERE e.passed)'],
      ['total', 'count(*)'],
      ['total_tokens', 'sum(e.tokens)'],
      ['passed_tokens', 'coalesce(sum(e.tokens) FILTER (WHERE e.passed), 0)'],
    ],
    record: (e) => ({
      request_id: e.requestId,
      time: e.time,
      workspace_id: e.workspaceId,
      namespace_id: e.namespaceId,
      identifier: e.identifier,
      passed: e.passed,
      latency: e.latency,
      override_id: e.overrideId ?? '',
      limit: e.limit,
      remaining: e.remaining,
      reset_at: e.resetAt,
      tokens: e.tokens,
    }),
  })
}
