// Reading node-sql-parser's syntax tree (its PostgreSQL grammar, the one that
// accepts the ClickHouse SELECTs Unkey documents): node shapes, names of
// columns, tables and functions, and literal values with ClickHouse's string
// escapes. Everything that inspects the tree goes through these helpers.

// The parser's own types are loose and partly wrong; a node is read field by field.
export type Node = Record<string, any>

export const isNode = (value: unknown): value is Node => typeof value === 'object' && value !== null && !Array.isArray(value)

/** A subquery in expression or FROM position: `{ ast: <select> }` (no `type` of its own). */
export const subqueryOf = (node: Node): Node | null => (isNode(node.ast) && node.type === undefined ? node.ast : null)

/** The text of a name part: a plain string, or `{ type, value }` for quoted and unquoted identifiers. */
export function nameText(part: unknown): string | null {
  if (typeof part === 'string') return part
  if (isNode(part) && typeof part.value === 'string') return part.value
  return null
}

export interface ColumnName {
  table: string | null
  column: string // '*' for a star
}

export function columnName(ref: Node): ColumnName | null {
  const table = ref.table === null || ref.table === undefined ? null : nameText(ref.table)
  if (ref.table != null && table === null) return null
  if (ref.column === '*') return { table, column: '*' }
  const column = isNode(ref.column) ? nameText(ref.column.expr) : nameText(ref.column)
  return column === null ? null : { table, column }
}

/** `name(args)` of a function node; a schema-qualified name keeps its dots, so it never matches the allow-list. */
export function functionName(node: Node): string | null {
  if (node.type === 'aggr_func') return typeof node.name === 'string' ? node.name : null
  const parts: unknown[] = Array.isArray(node.name?.name) ? node.name.name : []
  const schema = nameText(node.name?.schema)
  const names = parts.map(nameText)
  if (names.length === 0 || names.some((n) => n === null)) return null
  return [...(schema ? [schema] : []), ...names].join('.')
}

const STRING_TYPES = new Set(['single_quote_string', 'string', 'natural_string', 'var_string'])

export type Literal = { kind: 'string'; value: string } | { kind: 'number'; value: number } | { kind: 'bool'; value: boolean } | { kind: 'null' }

/** The value of a literal node, or null when the node is not a literal latch accepts. */
export function literalOf(node: Node): Literal | null {
  if (STRING_TYPES.has(node.type) && typeof node.value === 'string') return { kind: 'string', value: unescapeString(node.value) }
  if (node.type === 'number' || node.type === 'bigint') {
    const value = Number(node.value)
    return Number.isFinite(value) ? { kind: 'number', value } : null
  }
  if (node.type === 'bool' || node.type === 'boolean') return { kind: 'bool', value: node.value === true || node.value === 'TRUE' }
  if (node.type === 'null') return { kind: 'null' }
  return null
}

const ESCAPES: Record<string, string> = { n: '\n', t: '\t', r: '\r', '0': '\0', b: '\b', f: '\f', a: '\x07', v: '\v' }

/** ClickHouse string escapes: `''` and backslash sequences (`\'`, `\\`, `\n`, `\xHH`, ...). */
export function unescapeString(raw: string): string {
  let out = ''
  for (let i = 0; i < raw.length; i++) {
    const ch = raw[i]!
    if (ch === "'" && raw[i + 1] === "'") {
      out += "'"
      i++
    } else if (ch === '\\' && i + 1 < raw.length) {
      const next = raw[++i]!
      if (next === 'x' && /^[0-9a-fA-F]{2}$/.test(raw.slice(i + 1, i + 3))) {
        out += String.fromCharCode(Number.parseInt(raw.slice(i + 1, i + 3), 16))
        i += 2
      } else out += ESCAPES[next] ?? next
    } else out += ch
  }
  return out
}

/** The SELECTs of a set operation (`a UNION ALL b EXCEPT c`), in order, with the operator that joins each to the next. */
export function setBranches(select: Node): { select: Node; op: string | null }[] {
  const branches: { select: Node; op: string | null }[] = []
  for (let s: Node | undefined = select; s; s = s._next) branches.push({ select: s, op: s._next ? String(s.set_op ?? '') : null })
  return branches
}

/** Whether a clause holds something: the parser fills absent clauses with null, `[]` or `{ value: [] }`. */
export function present(clause: unknown): boolean {
  if (clause === null || clause === undefined) return false
  if (Array.isArray(clause)) return clause.length > 0
  if (isNode(clause) && 'value' in clause && Array.isArray(clause.value)) return clause.value.length > 0
  return true
}
