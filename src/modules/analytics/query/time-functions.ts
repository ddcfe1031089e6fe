// The allowed ClickHouse date and time functions over unix milliseconds. Each
// folds to a constant when its argument is one (so `toStartOfHour(now()
// - INTERVAL 12 HOUR)` is a single number and a usable retention bound),
// and otherwise becomes SQL arithmetic over the row's value.
import type { Kind } from './catalog'
import { bind, type Call, type Context, type FunctionDef, fail, type IntervalUnit, type Sql } from './context'
import { FORMAT_SPECIFIERS, type FormatPiece } from './dialect'
import { parseUnit, startOfMs, startOfSql, type Truncation } from './time'
import { asTime, constant, isNumeric } from './values'

const named = (call: Call): string => `${call.name}(${call.values.map((v) => v.name).join(', ')})`

/** The clock, read once per query: `now()` has second precision, `now64()` millisecond. */
const nowMs = (ctx: Context, precision: number): number => (precision >= 3 ? ctx.now : Math.floor(ctx.now / 1000) * 1000)

/** The start of the period holding a time: folded when the time is a constant, else in SQL. */
function truncate(ctx: Context, time: Sql, to: Truncation, kind: Kind, name: string): Sql {
  if (typeof time.value === 'number') return constant(ctx, startOfMs(time.value, to), kind, name)
  if (time.value === null) return { sql: 'NULL', kind, name }
  return { sql: startOfSql(ctx.dialect, time.sql, to), kind, name }
}

/** Only UTC is known: latch stores and answers in UTC. */
function checkTimezone(call: Call, index: number): boolean {
  const zone = call.values[index]
  if (!zone) return true
  if (typeof zone.value === 'string' && zone.value.toUpperCase() === 'UTC') return true
  fail(call.ctx, 'query', `${named(call)}: only the 'UTC' timezone is supported.`)
  return false
}

const truncating = (name: string, to: Truncation | ((call: Call) => Truncation | null), kind: Kind, zoneIndex = 1): FunctionDef => ({
  name,
  min: 1,
  max: zoneIndex + 1,
  impl: (call) => {
    const truncation = typeof to === 'function' ? to(call) : to
    if (truncation === null) return fail(call.ctx, 'query', `${named(call)}: unsupported mode.`)
    if (!checkTimezone(call, zoneIndex)) return { sql: 'NULL', kind, name: named(call) }
    return truncate(call.ctx, asTime(call.ctx, call.values[0]!, named(call)), truncation, kind, named(call))
  },
})

const weekMode = (call: Call): Truncation | null => {
  const mode = call.values[1]
  if (!mode) return 'week'
  return typeof mode.value === 'number' && Number.isInteger(mode.value) && mode.value >= 0 && mode.value <= 9
    ? mode.value % 2 === 1
      ? 'week_monday'
      : 'week'
    : null
}

const DATE_TRUNC: Record<string, Truncation> = {
  second: 'second',
  minute: 'minute',
  hour: 'hour',
  day: 'day',
  week: 'week_monday',
  month: 'month',
  quarter: 'quarter',
  year: 'year',
}

function dateTrunc(call: Call): Sql {
  const unit = call.values[0]!
  const truncation = typeof unit.value === 'string' ? DATE_TRUNC[unit.value.toLowerCase()] : undefined
  if (!truncation) return fail(call.ctx, 'query', `${named(call)}: the unit must be one of ${Object.keys(DATE_TRUNC).join(', ')}.`)
  if (!checkTimezone(call, 2)) return { sql: 'NULL', kind: 'datetime', name: named(call) }
  return truncate(call.ctx, asTime(call.ctx, call.values[1]!, named(call)), truncation, 'datetime', named(call))
}

// formatDateTime specifiers both dialects render as ClickHouse does (./dialect.ts); others are refused.
function formatDateTime(call: Call): Sql {
  const format = call.values[1]!
  if (typeof format.value !== 'string') return fail(call.ctx, 'query', `${named(call)}: the format must be a constant string.`)
  const pieces: FormatPiece[] = []
  for (let i = 0; i < format.value.length; i++) {
    const ch = format.value[i]!
    if (ch !== '%') {
      const last = pieces[pieces.length - 1]
      if (last && 'text' in last) last.text += ch
      else pieces.push({ text: ch })
      continue
    }
    const spec = format.value[++i] ?? ''
    if (FORMAT_SPECIFIERS[spec] === undefined) return fail(call.ctx, 'query', `${named(call)}: the specifier %${spec} is not supported.`)
    pieces.push({ spec })
  }
  if (!checkTimezone(call, 2)) return { sql: 'NULL', kind: 'string', name: named(call) }
  const time = asTime(call.ctx, call.values[0]!, named(call))
  return { sql: call.ctx.dialect.formatDateTime(time.sql, pieces, (value) => bind(call.ctx, value)), kind: 'string', name: named(call) }
}

