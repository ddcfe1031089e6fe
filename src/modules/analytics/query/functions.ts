// The function allow-list of Unkey's analytics (aggregates, strings, JSON,
// math, conditionals, conversions, arrays; the time functions are in
// time-functions.ts) and each one's SQL translation (what differs between SQLite
// and PostgreSQL comes from ./dialect.ts). A name not listed here
// is refused, whatever it is: a table function, a SQLite function, anything.
import type { Node } from './ast'
import { columnName, functionName } from './ast'
import { bind, type Call, type Context, condition, type FunctionDef, fail, generated, quote, type Scope, type Sql, type Translate, truth } from './context'
import { TIME_FUNCTIONS } from './time-functions'
import { asText, emptyDefault, isTime } from './values'

const fn = (name: string, min: number, max: number, impl: FunctionDef['impl'], extra: Partial<FunctionDef> = {}): FunctionDef => ({
  name,
  min,
  max,
  impl,
  ...extra,
})
const named = (call: Call): string => `${call.name}(${call.values.map((v) => v.name).join(', ')})`
const numeric = (value: Sql): 'int' | 'float' => (value.kind === 'int' || value.kind === 'bool' ? 'int' : 'float')
const agg = (call: Call, sql: string, kind: Sql['kind']): Sql => ({ sql, kind, name: named(call) })
const each = (ctx: Context, array: string, ref: string): string => ctx.dialect.jsonEach(array, ref)

/** `min`/`max`/`any` give the type's neutral value over no rows in ClickHouse; SQLite gives NULL. */
const extreme = (sqlName: string) => (call: Call) => {
  const [x] = call.values as [Sql]
  return agg(call, `COALESCE(${sqlName}(${x.sql})${call.over}, ${emptyDefault(x.kind)})`, x.kind)
}

const AGGREGATES: FunctionDef[] = [
  fn(
    'count',
    0,
    1,
    (call) => {
      const arg = call.values[0]
      const name = call.distinct ? `countDistinct(${arg?.name})` : named(call)
      return { sql: `COUNT(${call.distinct ? 'DISTINCT ' : ''}${arg?.sql ?? '*'})${call.over}`, kind: 'int', name }
    },
    { distinct: true },
  ),
  fn('sum', 1, 1, (call) => agg(call, `COALESCE(SUM(${call.distinct ? 'DISTINCT ' : ''}${call.values[0]!.sql})${call.over}, 0)`, numeric(call.values[0]!)), {
    distinct: true,
  }),
  fn('avg', 1, 1, (call) => agg(call, `AVG(${call.values[0]!.sql})${call.over}`, 'float')),
  fn('min', 1, 1, extreme('MIN')),
  fn('max', 1, 1, extreme('MAX')),
  fn('any', 1, 1, extreme('MIN')),
  fn('groupArray', 1, 1, (call) => agg(call, call.ctx.dialect.jsonGroupArray(element(call.ctx, call.values[0]!), false, call.over), 'array')),
  fn('groupUniqArray', 1, 1, (call) => agg(call, call.ctx.dialect.jsonGroupArray(element(call.ctx, call.values[0]!), true, call.over), 'array')),
  fn('uniq', 1, 8, (call) => distinctCount(call)),
  fn('uniqExact', 1, 8, (call) => distinctCount(call)),
  fn('quantile', 1, 1, (call) => fail(call.ctx, 'query', 'quantile() is not supported by latch: it has no SQLite equivalent.')),
  fn('countIf', 1, 2, (call) => {
    const [value, test] = call.values.length === 2 ? [call.values[0]!.sql, call.values[1]!] : ['1', call.values[0]!]
    return agg(call, `COUNT(CASE WHEN ${condition(call.ctx, test)} THEN ${value} END)${call.over}`, 'int')
  }),
  fn('sumIf', 2, 2, (call) => {
    const [value, test] = call.values as [Sql, Sql]
    return agg(call, `COALESCE(SUM(CASE WHEN ${condition(call.ctx, test)} THEN ${value.sql} END)${call.over}, 0)`, numeric(value))
  }),
].map((def) => ({ ...def, aggregate: true }))

