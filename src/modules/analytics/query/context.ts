// The state of one translation: bound parameters, generated names, the scopes
// of nested SELECTs, and the problems found so far. Problems are collected, not
// thrown, so that the whole tree is seen and the one reported is the first in
// Unkey's check order (CTE names → tables → functions → retention → the rest),
// whatever their order in the text.
import type { ApiError } from '../../../errors'
import type { Node } from './ast'
import type { AnalyticsRoute, AnalyticsSources, Kind, SourceScope, TableAlias } from './catalog'
import type { Dialect } from './dialect'
import { invalidFunction, invalidQuery, invalidTable, rangeExceedsRetention } from './errors'

export type Binding = string | number | null

export type IntervalUnit = 'nanosecond' | 'microsecond' | 'millisecond' | 'second' | 'minute' | 'hour' | 'day' | 'week' | 'month' | 'quarter' | 'year'

/** A translated expression. `value` is set when it is a constant known now (times in unix ms). */
export interface Sql {
  sql: string
  kind: Kind | 'interval'
  /** ClickHouse's name for the expression when the query gives it no alias. */
  name: string
  value?: string | number | boolean | null
  interval?: { unit: IntervalUnit; count: Sql }
  /** Set on a plain column of a table alias: the retention check looks for `time >= <constant>`. */
  column?: { base: TableAlias | null; name: string }
  /** Set on a condition (comparison, IN, EXISTS, AND, ...): its SQL as a condition, where `sql` is its 0/1 value. */
  cond?: string
}

export interface Column {
  name: string
  /** The column's name in the generated SQL: a catalogue name or a generated `cN`, never the user's text. */
  ref: string
  kind: Kind
}

export interface FromItem {
  /** The name a query uses to qualify its columns (its alias, or the table's name). */
  name: string
  /** The generated SQL alias (`tN`). */
  ref: string
  columns: Column[]
  base: TableAlias | null
}

export interface Cte {
  ref: string
  columns: Column[]
}

export interface Scope {
  parent: Scope | null
  /** CTEs defined on this SELECT (visible here and in everything nested). */
  ctes: Map<string, Cte>
  items: FromItem[]
  /** The SELECT list's aliases: ClickHouse lets every clause (and later select items) use them. */
  aliases: Map<string, Node>
  expanding: Set<string>
  lambdas: Map<string, Sql>
  /** Joins added for arrayJoin() calls, keyed by the array's SQL so a repeated call reuses one. */
  arrayJoins: Map<string, { ref: string; from: string }>
}

export const newScope = (parent: Scope | null): Scope => ({
  parent,
  ctes: new Map(),
  items: [],
  aliases: new Map(),
  expanding: new Set(),
  lambdas: new Map(),
  arrayJoins: new Map(),
})

const ORDER = ['cte', 'table', 'function', 'retention', 'query'] as const
export type IssueCategory = (typeof ORDER)[number]

const MAKERS: Record<IssueCategory, (detail: string) => ApiError> = {
  cte: invalidTable,
  table: invalidTable,
  function: invalidFunction,
  retention: rangeExceedsRetention,
  query: invalidQuery,
}

export class Issues {
  private readonly first = new Map<IssueCategory, ApiError>()

  report(category: IssueCategory, detail: string): void {
    if (!this.first.has(category)) this.first.set(category, MAKERS[category](detail))
  }

  /** Throws the problem that comes first in the check order, if any. */
  throwFirst(): void {
    for (const category of ORDER) {
      const error = this.first.get(category)
      if (error) throw error
    }
  }
}

export interface Context {
  route: AnalyticsRoute
  /** The SQL engine the query is compiled for. */
  dialect: Dialect
  sources: AnalyticsSources
  /** The scope's parameters: the workspace and, under a scoped grant, the visible ids (`NULL` when none). */
  scope: SourceScope
  retention: Partial<Record<TableAlias, number>>
  now: number
  params: Binding[]
  issues: Issues
  counter: number
  /** Translates a nested SELECT (injected by the statement translator, which imports this module's users). */
  subquery: (scope: Scope, select: Node) => { sql: string; columns: Column[] }
}

export type Translate = (node: Node, scope: Scope) => Sql

/**
 * Binds a value: returns a placeholder that `numberParameters` turns into `?N`
 * once the whole SQL is built, so values folded away (a string parsed as a date,
 * a LIKE pattern turned into a GLOB) are never bound.
 */
export function bind(ctx: Context, value: Binding): string {
  ctx.params.push(value)
  return `{{${ctx.params.length - 1}}}`
}

/**
 * Replaces the placeholders still in `sql` by the dialect's `?1`/`$1`, ... in
 * order of first use; returns the values to bind. For PostgreSQL, equal values
 * share one parameter: an expression repeated in the SELECT list and GROUP BY
 * (`formatDateTime(time, '%Y')`) must be the same expression there.
 */
export function numberParameters(sql: string, values: readonly Binding[], dialect: Dialect): { sql: string; params: Binding[] } {
  const numbers = new Map<number, number>()
  const byValue = new Map<string, number>()
  const params: Binding[] = []
  const numbered = sql.replace(/\{\{(\d+)\}\}/g, (_, index: string) => {
    const slot = Number(index)
    let number = numbers.get(slot)
    if (number === undefined) {
      const value = values[slot] ?? null
      const key = `${typeof value}:${String(value)}`
      number = dialect.name === 'postgres' ? byValue.get(key) : undefined
      if (number === undefined) {
        params.push(value)
        number = params.length
        byValue.set(key, number)
      }
      numbers.set(slot, number)
    }
    return dialect.placeholder(number)
  })
  return { sql: numbered, params }
}

/** A condition's value: 0/1 (NULL) in `sql`, the condition itself in `cond`. */
export const truth = (ctx: Context, cond: string, name: string): Sql => ({ sql: ctx.dialect.truth(cond), cond, kind: 'int', name })

/** A value used as a condition (WHERE, ON, CASE WHEN, AND, ...). */
export const condition = (ctx: Context, value: Sql): string => value.cond ?? ctx.dialect.test(value.sql)

export const generated = (ctx: Context, prefix: 't' | 'w' | 'j' | 'a'): string => `${prefix}${ctx.counter++}`

/** Records a problem and stands in for the expression that caused it, so translation goes on. */
export function fail(ctx: Context, category: IssueCategory, detail: string): Sql {
  ctx.issues.report(category, detail)
  return { sql: 'NULL', kind: 'any', name: 'NULL' }
}

/** A backtick-quoted SQL identifier; only generated and catalogue names ever reach it. */
export const quote = (name: string): string => '`' + name.replaceAll('`', '``') + '`'

/** One call of an allowed function: its arguments as nodes and (unless the function reads them itself) translated. */
export interface Call {
  ctx: Context
  scope: Scope
  /** ClickHouse's spelling, for the column name of an unaliased call. */
  name: string
  args: Node[]
  values: Sql[]
  distinct: boolean
  /** ` OVER (...)` when the aggregate is used as a window function, else ''. */
  over: string
  translate: Translate
}

export interface FunctionDef {
  name: string
  min: number
  max: number
  aggregate?: boolean
  distinct?: boolean
  /** The implementation translates its arguments itself (lambdas, arrayJoin). */
  raw?: boolean
  impl: (call: Call) => Sql
}
