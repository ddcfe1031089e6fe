// The analytics query core's public entry: a ClickHouse-flavoured SELECT from
// a caller of analytics.getVerifications / getRatelimits in, SQLite (or, for
// the PostgreSQL store, PostgreSQL: ./dialect.ts) SQL with bound parameters
// out, or the 400 that Unkey would answer. Checks run in
// Unkey's order: length → syntax → one statement → SELECT only → complexity →
// CTE names → tables → functions → retention; then anything the translation
// cannot express. The caller runs the SQL (`.values()`), bounds its time, and
// hands the rows to decodeRows.
import { isNode, type Node, setBranches } from './ast'
import type { AnalyticsRoute, AnalyticsSources, Kind, TableAlias } from './catalog'
import { bind, type Binding, type Context, Issues, numberParameters, type Scope } from './context'
import { DIALECTS } from './dialect'
import { invalidQuery, invalidQueryType, rowsLimitExceeded } from './errors'
import { type ParseLimits, parseQuery } from './parse'
import { translateStatement } from './select'

export interface QueryLimits extends ParseLimits {
  /** Nodes of the syntax tree (upstream: 2,000). */
  maxNodes: number
  /** Depth of the syntax tree: SQLite refuses expressions nested past 1,000. */
  maxDepth: number
  /** Result columns of all SELECTs together (upstream: 64). */
  maxColumns: number
  /** Result rows; one more means the query is refused with a 422. */
  maxRows: number
}

export const DEFAULT_LIMITS: QueryLimits = {
  maxQueryBytes: 16 * 1024,
  maxTokens: 4000,
  maxNesting: 64,
  maxNodes: 2000,
  maxDepth: 200,
  maxColumns: 64,
  maxRows: 10_000,
}

export interface CompileOptions {
  route: AnalyticsRoute
  workspaceId: string
  /** null: the whole workspace (a wildcard grant); otherwise only these API (namespace) ids; [] sees no rows. */
  resourceIds: readonly string[] | null
  sources: AnalyticsSources
  /** Unix ms, from latch's clock: `now()` and the retention check read it. */
  now: number
  limits?: Partial<QueryLimits>
  /** Per table alias, how far back (ms) a query may ask for rows; absent: no limit. */
  retentionMs?: Partial<Record<TableAlias, number>>
  /** The SQL to write (default 'sqlite'). */
  dialect?: keyof typeof DIALECTS
}

export interface OutputColumn {
  /** The response's key: the alias, or ClickHouse's name for an unaliased expression. */
  name: string
  /** How decodeRows renders the value: 'array' is JSON text to parse, 'bool' 0/1 to true/false. */
  kind: Kind
}

export interface CompiledQuery {
  /** One SELECT; `?N` (SQLite) or `$N` (PostgreSQL) parameters bind params[N-1]. Ends in `LIMIT maxRows + 1`. */
  sql: string
  params: Binding[]
  columns: OutputColumn[]
  maxRows: number
  dialect: keyof typeof DIALECTS
}

/** SELECT only, and nothing that grows past the limits (upstream counts nodes and result columns). */
function checkShape(root: Node, limits: QueryLimits): void {
  if (root.type !== 'select' || root.into?.position) {
    const kind = root.type === 'select' ? 'SELECT ... INTO' : String(root.type ?? 'unknown').toUpperCase()
    throw invalidQueryType(`Only SELECT queries are allowed; this is ${kind}.`)
  }
  let nodes = 0
  let columns = 0
  const stack: [unknown, number][] = [[root, 1]]
  while (stack.length) {
    const [value, depth] = stack.pop()!
    if (Array.isArray(value)) {
      for (const child of value) stack.push([child, depth])
      continue
    }
    if (!isNode(value)) continue
    if (typeof value.type === 'string' || isNode(value.ast)) nodes++
    if (value.type === 'select' && Array.isArray(value.columns)) columns += value.columns.length
    if (nodes > limits.maxNodes) throw invalidQuery(`The query is too complex: more than ${limits.maxNodes} syntax nodes.`)
    if (depth > limits.maxDepth) throw invalidQuery(`The query is too complex: nested more than ${limits.maxDepth} levels deep.`)
    for (const [key, child] of Object.entries(value)) if (key !== 'loc' && typeof child === 'object' && child !== null) stack.push([child, depth + 1])
  }
  if (columns > limits.maxColumns) throw invalidQuery(`The query selects ${columns} columns; at most ${limits.maxColumns} are allowed.`)
}

