// Statements: WITH, UNION/EXCEPT, and each SELECT's FROM, joins, WHERE, GROUP
// BY, HAVING, ORDER BY and LIMIT. This is where rows are scoped: every
// reference to a table alias, at any depth, becomes a subquery over the
// storage side's source that keeps only the caller's workspace (and granted
// APIs or namespaces), so nothing around it can widen what it returns. Only
// generated names (tN, wN, cN) and catalogue column names reach the SQL.
import { columnName, isNode, literalOf, type Node, nameText, present, setBranches, subqueryOf } from './ast'
import { ALL_TABLES, ROUTE_TABLES, SCOPE_COLUMN, type TableAlias, TABLE_COLUMNS } from './catalog'
import { type Column, type Context, condition, type Cte, fail, type FromItem, generated, newScope, quote, type Scope, type Sql } from './context'
import { orderBySql, termSql, translateExpr } from './expressions'
import { isComparison, translateComparison } from './operators'
import { parseDateTimeMs } from './time'

export interface Statement {
  sql: string
  columns: Column[]
}

const SET_OPERATORS: Record<string, string> = {
  union: 'UNION',
  'union distinct': 'UNION',
  'union all': 'UNION ALL',
  except: 'EXCEPT',
  'except distinct': 'EXCEPT',
}

/** A whole (possibly compound) SELECT with its WITH clause; `parent` is the enclosing SELECT's scope. */
export function translateStatement(ctx: Context, parent: Scope | null, select: Node): Statement {
  const withScope = newScope(parent)
  const ctes: string[] = []
  for (const cte of Array.isArray(select.with) ? (select.with as Node[]) : []) {
    const name = nameText(cte.name) ?? ''
    if ([...ALL_TABLES].some((table) => table.toLowerCase() === name.toLowerCase())) {
      ctx.issues.report('cte', `The CTE name ${name} is a table alias: name it something else.`)
    }
    if (cte.recursive || present(cte.columns)) fail(ctx, 'query', `WITH ${name}: recursive CTEs and column lists are not supported.`)
    const body = translateStatement(ctx, withScope, isNode(cte.stmt?.ast) ? cte.stmt.ast : cte.stmt)
    const ref = generated(ctx, 'w')
    withScope.ctes.set(name, { ref, columns: body.columns })
    ctes.push(`${quote(ref)} AS (${body.sql})`)
  }
  const branches = setBranches(select)
  const parts = branches.map((branch) => translateSelect(ctx, withScope, branch.select))
  let sql = ''
  branches.forEach((branch, i) => {
    const part = parts[i]!
    // ClickHouse applies a branch's ORDER BY / LIMIT to that branch alone; SQL wants them wrapped.
    sql += branches.length > 1 && part.ordered ? `SELECT * FROM (${part.sql}) AS ${quote(generated(ctx, 't'))}` : part.sql
    if (branch.op === null) return
    const operator = SET_OPERATORS[branch.op.toLowerCase()]
    if (!operator) fail(ctx, 'query', `${branch.op.toUpperCase()} is not supported: use UNION [ALL] or EXCEPT.`)
    if (parts[i + 1] && parts[i + 1]!.columns.length !== part.columns.length)
      fail(ctx, 'query', `Each side of ${branch.op.toUpperCase()} must return the same number of columns.`)
    sql += ` ${operator ?? 'UNION ALL'} `
  })
  return { sql: ctes.length ? `WITH ${ctes.join(', ')} ${sql}` : sql, columns: parts[0]!.columns }
}

/** The subquery that stands for a table alias: only its public columns, only the caller's rows. */
function baseTableSql(ctx: Context, table: TableAlias): string {
  const columns = TABLE_COLUMNS[table].map((column) => quote(column.name)).join(', ')
  const filter = [`${quote('workspace_id')} = ${ctx.scope.workspace}`]
  if (ctx.scope.resources !== null) filter.push(`${quote(SCOPE_COLUMN[ctx.route])} IN (${ctx.scope.resources})`)
  return `SELECT ${columns} FROM (${ctx.sources[table](ctx.scope)}) AS ${quote('source')} WHERE ${filter.join(' AND ')}`
}

function findCte(scope: Scope, name: string): Cte | null {
  for (let s: Scope | null = scope; s; s = s.parent) {
    const cte = s.ctes.get(name)
    if (cte) return cte
  }
  return null
}

const JOINS: Record<string, string> = {
  'INNER JOIN': 'JOIN',
  JOIN: 'JOIN',
  'LEFT JOIN': 'LEFT JOIN',
  'LEFT OUTER JOIN': 'LEFT JOIN',
  'RIGHT JOIN': 'RIGHT JOIN',
  'RIGHT OUTER JOIN': 'RIGHT JOIN',
  'FULL JOIN': 'FULL JOIN',
  'FULL OUTER JOIN': 'FULL JOIN',
  'CROSS JOIN': 'CROSS JOIN',
}