/** An array stays an array inside the aggregate (not its JSON text as a string). */
const element = (ctx: Context, value: Sql): string => (value.kind === 'array' ? ctx.dialect.jsonArrayElement(value.sql) : value.sql)

function distinctCount(call: Call): Sql {
  if (call.over) return fail(call.ctx, 'query', `${call.name}() cannot be used as a window function.`)
  const key = call.values.length === 1 ? call.values[0]!.sql : call.ctx.dialect.tuple(call.values.map((v) => v.sql))
  return agg(call, `COUNT(DISTINCT ${key})`, 'int')
}

const SCALARS: FunctionDef[] = [
  fn('lower', 1, 1, (call) => ({ sql: `lower(${text(call, 0)})`, kind: 'string', name: named(call) })),
  fn('upper', 1, 1, (call) => ({ sql: `upper(${text(call, 0)})`, kind: 'string', name: named(call) })),
  fn('substring', 2, 3, (call) => ({
    sql: `substr(${[text(call, 0), ...call.values.slice(1).map((v) => v.sql)].join(', ')})`,
    kind: 'string',
    name: named(call),
  })),
  fn('concat', 1, 64, (call) => ({ sql: `(${call.values.map((v) => asText(call.ctx, v).sql).join(' || ')})`, kind: 'string', name: named(call) })),
  fn('length', 1, 1, (call) => {
    const [x] = call.values as [Sql]
    return { sql: x.kind === 'array' ? call.ctx.dialect.jsonArrayLength(x.sql) : call.ctx.dialect.byteLength(x.sql), kind: 'int', name: named(call) }
  }),
  fn('trim', 1, 1, (call) => ({ sql: `trim(${text(call, 0)})`, kind: 'string', name: named(call) })),
  fn('startsWith', 2, 2, (call) => {
    const [s, p] = [text(call, 0), call.values[1]!.sql]
    return truth(call.ctx, `(substr(${s}, 1, length(${p})) = ${p})`, named(call))
  }),
  fn('endsWith', 2, 2, (call) => truth(call.ctx, call.ctx.dialect.endsWith(text(call, 0), call.values[1]!.sql), named(call))),
  fn('JSONExtractString', 1, 16, jsonExtractString),
  fn('round', 1, 2, (call) => rounding(call, 'round')),
  fn('floor', 1, 2, (call) => rounding(call, 'floor')),
  fn('ceil', 1, 2, (call) => rounding(call, 'ceil')),
  fn('abs', 1, 1, (call) => ({ sql: `abs(${call.values[0]!.sql})`, kind: numeric(call.values[0]!), name: named(call) })),
  fn('if', 3, 3, (call) => {
    const [test, then, otherwise] = call.values as [Sql, Sql, Sql]
    const kind = then.kind === 'null' ? otherwise.kind : then.kind
    return { sql: `(CASE WHEN ${condition(call.ctx, test)} THEN ${then.sql} ELSE ${otherwise.sql} END)`, kind, name: named(call) }
  }),
  fn('coalesce', 1, 64, (call) => {
    const kind = call.values.find((v) => v.kind !== 'null')?.kind ?? 'null'
    const sql = call.values.length === 1 ? call.values[0]!.sql : `coalesce(${call.values.map((v) => v.sql).join(', ')})`
    return { sql, kind, name: named(call) }
  }),
  fn('toString', 1, 1, (call) => ({ ...asText(call.ctx, call.values[0]!), name: named(call) })),
  fn('toInt32', 1, 1, (call) => toInteger(call)),
  fn('toInt64', 1, 1, (call) => toInteger(call)),
  fn('toFloat64', 1, 1, (call) => {
    const [x] = call.values as [Sql]
    return { sql: isTime(x.kind) ? `(${x.sql} / 1000.0)` : call.ctx.dialect.real(x.sql), kind: 'float', name: named(call) }
  }),
  fn('has', 2, 2, (call) => arrayTest(call, (a, b, j) => `EXISTS (SELECT 1 FROM ${each(call.ctx, a, j)} WHERE ${quote(j)}.value = ${b})`, false)),
  fn('hasAny', 2, 2, (call) =>
    arrayTest(
      call,
      (a, b, j, k) => `EXISTS (SELECT 1 FROM ${each(call.ctx, a, j)}, ${each(call.ctx, b, k)} WHERE ${quote(j)}.value = ${quote(k)}.value)`,
      true,
    ),
  ),
  fn('hasAll', 2, 2, (call) =>
    arrayTest(
      call,
      (a, b, j, k) =>
        `NOT EXISTS (SELECT 1 FROM ${each(call.ctx, b, k)} WHERE NOT EXISTS (SELECT 1 FROM ${each(call.ctx, a, j)} WHERE ${quote(j)}.value = ${quote(k)}.value))`,
      true,
    ),
  ),
  fn('arrayJoin', 1, 1, arrayJoin, { raw: true }),
  fn('arrayFilter', 2, 2, arrayFilter, { raw: true }),
]

