// Expressions: literals, column names (resolved the ClickHouse way: lambda
// parameters, then the SELECT's own aliases, then the columns of its FROM, then
// those of enclosing SELECTs), CASE, INTERVAL, subqueries, function calls and
// window clauses. Every node type not handled here is refused.
import { columnName, functionName, isNode, type Literal, literalOf, type Node, present, subqueryOf } from './ast'
import { type Context, condition, fail, type FromItem, quote, type Scope, type Sql, truth } from './context'
import { lookupFunction, translateCall } from './functions'
import { translateBinary } from './operators'
import { intervalOf } from './time-functions'
import { constant } from './values'

export function translateExpr(ctx: Context, scope: Scope, node: Node): Sql {
  if (!isNode(node)) return fail(ctx, 'query', 'Unsupported expression.')
  const subquery = subqueryOf(node)
  if (subquery) {
    const inner = ctx.subquery(scope, subquery)
    if (inner.columns.length !== 1) return fail(ctx, 'query', 'A subquery used as a value must return one column.')
    return { sql: `(${inner.sql})`, kind: inner.columns[0]!.kind, name: '_subquery' }
  }
  const literal = literalOf(node)
  if (literal) return literalSql(ctx, literal)
  const translate = (child: Node, inner: Scope) => translateExpr(ctx, inner, child)
  switch (node.type) {
    case 'column_ref':
      return translateColumn(ctx, scope, node)
    case 'binary_expr':
      return translateBinary(ctx, scope, node, translate)
    case 'unary_expr':
      return translateUnary(ctx, scope, node)
    case 'function':
    case 'aggr_func':
      return translateFunction(ctx, scope, node)
    case 'case':
      return translateCase(ctx, scope, node)
    case 'interval':
      return intervalOf(ctx, String(node.unit ?? ''), translateExpr(ctx, scope, node.expr))
    case 'cast':
      discover(ctx, scope, node)
      return fail(ctx, 'function', 'The function CAST is not allowed.')
  }
  discover(ctx, scope, node)
  return fail(ctx, 'query', `Unsupported syntax${node.type ? ` (${String(node.type)})` : ''}.`)
}

function literalSql(ctx: Context, literal: Literal): Sql {
  if (literal.kind === 'null') return constant(ctx, null, 'null')
  if (literal.kind === 'number') return constant(ctx, literal.value, Number.isInteger(literal.value) ? 'int' : 'float')
  return constant(ctx, literal.value, literal.kind)
}

/**
 * Walks what could not be translated for subqueries and function calls, so a
 * forbidden table or function inside it is still reported with its own type.
 */
function discover(ctx: Context, scope: Scope, node: unknown): void {
  const children = Array.isArray(node) ? node : isNode(node) ? Object.values(node) : []
  for (const child of children as unknown[]) {
    if (Array.isArray(child)) discover(ctx, scope, child)
    if (!isNode(child)) continue
    const subquery = subqueryOf(child)
    if (subquery) ctx.subquery(scope, subquery)
    else if (child.type === 'function' || child.type === 'aggr_func') translateExpr(ctx, scope, child)
    else discover(ctx, scope, child)
  }
}

function translateUnary(ctx: Context, scope: Scope, node: Node): Sql {
  const value = translateExpr(ctx, scope, node.expr)
  const operator = String(node.operator).toUpperCase()
  if (operator === 'NOT') return truth(ctx, `(NOT ${condition(ctx, value)})`, `not(${value.name})`)
  if (operator === '+') return value
  if (operator === '-') {
    if (typeof value.value === 'number') return constant(ctx, -value.value, value.kind === 'float' ? 'float' : 'int', `negate(${value.name})`)
    return { sql: `(- ${value.sql})`, kind: value.kind, name: `negate(${value.name})` }
  }
  return fail(ctx, 'query', `The operator ${operator} is not supported.`)
}