function precisionOf(call: Call, index: number, fallback: number): number | null {
  const value = call.values[index]
  if (!value) return fallback
  return typeof value.value === 'number' && Number.isInteger(value.value) && value.value >= 0 && value.value <= 9 ? value.value : null
}

const interval = (unit: IntervalUnit): FunctionDef => ({
  name: `toInterval${unit[0]!.toUpperCase()}${unit.slice(1)}`,
  min: 1,
  max: 1,
  impl: (call) => {
    const [count] = call.values as [Sql]
    if (!isNumeric(count.kind)) return fail(call.ctx, 'query', `${named(call)}: expects a number.`)
    return { sql: 'NULL', kind: 'interval', name: named(call), interval: { unit, count } }
  },
})

/** `INTERVAL 7 DAY` / `INTERVAL '7 days'` from the parser's interval node. */
export function intervalOf(ctx: Context, unitText: string, count: Sql): Sql {
  let unit = parseUnit(unitText)
  let amount = count
  if (!unit && typeof count.value === 'string') {
    const [number, word, ...rest] = count.value.trim().split(/\s+/)
    unit = rest.length === 0 && word ? parseUnit(word) : null
    amount = constant(ctx, Number(number), 'int')
  }
  if (!unit || typeof amount.value === 'string' || (typeof amount.value === 'number' && !Number.isFinite(amount.value))) {
    return fail(ctx, 'query', `INTERVAL ${count.name} ${unitText}: unsupported interval.`)
  }
  const name = `toInterval${unit[0]!.toUpperCase()}${unit.slice(1)}(${amount.name})`
  return { sql: 'NULL', kind: 'interval', name, interval: { unit, count: amount } }
}

export const TIME_FUNCTIONS: FunctionDef[] = [
  {
    name: 'now',
    min: 0,
    max: 1,
    impl: (call) =>
      checkTimezone(call, 0) ? constant(call.ctx, nowMs(call.ctx, 0), 'datetime', named(call)) : { sql: 'NULL', kind: 'datetime', name: 'now()' },
  },
  {
    name: 'now64',
    min: 0,
    max: 2,
    impl: (call) => {
      const precision = precisionOf(call, 0, 3)
      if (precision === null || !checkTimezone(call, 1)) return fail(call.ctx, 'query', `${named(call)}: the precision must be 0 to 9.`)
      return constant(call.ctx, nowMs(call.ctx, precision), 'datetime', named(call))
    },
  },
  { name: 'today', min: 0, max: 0, impl: (call) => constant(call.ctx, startOfMs(call.ctx.now, 'day'), 'date', 'today()') },
  truncating('toDate', 'day', 'date'),
  truncating('toDateTime', 'second', 'datetime'),
  {
    name: 'toDateTime64',
    min: 1,
    max: 3,
    impl: (call) => {
      const precision = precisionOf(call, 1, 3)
      if (precision === null || !checkTimezone(call, 2)) return fail(call.ctx, 'query', `${named(call)}: the precision must be 0 to 9.`)
      const time = asTime(call.ctx, call.values[0]!, named(call))
      return precision >= 3 ? { ...time, kind: 'datetime', name: named(call) } : truncate(call.ctx, time, 'second', 'datetime', named(call))
    },
  },
  truncating('toStartOfMinute', 'minute', 'datetime'),
  truncating('toStartOfHour', 'hour', 'datetime'),
  truncating('toStartOfDay', 'day', 'datetime'),
  truncating('toStartOfWeek', weekMode, 'date', 2),
  truncating('toStartOfMonth', 'month', 'date'),
  truncating('toStartOfQuarter', 'quarter', 'date'),
  truncating('toStartOfYear', 'year', 'date'),
  { name: 'date_trunc', min: 2, max: 3, impl: dateTrunc },
  { name: 'formatDateTime', min: 2, max: 3, impl: formatDateTime },
  {
    name: 'fromUnixTimestamp64Milli',
    min: 1,
    max: 2,
    impl: (call) => {
      const [ms] = call.values as [Sql]
      if (!isNumeric(ms.kind) || !checkTimezone(call, 1)) return fail(call.ctx, 'query', `${named(call)}: expects unix milliseconds.`)
      return { ...ms, kind: 'datetime', name: named(call) }
    },
  },
  {
    name: 'toUnixTimestamp64Milli',
    min: 1,
    max: 1,
    impl: (call) => ({ ...asTime(call.ctx, call.values[0]!, named(call)), kind: 'int', name: named(call) }),
  },
  ...(['second', 'minute', 'hour', 'day', 'week', 'month', 'quarter', 'year', 'millisecond', 'microsecond', 'nanosecond'] as const).map(interval),
]