/** The decimal places of round/floor/ceil: a constant 0 to 15 (ClickHouse also takes negative ones; latch does not). */
function decimals(call: Call): number | null {
  const places = call.values[1]
  if (!places) return 0
  return typeof places.value === 'number' && Number.isInteger(places.value) && places.value >= 0 && places.value <= 15 ? places.value : null
}

function rounding(call: Call, sqlName: 'round' | 'floor' | 'ceil'): Sql {
  const [x] = call.values as [Sql]
  const places = decimals(call)
  if (places === null) return fail(call.ctx, 'query', `${named(call)}: the decimal places must be a constant from 0 to 15.`)
  if (sqlName === 'round') return { sql: call.ctx.dialect.round(x.sql, places), kind: 'float', name: named(call) }
  const sql = places === 0 ? `${sqlName}(${x.sql})` : `(${sqlName}(${x.sql} * ${10 ** places}) / ${10 ** places}.0)`
  return { sql, kind: numeric(x), name: named(call) }
}

function toInteger(call: Call): Sql {
  const [x] = call.values as [Sql]
  const int = call.ctx.dialect.integer(x.sql)
  const sql = x.kind === 'datetime' ? `(${int} / 1000)` : x.kind === 'date' ? `(${int} / 86400000)` : int
  return { sql, kind: 'int', name: named(call) }
}

/** Argument `i` as text, for string functions (PostgreSQL does not convert a number by itself). */
const text = (call: Call, i: number): string => (call.values[i]!.kind === 'string' ? call.values[i]!.sql : call.ctx.dialect.text(call.values[i]!.sql))