export function compileAnalyticsQuery(query: string, options: CompileOptions): CompiledQuery {
  const limits = { ...DEFAULT_LIMITS, ...options.limits }
  const root = parseQuery(query, limits)
  checkShape(root, limits)
  const dialect = DIALECTS[options.dialect ?? 'sqlite']
  const ctx: Context = {
    route: options.route,
    dialect,
    sources: options.sources,
    scope: { workspace: '', resources: null },
    retention: options.retentionMs ?? {},
    now: options.now,
    params: [],
    issues: new Issues(),
    counter: 0,
    subquery: (scope: Scope, select: Node) => translateStatement(ctx, scope, select),
  }
  const workspace = bind(ctx, options.workspaceId)
  // A scoped grant that names nothing sees nothing: `IN (NULL)` is never true.
  const resources = options.resourceIds === null ? null : options.resourceIds.length ? options.resourceIds.map((id) => bind(ctx, id)).join(', ') : 'NULL'
  ctx.scope = { workspace, resources }
  if (setBranches(root).some((branch) => !Array.isArray(branch.select.from) || branch.select.from.length === 0)) {
    ctx.issues.report('query', 'The query has no FROM clause: read one of the table aliases.')
  }
  const statement = translateStatement(ctx, null, root)
  ctx.issues.throwFirst()
  const { sql, params } = numberParameters(`SELECT * FROM (${statement.sql}) AS \`q\` LIMIT ${limits.maxRows + 1}`, ctx.params, dialect)
  return {
    sql: dialect.identifiers(sql),
    params,
    columns: statement.columns.map((column) => ({ name: column.name, kind: column.kind })),
    maxRows: limits.maxRows,
    dialect: dialect.name,
  }
}

/** How PostgreSQL sends a numeric (exact decimal: sums, averages, rounding) that latch answers as a number. */
const DECIMAL = /^-?\d+(\.\d+)?(e[+-]?\d+)?$/i

function decodeValue(value: unknown, kind: Kind, dialect: CompiledQuery['dialect']): unknown {
  if (value === null || value === undefined) return null
  if (typeof value === 'bigint') return Number(value)
  if (dialect === 'postgres' && typeof value === 'string' && (kind === 'int' || kind === 'float') && DECIMAL.test(value)) return Number(value)
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) return null
    return kind === 'bool' ? value !== 0 : value
  }
  if (kind === 'array' && typeof value === 'string') {
    try {
      return JSON.parse(value)
    } catch {
      return value
    }
  }
  if (value instanceof Uint8Array) return new TextDecoder().decode(value)
  return value
}

/**
 * Rows from `statement.values(...params)` as the response's objects: arrays
 * parsed from their JSON text, booleans as true/false, NaN and infinities as
 * null. More rows than `maxRows` is the 422 query_rows_limit_exceeded.
 */
export function decodeRows(query: CompiledQuery, rows: readonly (readonly unknown[])[]): Record<string, unknown>[] {
  if (rows.length > query.maxRows) throw rowsLimitExceeded(`The query returns more than ${query.maxRows} rows: aggregate, filter or add a LIMIT.`)
  return rows.map((row) => {
    const out: Record<string, unknown> = {}
    query.columns.forEach((column, i) => {
      out[column.name] = decodeValue(row[i], column.kind, query.dialect)
    })
    return out
  })
}