function columnSql(item: FromItem, name: string): Sql | null {
  const column = item.columns.find((c) => c.name === name)
  if (!column) return null
  return { sql: `${quote(item.ref)}.${quote(column.ref)}`, kind: column.kind, name, column: { base: item.base, name } }
}

/** ClickHouse names are case-sensitive: `KEY_ID` is not `key_id`. */
function translateColumn(ctx: Context, scope: Scope, node: Node): Sql {
  const ref = columnName(node)
  if (!ref || ref.column === '*') return fail(ctx, 'query', '* is only allowed in the SELECT list and in count(*).')
  if (ref.table !== null) {
    for (let s: Scope | null = scope; s; s = s.parent) {
      const item = s.items.find((i) => i.name === ref.table)
      if (item) return columnSql(item, ref.column) ?? fail(ctx, 'query', `Unknown column ${ref.column} in ${ref.table}.`)
    }
    return fail(ctx, 'query', `Unknown table or alias ${ref.table} (in ${ref.table}.${ref.column}).`)
  }
  for (let s: Scope | null = scope; s; s = s.parent) {
    const lambda = s.lambdas.get(ref.column)
    if (lambda) return lambda
  }
  const alias = scope.aliases.get(ref.column)
  if (alias && !scope.expanding.has(ref.column)) {
    scope.expanding.add(ref.column)
    const value = translateExpr(ctx, scope, alias)
    scope.expanding.delete(ref.column)
    return { ...value, name: ref.column }
  }
  for (let s: Scope | null = scope; s; s = s.parent) {
    const matches = s.items.map((item) => columnSql(item, ref.column)).filter((match): match is Sql => match !== null)
    if (matches.length > 1) return fail(ctx, 'query', `Column ${ref.column} is ambiguous: qualify it with its table's alias.`)
    if (matches.length === 1) return matches[0]!
  }
  return fail(ctx, 'query', `Unknown column ${ref.column}.`)
}

function translateFunction(ctx: Context, scope: Scope, node: Node): Sql {
  const name = functionName(node) ?? '?'
  const args: Node[] = node.type === 'aggr_func' ? (node.args?.expr ? [node.args.expr] : []) : Array.isArray(node.args?.value) ? node.args.value : []
  if (name.toUpperCase() === 'EXISTS' && node.type === 'function') {
    const subquery = args.length === 1 && isNode(args[0]) ? subqueryOf(args[0]) : null
    if (!subquery) return fail(ctx, 'query', 'EXISTS needs a subquery.')
    return truth(ctx, `EXISTS (${ctx.subquery(scope, subquery).sql})`, 'exists(_subquery)')
  }
  const def = lookupFunction(node)
  if (!def) {
    discover(ctx, scope, args)
    return fail(ctx, 'function', `The function ${name} is not allowed.`)
  }
  if (present(node.filter) || present(node.args?.orderby) || present(node.within_group) || present(node.suffix)) {
    discover(ctx, scope, args)
    return fail(ctx, 'query', `${def.name}(): FILTER, WITHIN GROUP and ORDER BY inside a call are not supported.`)
  }
  const star = args.length === 1 && (args[0]?.type === 'star' || (args[0]?.type === 'column_ref' && args[0]?.column === '*'))
  if (star && def.name !== 'count') return fail(ctx, 'query', `${def.name}(*) is not supported.`)
  const over = node.over ? windowSql(ctx, scope, node.over) : ''
  return translateCall(ctx, scope, node, def, star ? [] : args, over, (child, inner) => translateExpr(ctx, inner, child))
}

