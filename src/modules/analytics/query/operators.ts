// Operators with ClickHouse semantics in SQL: comparisons across kinds,
// `/` as floating-point division, time ± INTERVAL (calendar months included),
// LIKE as case-sensitive (SQLite: GLOB), IN lists and subqueries, BETWEEN, IS NULL.
// Constant operands are folded, so `now() - INTERVAL 7 DAY` is one bound value.
import type { Node } from './ast'
import { subqueryOf } from './ast'
import { bind, type Context, condition, fail, type Scope, type Sql, type Translate, truth } from './context'
import { addIntervalMs, addIntervalSql, DAY } from './time'
import { comparable, constant, isNumeric, isTime, numericKind } from './values'

const COMPARISONS: Record<string, [string, string]> = {
  '=': ['=', 'equals'],
  '==': ['=', 'equals'],
  '!=': ['!=', 'notEquals'],
  '<>': ['!=', 'notEquals'],
  '<': ['<', 'less'],
  '>': ['>', 'greater'],
  '<=': ['<=', 'lessOrEquals'],
  '>=': ['>=', 'greaterOrEquals'],
}

export const isComparison = (operator: string): boolean => operator in COMPARISONS

export interface Comparison extends Sql {
  left: Sql
  right: Sql
  operator: string
}

export function translateComparison(ctx: Context, scope: Scope, node: Node, translate: Translate): Comparison {
  const [op, fn] = COMPARISONS[node.operator]!
  const left = translate(node.left, scope)
  const right = translate(node.right, scope)
  const [l, r] = comparable(ctx, left, right)
  return { ...truth(ctx, `(${l} ${op} ${r})`, `${fn}(${left.name}, ${right.name})`), left, right, operator: op }
}

export function translateBinary(ctx: Context, scope: Scope, node: Node, translate: Translate): Sql {
  const operator = String(node.operator).toUpperCase()
  if (isComparison(operator)) return translateComparison(ctx, scope, node, translate)
  if (operator === 'IN' || operator === 'NOT IN') return translateIn(ctx, scope, node, translate, operator === 'NOT IN')
  if (operator === 'BETWEEN' || operator === 'NOT BETWEEN') return translateBetween(ctx, scope, node, translate, operator === 'NOT BETWEEN')
  if (operator === 'IS' || operator === 'IS NOT') {
    if (node.right?.type !== 'null') return fail(ctx, 'query', `${operator} is only supported with NULL.`)
    const value = translate(node.left, scope)
    return truth(ctx, `(${value.sql} ${operator} NULL)`, `${operator === 'IS' ? 'isNull' : 'isNotNull'}(${value.name})`)
  }
  if (operator === '->') return fail(ctx, 'query', 'A lambda (x -> ...) is only allowed as the first argument of arrayFilter.')
  const left = translate(node.left, scope)
  const right = translate(node.right, scope)
  switch (operator) {
    case 'AND':
    case 'OR':
      return truth(ctx, `(${condition(ctx, left)} ${operator} ${condition(ctx, right)})`, `${operator.toLowerCase()}(${left.name}, ${right.name})`)
    case '+':
    case '-':
      return addOrSubtract(ctx, left, right, operator)
    case '*':
    case '%':
      return arithmetic(ctx, left, right, operator, numericKind(left, right))
    case '/':
      return arithmetic(ctx, left, right, operator, 'float')
    case '||':
      return { sql: `(CAST(${left.sql} AS TEXT) || CAST(${right.sql} AS TEXT))`, kind: 'string', name: `concat(${left.name}, ${right.name})` }
    case 'LIKE':
    case 'NOT LIKE':
    case 'ILIKE':
    case 'NOT ILIKE':
      return translateLike(ctx, left, right, operator)
  }
  return fail(ctx, 'query', `The operator ${operator} is not supported.`)
}

const DATE_UNITS = new Set(['day', 'week', 'month', 'quarter', 'year'])

const ARITHMETIC_NAMES: Record<string, string> = { '+': 'plus', '-': 'minus', '*': 'multiply', '/': 'divide', '%': 'modulo' }

function arithmetic(ctx: Context, left: Sql, right: Sql, operator: string, kind: 'int' | 'float'): Sql {
  const name = `${ARITHMETIC_NAMES[operator]}(${left.name}, ${right.name})`
  if (typeof left.value === 'number' && typeof right.value === 'number') {
    const a = left.value
    const b = right.value
    const value = operator === '+' ? a + b : operator === '-' ? a - b : operator === '*' ? a * b : operator === '/' ? a / b : a % b
    if (Number.isFinite(value)) return constant(ctx, value, kind, name)
  }
  if (operator === '/') return { sql: ctx.dialect.divide(left.sql, right.sql), kind, name }
  if (operator === '%') return { sql: ctx.dialect.modulo(left.sql, right.sql), kind, name }
  return { sql: `(${left.sql} ${operator} ${right.sql})`, kind, name }
}

