// ClickHouse time arithmetic over unix milliseconds, twice: as SQL (in the
// query's dialect) for values read from rows, and in JavaScript for constants (`now() - INTERVAL 7
// DAY`), which are folded into one bound parameter and give the retention
// check its lower bound. All times are UTC, as in Unkey's ClickHouse.
import type { IntervalUnit } from './context'
import type { Dialect } from './dialect'

const SECOND = 1000
export const DAY = 86_400_000

const FIXED_MS: Partial<Record<IntervalUnit, number>> = {
  nanosecond: 1e-6,
  microsecond: 1e-3,
  millisecond: 1,
  second: SECOND,
  minute: 60 * SECOND,
  hour: 3600 * SECOND,
  day: DAY,
  week: 7 * DAY,
}
const MONTHS: Partial<Record<IntervalUnit, number>> = { month: 1, quarter: 3, year: 12 }

const UNITS: Record<string, IntervalUnit> = {}
for (const unit of [...Object.keys(FIXED_MS), ...Object.keys(MONTHS)] as IntervalUnit[]) {
  UNITS[unit] = unit
  UNITS[`${unit}s`] = unit
}

/** `day`, `DAYS`, `Day` → 'day'; null for anything ClickHouse does not name. */
export const parseUnit = (text: string): IntervalUnit | null => UNITS[text.toLowerCase()] ?? null

export const fixedMs = (unit: IntervalUnit): number | undefined => FIXED_MS[unit]
export const monthsOf = (unit: IntervalUnit): number | undefined => MONTHS[unit]

/** Calendar months are added the ClickHouse way: Jan 31 + 1 month is the last day of February. */
export function addMonthsMs(ms: number, months: number): number {
  const date = new Date(ms)
  const day = date.getUTCDate()
  date.setUTCDate(1)
  date.setUTCMonth(date.getUTCMonth() + months)
  const last = new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth() + 1, 0)).getUTCDate()
  date.setUTCDate(Math.min(day, last))
  return date.getTime()
}

export function addIntervalMs(ms: number, unit: IntervalUnit, count: number): number {
  const months = MONTHS[unit]
  return months === undefined ? ms + Math.trunc(count * FIXED_MS[unit]!) : addMonthsMs(ms, count * months)
}

export type Truncation = 'second' | 'minute' | 'hour' | 'day' | 'week' | 'week_monday' | 'month' | 'quarter' | 'year'

/** The start of the period holding `ms` (weeks start on Sunday, or Monday for mode 1). */
export function startOfMs(ms: number, to: Truncation): number {
  const fixed = to === 'second' || to === 'minute' || to === 'hour' || to === 'day' ? FIXED_MS[to]! : null
  if (fixed !== null) return Math.floor(ms / fixed) * fixed
  if (to === 'week' || to === 'week_monday') {
    const day = Math.floor(ms / DAY)
    return (day - ((((day + (to === 'week' ? 4 : 3)) % 7) + 7) % 7)) * DAY
  }
  const date = new Date(ms)
  const month = to === 'year' ? 0 : to === 'quarter' ? date.getUTCMonth() - (date.getUTCMonth() % 3) : date.getUTCMonth()
  return Date.UTC(date.getUTCFullYear(), month, 1)
}

/** The same truncation in SQL, over an expression that holds unix ms. */
export function startOfSql(dialect: Dialect, ms: string, to: Truncation): string {
  const int = dialect.integer(ms)
  if (to === 'second' || to === 'minute' || to === 'hour' || to === 'day') return `((${int} / ${FIXED_MS[to]}) * ${FIXED_MS[to]})`
  if (to === 'week' || to === 'week_monday') {
    const day = `(${int} / ${DAY})`
    return `((${day} - ((${day} + ${to === 'week' ? 4 : 3}) % 7)) * ${DAY})`
  }
  return dialect.startOfCalendar(ms, to)
}

/** `ms + count units` in SQL; `count` is an SQL expression. */
export function addIntervalSql(dialect: Dialect, ms: string, unit: IntervalUnit, count: string): string {
  const months = MONTHS[unit]
  if (months === undefined) return `(${ms} + ${dialect.integer(`(${count}) * ${FIXED_MS[unit]}`)})`
  return dialect.addMonths(ms, `(${count}) * ${months}`)
}

const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})(?:[ T](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?)?Z?$/

/** A ClickHouse date or date-time literal ('2024-01-31', '2024-01-31 12:00:00[.123]') as unix ms, or null. */
export function parseDateTimeMs(text: string): number | null {
  const m = DATE_TIME.exec(text.trim())
  if (!m) return null
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map((part) => Number(part ?? 0)) as number[]
  const ms = Number((m[7] ?? '').padEnd(3, '0').slice(0, 3))
  const value = Date.UTC(year!, month! - 1, day!, hour!, minute!, second!, ms)
  const check = new Date(value)
  return check.getUTCMonth() === month! - 1 && check.getUTCDate() === day! ? value : null
}

export function formatTimeMs(ms: number, dateOnly: boolean): string {
  const iso = new Date(ms).toISOString()
  return dateOnly ? iso.slice(0, 10) : `${iso.slice(0, 10)} ${iso.slice(11, 19)}`
}
