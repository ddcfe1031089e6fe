// The public face of analytics: each route's five table aliases, their columns
// (names and value kinds, as Unkey documents them) and the contract with the
// storage side, which supplies one SQL source per alias. Nothing here knows
// latch's physical tables: a source is injected, and the query core wraps it
// so that only these columns of the caller's rows can ever be read.

/** How a value is represented in SQLite and rendered in the response. */
export type Kind =
  | 'string'
  | 'int'
  | 'float'
  | 'bool' // 0/1 in SQLite, true/false in JSON
  | 'datetime' // unix ms in SQLite and in JSON (ClickHouse DateTime / DateTime64)
  | 'date' // unix ms of 00:00 UTC (ClickHouse Date)
  | 'array' // JSON array text in SQLite, an array in JSON
  | 'null'
  | 'any'

export type AnalyticsRoute = 'verifications' | 'ratelimits'

export const VERIFICATION_TABLES = [
  'key_verifications_v1',
  'key_verifications_per_minute_v1',
  'key_verifications_per_hour_v1',
  'key_verifications_per_day_v1',
  'key_verifications_per_month_v1',
] as const

export const RATELIMIT_TABLES = [
  'ratelimits_v1',
  'ratelimits_per_minute_v1',
  'ratelimits_per_hour_v1',
  'ratelimits_per_day_v1',
  'ratelimits_per_month_v1',
] as const

export type VerificationTable = (typeof VERIFICATION_TABLES)[number]
export type RatelimitTable = (typeof RATELIMIT_TABLES)[number]
export type TableAlias = VerificationTable | RatelimitTable

export interface ColumnDef {
  name: string
  kind: Kind
}

const col = (spec: string): ColumnDef[] =>
  spec
    .trim()
    .split(/\s+/)
    .map((pair) => {
      const [name, kind] = pair.split(':') as [string, Kind]
      return { name, kind }
    })

const VERIFICATION_RAW = col(`request_id:string time:int workspace_id:string key_space_id:string identity_id:string external_id:string
  key_id:string region:string source:string app_id:string outcome:string tags:array spent_credits:int latency:float`)
const verificationRollup = (time: Kind) =>
  col(`time:${time} workspace_id:string key_space_id:string identity_id:string external_id:string key_id:string
  outcome:string source:string app_id:string tags:array count:int spent_credits:int`)
const RATELIMIT_RAW = col(`request_id:string time:int workspace_id:string namespace_id:string identifier:string passed:bool
  latency:float override_id:string limit:int remaining:int reset_at:int tokens:int`)
const ratelimitRollup = (time: Kind) =>
  col(`time:${time} workspace_id:string namespace_id:string identifier:string passed:int total:int total_tokens:int passed_tokens:int`)

/** Columns of every alias, in `SELECT *` order. Rollups leave out the latency states (they need *Merge functions). */
export const TABLE_COLUMNS: Record<TableAlias, readonly ColumnDef[]> = {
  key_verifications_v1: VERIFICATION_RAW,
  key_verifications_per_minute_v1: verificationRollup('datetime'),
  key_verifications_per_hour_v1: verificationRollup('datetime'),
  key_verifications_per_day_v1: verificationRollup('date'),
  key_verifications_per_month_v1: verificationRollup('date'),
  ratelimits_v1: RATELIMIT_RAW,
  ratelimits_per_minute_v1: ratelimitRollup('datetime'),
  ratelimits_per_hour_v1: ratelimitRollup('datetime'),
  ratelimits_per_day_v1: ratelimitRollup('date'),
  ratelimits_per_month_v1: ratelimitRollup('date'),
}

export const ROUTE_TABLES: Record<AnalyticsRoute, readonly TableAlias[]> = {
  verifications: VERIFICATION_TABLES,
  ratelimits: RATELIMIT_TABLES,
}

/** The column a scoped grant restricts: an API (`key_space_id` holds latch's API id) or a ratelimit namespace. */
export const SCOPE_COLUMN: Record<AnalyticsRoute, string> = { verifications: 'key_space_id', ratelimits: 'namespace_id' }

/** Every alias of both routes: a CTE may not take any of these names. */
export const ALL_TABLES: ReadonlySet<string> = new Set<string>([...VERIFICATION_TABLES, ...RATELIMIT_TABLES])

/**
 * What a source may use to narrow its rows early (the query core applies the same
 * filter again around it, so a source that ignores the scope still leaks nothing).
 * Both are opaque parameter references the core binds: embed them verbatim,
 * e.g. `WHERE workspace_id = ${scope.workspace}`.
 */
export interface SourceScope {
  workspace: string
  /** A list for `IN (...)` of the visible API (or namespace) ids (`NULL` when the grant names none), or null when it covers the whole workspace. */
  resources: string | null
}

/**
 * The storage side's SQL for one alias: a SELECT (no trailing semicolon, no
 * parameters of its own) whose result has at least the alias's columns, named
 * exactly as above: `time` in unix ms, `tags` as JSON array text, booleans 0/1,
 * missing ids as '' (never NULL).
 */
export type AnalyticsSource = (scope: SourceScope) => string

export type AnalyticsSources<T extends TableAlias = TableAlias> = Record<T, AnalyticsSource>