/** One FROM entry as an item of the scope plus its SQL (`(...) AS tN`), or null when it cannot be read. */
function fromItem(ctx: Context, scope: Scope, entry: Node): { item: FromItem; sql: string } | null {
  const ref = generated(ctx, 't')
  const alias = typeof entry.as === 'string' ? entry.as : null
  if (entry.prefix || present(entry.tablesample) || present(entry.table_hint)) {
    fail(ctx, 'query', 'LATERAL, TABLESAMPLE and table hints are not supported.')
    return null
  }
  const subquery = isNode(entry.expr) ? subqueryOf(entry.expr) : null
  if (subquery) {
    const inner = translateStatement(ctx, scope.parent, subquery)
    return { item: { name: alias ?? '', ref, columns: inner.columns, base: null }, sql: `(${inner.sql}) AS ${quote(ref)}` }
  }
  if (entry.type === 'expr' && isNode(entry.expr) && (entry.expr.type === 'function' || entry.expr.type === 'aggr_func')) {
    ctx.issues.report('function', `Table functions are not allowed (${nameText(entry.expr.name?.name?.[0]) ?? 'unknown'}).`)
    return null
  }
  if (typeof entry.table !== 'string' || entry.expr !== undefined) {
    fail(ctx, 'query', 'Unsupported FROM clause: use a table alias, a CTE or a subquery.')
    return null
  }
  const qualified = [entry.db, entry.schema].some((part) => part !== null && part !== undefined)
  const name = entry.table
  const cte = qualified ? null : findCte(scope, name)
  if (cte) return { item: { name: alias ?? name, ref, columns: cte.columns, base: null }, sql: `${quote(cte.ref)} AS ${quote(ref)}` }
  const table = qualified ? undefined : ROUTE_TABLES[ctx.route].find((t) => t === name)
  if (!table) {
    const full = [entry.db, entry.schema, name].filter((part) => typeof part === 'string').join('.')
    ctx.issues.report('table', `The table ${full} is not available: query ${ROUTE_TABLES[ctx.route].join(', ')}.`)
    return null
  }
  const columns = TABLE_COLUMNS[table].map((column) => ({ name: column.name, ref: column.name, kind: column.kind }))
  return { item: { name: alias ?? name, ref, columns, base: table }, sql: `(${baseTableSql(ctx, table)}) AS ${quote(ref)}` }
}

function translateFrom(ctx: Context, scope: Scope, entries: Node[]): string {
  const pieces: { sql: string; entry: Node }[] = []
  for (const entry of entries) {
    const found = fromItem(ctx, scope, entry)
    if (!found) continue
    scope.items.push(found.item)
    pieces.push({ sql: found.sql, entry })
  }
  return pieces
    .map(({ sql, entry }, i) => {
      if (i === 0) return sql
      if (!entry.join) return `, ${sql}`
      const join = JOINS[String(entry.join).toUpperCase()]
      if (!join || present(entry.using)) {
        fail(ctx, 'query', `${String(entry.join)}${present(entry.using) ? ' USING' : ''} is not supported: join with ON.`)
        return `, ${sql}`
      }
      const on = entry.on ? ` ON ${condition(ctx, translateExpr(ctx, scope, entry.on))}` : join === 'CROSS JOIN' ? '' : ` ON ${ctx.dialect.always}`
      return ` ${join} ${sql}${on}`
    })
    .join('')
}

/** `time >= <constant>` on a table alias, older than its retention, is refused (as upstream). */
function checkRetention(ctx: Context, comparison: { left: Sql; right: Sql; operator: string }): void {
  const { left, right, operator } = comparison
  const lower = (left.column && (operator === '>=' || operator === '>')) || (right.column && (operator === '<=' || operator === '<'))
  const [column, bound] = left.column ? [left, right] : [right, left]
  const base = column.column?.base
  const retention = base ? ctx.retention[base] : undefined
  if (!lower || !base || retention === undefined || column.column?.name !== 'time') return
  // A number against a rollup's DateTime is unix seconds; against the raw table's Int64 it is milliseconds.
  const ms =
    typeof bound.value === 'string'
      ? parseDateTimeMs(bound.value)
      : typeof bound.value !== 'number'
        ? null
        : bound.kind === 'int' || bound.kind === 'float'
          ? bound.value * (column.kind === 'int' ? 1 : 1000)
          : bound.value
  if (ms !== null && ms < ctx.now - retention) {
    const days = Math.round(retention / 86_400_000)
    ctx.issues.report('retention', `The query reads ${base} from ${new Date(ms).toISOString()}, older than its ${days}-day retention.`)
  }
}

function translateWhere(ctx: Context, scope: Scope, where: Node): string {
  const conjuncts: Node[] = []
  const split = (node: Node): void => {
    if (node?.type === 'binary_expr' && String(node.operator).toUpperCase() === 'AND') {
      split(node.left)
      split(node.right)
    } else conjuncts.push(node)
  }
  split(where)
  return conjuncts
    .map((node) => {
      if (node?.type !== 'binary_expr' || !isComparison(node.operator)) return `(${condition(ctx, translateExpr(ctx, scope, node))})`
      const comparison = translateComparison(ctx, scope, node, (child, inner) => translateExpr(ctx, inner, child))
      checkRetention(ctx, comparison)
      return `(${condition(ctx, comparison)})`
    })
    .join(' AND ')
}

