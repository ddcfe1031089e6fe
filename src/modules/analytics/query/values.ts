// Constants and ClickHouse's implicit conversions between value kinds: how a
// literal reaches SQLite (numbers re-rendered from their parsed value, strings
// always as bound parameters, so no user text is ever spliced into the SQL),
// and how strings, numbers and times turn into one another.
import type { Kind } from './catalog'
import { bind, type Context, condition, fail, type Sql } from './context'
import { formatTimeMs, parseDateTimeMs } from './time'

export const isTime = (kind: Sql['kind']): boolean => kind === 'datetime' || kind === 'date'
export const isNumeric = (kind: Sql['kind']): boolean => kind === 'int' || kind === 'float' || kind === 'bool'

/** A number as SQL text: only digits, sign, point and exponent, from the parsed value. */
export function numberSql(value: number): string {
  if (!Number.isFinite(value)) throw new Error(`not a finite number: ${value}`)
  const text = String(value)
  return value < 0 ? `(${text})` : text
}

export const quoteString = (text: string): string => `'${text.replaceAll('\\', '\\\\').replaceAll("'", "\\'")}'`

/** A constant: numbers and booleans inline, strings bound. `name` defaults to the literal's text. */
export function constant(ctx: Context, value: string | number | boolean | null, kind: Kind, name?: string): Sql {
  if (value === null) return { sql: 'NULL', kind: 'null', name: name ?? 'NULL', value: null }
  if (typeof value === 'boolean') return { sql: value ? '1' : '0', kind: 'bool', name: name ?? String(value), value }
  if (typeof value === 'number') return { sql: numberSql(value), kind, name: name ?? String(value), value }
  return { sql: bind(ctx, value), kind, name: name ?? quoteString(value), value }
}

export const isConstant = (sql: Sql): boolean => sql.value !== undefined

/** The kind of `a op b` for arithmetic: int when both are whole numbers. */
export const numericKind = (a: Sql, b: Sql): 'int' | 'float' => (a.kind === 'float' || b.kind === 'float' ? 'float' : 'int')

/**
 * A value as a point in time (unix ms), the way ClickHouse reads it where a time
 * is expected: times as they are, numbers as unix seconds, strings parsed.
 */
export function asTime(ctx: Context, value: Sql, what: string): Sql {
  if (isTime(value.kind) || value.kind === 'null') return value
  if (isNumeric(value.kind)) {
    if (typeof value.value === 'number') return constant(ctx, Math.trunc(value.value * 1000), 'datetime', value.name)
    return { sql: ctx.dialect.integer(`(${value.sql}) * 1000`), kind: 'datetime', name: value.name }
  }
  if (value.kind === 'string') {
    if (typeof value.value === 'string') {
      const ms = parseDateTimeMs(value.value)
      return ms === null ? fail(ctx, 'query', `${what}: cannot read ${value.name} as a date or time.`) : constant(ctx, ms, 'datetime', value.name)
    }
    return { sql: ctx.dialect.parseTime(value.sql), kind: 'datetime', name: value.name }
  }
  return fail(ctx, 'query', `${what}: ${value.name} is not a date or time.`)
}

/** ClickHouse's toString(): times as `YYYY-MM-DD hh:mm:ss`, booleans as true/false. */
export function asText(ctx: Context, value: Sql): Sql {
  const name = `toString(${value.name})`
  if (value.kind === 'string' || value.kind === 'null') return value
  if (isTime(value.kind)) {
    const dateOnly = value.kind === 'date'
    if (typeof value.value === 'number') return constant(ctx, formatTimeMs(value.value, dateOnly), 'string', name)
    return { sql: ctx.dialect.formatTime(value.sql, dateOnly), kind: 'string', name }
  }
  if (value.kind === 'bool') return { sql: `(CASE WHEN ${condition(ctx, value)} THEN 'true' ELSE 'false' END)`, kind: 'string', name }
  return { sql: `CAST(${value.sql} AS TEXT)`, kind: 'string', name }
}

/**
 * The two sides of a comparison, made comparable as ClickHouse does: a time
 * against a number compares the time's unix seconds (so the documented
 * `time >= now() - INTERVAL 7 DAY` over the millisecond column keeps every row,
 * as upstream); a time against a string parses the string.
 */
export function comparable(ctx: Context, a: Sql, b: Sql): [string, string] {
  if (isTime(a.kind) && !isTime(b.kind)) {
    if (isNumeric(b.kind)) return [`(${a.sql} / 1000)`, b.sql]
    if (b.kind === 'string') return [a.sql, asTime(ctx, b, 'comparison').sql]
  }
  if (isTime(b.kind) && !isTime(a.kind)) {
    const [right, left] = comparable(ctx, b, a)
    return [left, right]
  }
  return [a.sql, b.sql]
}

/** The neutral value ClickHouse returns for min/max/any over no rows (SQLite gives NULL). */
export function emptyDefault(kind: Sql['kind']): string {
  if (kind === 'string') return "''"
  if (kind === 'array') return "'[]'"
  return '0'
}