/** `+`/`-` with times: time ± INTERVAL, time ± seconds (days for a Date), time − time. */
function addOrSubtract(ctx: Context, left: Sql, right: Sql, operator: '+' | '-'): Sql {
  const name = `${ARITHMETIC_NAMES[operator]}(${left.name}, ${right.name})`
  const [time, interval] = right.interval ? [left, right.interval] : operator === '+' && left.interval ? [right, left.interval] : [null, null]
  if (time && interval) {
    if (!isTime(time.kind)) return fail(ctx, 'query', `${name}: an INTERVAL can only be added to a date or time.`)
    const sign = operator === '-' ? -1 : 1
    const kind = time.kind === 'date' && DATE_UNITS.has(interval.unit) ? 'date' : 'datetime'
    if (typeof time.value === 'number' && typeof interval.count.value === 'number') {
      return constant(ctx, addIntervalMs(time.value, interval.unit, sign * interval.count.value), kind, name)
    }
    return { sql: addIntervalSql(ctx.dialect, time.sql, interval.unit, `${sign} * ${interval.count.sql}`), kind, name }
  }
  if (left.interval || right.interval) return fail(ctx, 'query', `${name}: intervals can only be added to or taken from a time.`)
  if (isTime(left.kind) && isTime(right.kind) && operator === '-') {
    const unit = left.kind === 'date' && right.kind === 'date' ? DAY : 1000
    if (typeof left.value === 'number' && typeof right.value === 'number') return constant(ctx, Math.trunc((left.value - right.value) / unit), 'int', name)
    return { sql: `((${left.sql} - ${right.sql}) / ${unit})`, kind: 'int', name }
  }
  if (isTime(left.kind) && isNumeric(right.kind)) {
    const unit = left.kind === 'date' ? DAY : 1000
    const scaled = arithmetic(ctx, right, constant(ctx, unit, 'int'), '*', 'int')
    const moved = arithmetic(ctx, left, scaled, operator, 'int')
    return { ...moved, kind: left.kind, name }
  }
  return arithmetic(ctx, left, right, operator, numericKind(left, right))
}

const LIKE_NAMES: Record<string, string> = { LIKE: 'like', 'NOT LIKE': 'notLike', ILIKE: 'ilike', 'NOT ILIKE': 'notILike' }

/** ClickHouse's LIKE is case-sensitive (SQLite's is not: there a constant pattern becomes a GLOB). */
function translateLike(ctx: Context, left: Sql, right: Sql, operator: string): Sql {
  const negate = operator.startsWith('NOT ')
  const name = `${LIKE_NAMES[operator]}(${left.name}, ${right.name})`
  if (operator.endsWith('ILIKE')) return truth(ctx, ctx.dialect.ilike(left.sql, right.sql, negate), name)
  if (typeof right.value !== 'string') return fail(ctx, 'query', `${name}: the LIKE pattern must be a constant string.`)
  return truth(
    ctx,
    ctx.dialect.like(left.sql, right.value, negate, (value) => bind(ctx, value)),
    name,
  )
}

export { likeToGlob } from './dialect'

function translateIn(ctx: Context, scope: Scope, node: Node, translate: Translate, negate: boolean): Sql {
  const left = translate(node.left, scope)
  const not = negate ? 'NOT ' : ''
  const name = `${negate ? 'notIn' : 'in'}(${left.name}, ...)`
  const items: Node[] = node.right?.type === 'expr_list' && Array.isArray(node.right.value) ? node.right.value : []
  const subquery = items.length === 1 ? subqueryOf(items[0]!) : null
  if (subquery) {
    const inner = ctx.subquery(scope, subquery)
    if (inner.columns.length !== 1) return fail(ctx, 'query', `${name}: the subquery must return one column.`)
    return truth(ctx, `(${left.sql} ${not}IN (${inner.sql}))`, name)
  }
  if (items.length === 0) return fail(ctx, 'query', `${name}: IN needs a list of values or a subquery.`)
  const pairs = items.map((item) => comparable(ctx, left, translate(item, scope)))
  return truth(ctx, `(${pairs[0]![0]} ${not}IN (${pairs.map((pair) => pair[1]).join(', ')}))`, name)
}

function translateBetween(ctx: Context, scope: Scope, node: Node, translate: Translate, negate: boolean): Sql {
  const bounds: Node[] = node.right?.type === 'expr_list' && Array.isArray(node.right.value) ? node.right.value : []
  if (bounds.length !== 2) return fail(ctx, 'query', 'BETWEEN needs two bounds.')
  const value = translate(node.left, scope)
  const [low, high] = bounds.map((bound) => comparable(ctx, value, translate(bound, scope))) as [[string, string], [string, string]]
  return truth(ctx, `(${low[0]} ${negate ? 'NOT ' : ''}BETWEEN ${low[1]} AND ${high[1]})`, `${negate ? 'not' : ''}between(${value.name}, ...)`)
}