function translateCase(ctx: Context, scope: Scope, node: Node): Sql {
  const subject = node.expr ? translateExpr(ctx, scope, node.expr) : null
  const branches: Node[] = Array.isArray(node.args) ? node.args : []
  const parts: string[] = []
  const names: string[] = []
  let kind: Sql['kind'] = 'null'
  for (const branch of branches) {
    const result = translateExpr(ctx, scope, branch.result)
    if (kind === 'null') kind = result.kind
    if (branch.type === 'else') {
      parts.push(`ELSE ${result.sql}`)
      names.push(result.name)
      continue
    }
    const when = translateExpr(ctx, scope, branch.cond)
    // `CASE x WHEN v` compares values; `CASE WHEN c` tests a condition.
    parts.push(`WHEN ${subject ? when.sql : condition(ctx, when)} THEN ${result.sql}`)
    names.push(when.name, result.name)
  }
  if (parts.length === 0) return fail(ctx, 'query', 'CASE needs at least one WHEN.')
  const name = subject ? `caseWithExpression(${[subject.name, ...names].join(', ')})` : `multiIf(${names.join(', ')})`
  return { sql: `(CASE ${subject ? `${subject.sql} ` : ''}${parts.join(' ')} END)`, kind, name }
}

/** A GROUP BY or ORDER BY term: with `positional`, `1` names a result column (in both engines). */
export function termSql(ctx: Context, scope: Scope, node: Node, positional: boolean): string {
  const literal = isNode(node) ? literalOf(node) : null
  if (positional && literal?.kind === 'number' && Number.isInteger(literal.value) && literal.value >= 1) return String(literal.value)
  return translateExpr(ctx, scope, node).sql
}

export function orderBySql(ctx: Context, scope: Scope, items: Node[], positional: boolean): string {
  return items
    .map((item) => {
      const direction = String(item.type ?? '').toUpperCase() === 'DESC' ? ' DESC' : ' ASC'
      // ClickHouse sorts NULLs last unless told otherwise; SQLite sorts them first when ascending.
      const nulls = String(item.nulls ?? '')
        .toUpperCase()
        .includes('FIRST')
        ? ' NULLS FIRST'
        : ' NULLS LAST'
      return `${termSql(ctx, scope, item.expr, positional)}${direction}${nulls}`
    })
    .join(', ')
}

const FRAME_BOUND = /^(UNBOUNDED PRECEDING|UNBOUNDED FOLLOWING|CURRENT ROW|\d{1,9} PRECEDING|\d{1,9} FOLLOWING)$/

function frameSql(ctx: Context, frame: Node): string | null {
  const bound = (node: Node): string | null => {
    const text = typeof node?.value === 'string' ? node.value.trim().toUpperCase().replace(/\s+/g, ' ') : ''
    return FRAME_BOUND.test(text) ? text : null
  }
  if (frame.type === 'binary_expr' && frame.operator === 'BETWEEN') {
    const unit = String(frame.left?.value ?? '').toUpperCase()
    const [from, to] = (Array.isArray(frame.right?.value) ? frame.right.value : []).map(bound)
    if ((unit === 'ROWS' || unit === 'RANGE') && from && to) return `${unit} BETWEEN ${from} AND ${to}`
  }
  if (frame.type === 'rows' || frame.type === 'range') {
    const only = bound(frame.expr)
    if (only) return `${frame.type.toUpperCase()} ${only}`
  }
  fail(ctx, 'query', 'Unsupported window frame.')
  return null
}

/** ` OVER (PARTITION BY ... ORDER BY ... frame)` for an aggregate used as a window function. */
function windowSql(ctx: Context, scope: Scope, over: Node): string {
  const spec = over?.as_window_specification?.window_specification
  if (!isNode(spec)) {
    fail(ctx, 'query', 'Named windows are not supported: write the window in OVER (...).')
    return ''
  }
  const parts: string[] = []
  if (present(spec.partitionby)) parts.push(`PARTITION BY ${spec.partitionby.map((p: Node) => translateExpr(ctx, scope, p.expr ?? p).sql).join(', ')}`)
  if (present(spec.orderby)) parts.push(`ORDER BY ${orderBySql(ctx, scope, spec.orderby, false)}`)
  if (spec.window_frame_clause) parts.push(frameSql(ctx, spec.window_frame_clause) ?? '')
  return ` OVER (${parts.join(' ')})`
}