/** JSONExtractString(json, key, ...): '' unless the value at that path is a string, as in ClickHouse. */
function jsonExtractString(call: Call): Sql {
  const [json, ...keys] = call.values as [Sql, ...Sql[]]
  const path: (string | number)[] = []
  for (const key of keys) {
    if (typeof key.value === 'number' && Number.isInteger(key.value) && key.value !== 0) path.push(key.value)
    else if (typeof key.value === 'string' && !/["\\]/.test(key.value)) path.push(key.value)
    else return fail(call.ctx, 'query', `${named(call)}: keys must be constant names or indexes.`)
  }
  return { sql: call.ctx.dialect.jsonExtractString(json.sql, path, (value) => bind(call.ctx, value)), kind: 'string', name: named(call) }
}

function arrayTest(call: Call, build: (a: string, b: string, j: string, k: string) => string, bothArrays: boolean): Sql {
  const [a, b] = call.values as [Sql, Sql]
  if (a.kind !== 'array' || (bothArrays && b.kind !== 'array')) return fail(call.ctx, 'query', `${named(call)}: expects an array (such as tags).`)
  return truth(call.ctx, `(${build(a.sql, b.sql, generated(call.ctx, 'j'), generated(call.ctx, 'j'))})`, named(call))
}

/** arrayJoin(array): one row per element, as a join on the SELECT that uses it (one join per distinct array). */
function arrayJoin(call: Call): Sql {
  const array = call.translate(call.args[0]!, call.scope)
  if (array.kind !== 'array') return fail(call.ctx, 'query', `arrayJoin(${array.name}): expects an array (such as tags).`)
  let join = call.scope.arrayJoins.get(array.sql)
  if (!join) {
    const ref = generated(call.ctx, 'a')
    join = { ref, from: each(call.ctx, array.sql, ref) }
    call.scope.arrayJoins.set(array.sql, join)
  }
  return { sql: `${quote(join.ref)}.value`, kind: 'any', name: `arrayJoin(${array.name})` }
}

/** arrayFilter(x -> condition, array). */
function arrayFilter(call: Call): Sql {
  const lambda = splitLambda(call.args[0]!)
  if (!lambda) return fail(call.ctx, 'query', 'arrayFilter needs a lambda (x -> condition) as its first argument.')
  const array = call.translate(call.args[1]!, call.scope)
  if (array.kind !== 'array') return fail(call.ctx, 'query', `arrayFilter(..., ${array.name}): expects an array (such as tags).`)
  const ref = generated(call.ctx, 'j')
  const outer = call.scope.lambdas.get(lambda.param)
  call.scope.lambdas.set(lambda.param, { sql: `${quote(ref)}.value`, kind: 'any', name: lambda.param })
  const body = call.translate(lambda.body, call.scope)
  if (outer) call.scope.lambdas.set(lambda.param, outer)
  else call.scope.lambdas.delete(lambda.param)
  const sql = `(SELECT ${call.ctx.dialect.jsonGroupArray(`${quote(ref)}.value`, false, '')} FROM ${each(call.ctx, array.sql, ref)} WHERE ${condition(call.ctx, body)})`
  return { sql, kind: 'array', name: `arrayFilter(lambda(${lambda.param}), ${array.name})` }
}

/**
 * The parser reads `->` as its tightest-binding JSON operator, so `x -> a = b`
 * arrives as `(x -> a) = b`: the arrow sits at the bottom of the leftmost path.
 * Lifting it out gives the lambda's parameter and its body `a = b`.
 */
export function splitLambda(node: Node): { param: string; body: Node } | null {
  const path: Node[] = []
  let current = node
  while (current?.type === 'binary_expr' && current.operator !== '->') {
    path.push(current)
    current = current.left
  }
  if (current?.type !== 'binary_expr' || current.left?.type !== 'column_ref') return null
  const param = columnName(current.left)
  if (!param || param.table !== null || param.column === '*') return null
  let body: Node = current.right
  for (let i = path.length - 1; i >= 0; i--) body = { ...path[i], left: body }
  return { param: param.column, body }
}

const REGISTRY = new Map<string, FunctionDef>([...AGGREGATES, ...SCALARS, ...TIME_FUNCTIONS].map((def) => [def.name.toLowerCase(), def]))

/** The allow-list entry for a function node (names are case-insensitive), or null. */
export function lookupFunction(node: Node): FunctionDef | null {
  const name = functionName(node)
  return name === null ? null : (REGISTRY.get(name.toLowerCase()) ?? null)
}

export function translateCall(ctx: Context, scope: Scope, node: Node, def: FunctionDef, args: Node[], over: string, translate: Translate): Sql {
  const distinct = node.args?.distinct === 'DISTINCT'
  if (distinct && !def.distinct) return fail(ctx, 'query', `${def.name}(DISTINCT ...) is not supported.`)
  if (over && !def.aggregate) return fail(ctx, 'query', `${def.name}() cannot be used as a window function.`)
  if (args.length < def.min || args.length > def.max) {
    const expected = def.min === def.max ? `${def.min}` : `${def.min} to ${def.max}`
    return fail(ctx, 'query', `${def.name}() takes ${expected} argument(s), got ${args.length}.`)
  }
  const values = def.raw ? [] : args.map((arg) => translate(arg, scope))
  return def.impl({ ctx, scope, name: def.name, args, values, distinct, over, translate })
}