function limitSql(ctx: Context, limit: Node | null | undefined): string {
  if (!present(limit)) return ''
  const values = (limit!.value as Node[]).map((v) => literalOf(v))
  const numbers = values.map((v) => (v?.kind === 'number' && Number.isSafeInteger(v.value) && v.value >= 0 ? v.value : null))
  if (numbers.some((n) => n === null) || numbers.length > 2) {
    fail(ctx, 'query', 'LIMIT and OFFSET take non-negative whole numbers.')
    return ''
  }
  const [first, second] = numbers as number[]
  if (second === undefined) return ` LIMIT ${first}`
  return limit!.seperator === ',' ? ` LIMIT ${second} OFFSET ${first}` : ` LIMIT ${first} OFFSET ${second}`
}

const aliasOf = (item: Node): string | null => (typeof item.as === 'string' ? item.as : nameText(item.as))

function translateSelect(ctx: Context, parent: Scope, select: Node): Statement & { ordered: boolean } {
  const scope = newScope(parent)
  if (select.type !== 'select' || present(select.into?.position) || present(select.options) || present(select.window) || present(select.qualify)) {
    fail(ctx, 'query', 'Only plain SELECTs are supported (no INTO, WINDOW, QUALIFY or select options).')
  }
  const distinct = String(select.distinct?.type ?? '').toUpperCase()
  if (distinct && distinct !== 'DISTINCT') fail(ctx, 'query', `${distinct} is not supported.`)
  const from = translateFrom(ctx, scope, Array.isArray(select.from) ? select.from : [])
  const items: Node[] = Array.isArray(select.columns) ? select.columns : []
  for (const item of items) {
    const alias = aliasOf(item)
    if (alias !== null && isNode(item.expr)) scope.aliases.set(alias, item.expr)
  }
  const outputs: { sql: string; name: string; kind: Column['kind'] }[] = []
  for (const item of items) {
    const star = item.expr?.type === 'column_ref' ? columnName(item.expr) : null
    if (star?.column === '*') {
      const sources = scope.items.filter((i) => star.table === null || i.name === star.table)
      if (star.table !== null && sources.length === 0) fail(ctx, 'query', `Unknown table or alias ${star.table} in ${star.table}.*.`)
      for (const source of sources)
        for (const column of source.columns) outputs.push({ sql: `${quote(source.ref)}.${quote(column.ref)}`, name: column.name, kind: column.kind })
      continue
    }
    const alias = aliasOf(item)
    // Inside its own definition an alias is not visible: `SUM(total) AS total` sums the column.
    if (alias !== null) scope.expanding.add(alias)
    const value = translateExpr(ctx, scope, item.expr)
    if (alias !== null) scope.expanding.delete(alias)
    if (value.kind === 'interval') fail(ctx, 'query', `${value.name}: an interval is not a value; add it to or take it from a time.`)
    outputs.push({ sql: value.sql, name: alias ?? value.name, kind: value.kind === 'interval' ? 'any' : value.kind })
  }
  if (outputs.length === 0) fail(ctx, 'query', 'The SELECT has no columns.')
  const where = select.where ? ` WHERE ${translateWhere(ctx, scope, select.where)}` : ''
  const groupBy: Node[] = Array.isArray(select.groupby?.columns) ? select.groupby.columns : []
  if (present(select.groupby?.modifiers)) fail(ctx, 'query', 'GROUP BY modifiers (ROLLUP, CUBE, TOTALS) are not supported.')
  const group = groupBy.length ? ` GROUP BY ${groupBy.map((term) => termSql(ctx, scope, term, true)).join(', ')}` : ''
  const having = select.having ? ` HAVING ${condition(ctx, translateExpr(ctx, scope, select.having))}` : ''
  const order = present(select.orderby) ? ` ORDER BY ${orderBySql(ctx, scope, select.orderby, true)}` : ''
  const limit = limitSql(ctx, select.limit)
  const joins = [...scope.arrayJoins.values()].map((join) => join.from)
  const fromSql = from ? ` FROM ${from}${joins.map((j) => `, ${j}`).join('')}` : joins.length ? ` FROM ${joins.join(', ')}` : ''
  const columns = outputs.map((output, i) => ({ name: output.name, ref: `c${i}`, kind: output.kind }))
  const list = outputs.map((output, i) => `${output.sql} AS ${quote(`c${i}`)}`).join(', ')
  const sql = `SELECT ${distinct ? 'DISTINCT ' : ''}${list}${fromSql}${where}${group}${having}${order}${limit}`
  return { sql, columns, ordered: Boolean(order || limit) }
}
