// The SQL engine a compiled query runs on: SQLite (the single-node store) or
// PostgreSQL (cluster mode). The translation is the same; the pieces whose
// spelling differs come from here. SQLite's are exactly what the compiler has
// always written. PostgreSQL's keep SQLite's (and ClickHouse's) results:
// conditions are booleans there, so a condition used as a value becomes 0/1
// (and a value used as a condition is compared with 0); integer casts
// truncate (PostgreSQL would round); division and modulo by zero are NULL
// (PostgreSQL would fail); JSON arrays are text cast to json; time arithmetic
// goes through timestamps in UTC. Values are never spliced in either dialect:
// they stay bound parameters.

/** One piece of a formatDateTime pattern: text as it is, or a specifier letter (after `%`). */
export type FormatPiece = { text: string } | { spec: string }

export interface Dialect {
  readonly name: 'sqlite' | 'postgres'
  /** The n-th (1-based) bound parameter. */
  placeholder(n: number): string
  /** A condition (comparison, IN, EXISTS, ...) as a value: 0, 1 or NULL. */
  truth(condition: string): string
  /** A value (0/1, or any number) as a condition. */
  test(value: string): string
  /** Always true, for a join without ON. */
  readonly always: string
  real(x: string): string
  /** Truncated toward zero, as an integer wide enough for unix ms. */
  integer(x: string): string
  /** A value as text (for string functions over a number). */
  text(x: string): string
  byteLength(x: string): string
  /** round(x, places) as a number. */
  round(x: string, places: number): string
  divide(l: string, r: string): string
  modulo(l: string, r: string): string
  /** A FROM item over the elements of a JSON array text, each as `<ref>.value`. */
  jsonEach(array: string, ref: string): string
  /** The JSON array text of an aggregate over `element` ('[]' over no rows). */
  jsonGroupArray(element: string, distinct: boolean, over: string): string
  /** How an array value (JSON text) enters jsonGroupArray, so that it stays an array. */
  jsonArrayElement(array: string): string
  jsonArrayLength(array: string): string
  /** One comparable value of several (for a distinct count over columns). */
  tuple(values: string[]): string
  /** The string at a JSON path (keys: names, or 1-based indexes, negative from the end), '' unless it is a string. */
  jsonExtractString(json: string, keys: (string | number)[], bind: (value: string) => string): string
  endsWith(s: string, p: string): string
  /** Case-sensitive LIKE with ClickHouse's pattern (`%`, `_`, backslash escapes). */
  like(left: string, pattern: string, negate: boolean, bind: (value: string) => string): string
  ilike(left: string, pattern: string, negate: boolean): string
  /** The start of the calendar month, quarter or year holding unix ms `ms`, as unix ms. */
  startOfCalendar(ms: string, unit: 'month' | 'quarter' | 'year'): string
  /** `ms` plus `months` calendar months (clamped to the month's last day), as unix ms. */
  addMonths(ms: string, months: string): string
  /** A date-time string read as unix ms at second precision, NULL when it is not one. */
  parseTime(text: string): string
  /** ClickHouse's text of a time: `YYYY-MM-DD hh:mm:ss`, or `YYYY-MM-DD`. */
  formatTime(ms: string, dateOnly: boolean): string
  /** formatDateTime with the pieces of its pattern (specifiers already checked against FORMAT_SPECIFIERS). */
  formatDateTime(ms: string, pieces: FormatPiece[], bind: (value: string) => string): string
  /** Turns the backtick-quoted identifiers of the compiler into this dialect's. */
  identifiers(sql: string): string
}

/** The formatDateTime specifiers both dialects render as ClickHouse does, and SQLite's strftime spelling of each. */
export const FORMAT_SPECIFIERS: Record<string, string> = {
  Y: '%Y',
  m: '%m',
  d: '%d',
  e: '%e',
  H: '%H',
  k: '%k',
  I: '%I',
  l: '%l',
  i: '%M',
  S: '%S',
  s: '%S',
  p: '%p',
  F: '%Y-%m-%d',
  T: '%H:%M:%S',
  R: '%H:%M',
  j: '%j',
  u: '%u',
  w: '%w',
  V: '%V',
  G: '%G',
  n: '\n',
  t: '\t',
  '%': '%%',
}

/** `%` → `*`, `_` → `?`, `\x` → x literally; GLOB's own `*?[` are escaped as one-character classes. */
export function likeToGlob(pattern: string): string {
  let glob = ''
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i]!
    const literal = ch === '\\' && i + 1 < pattern.length ? pattern[++i]! : null
    if (literal === null && ch === '%') glob += '*'
    else if (literal === null && ch === '_') glob += '?'
    else {
      const c = literal ?? ch
      glob += c === '*' || c === '?' || c === '[' ? `[${c}]` : c
    }
  }
  return glob
}

export const SQLITE: Dialect = {
  name: 'sqlite',
  placeholder: (n) => `?${n}`,
  truth: (condition) => condition,
  test: (value) => value,
  always: '1',
  real: (x) => `CAST(${x} AS REAL)`,
  integer: (x) => `CAST(${x} AS INTEGER)`,
  text: (x) => x,
  byteLength: (x) => `length(CAST(${x} AS BLOB))`,
  round: (x, places) => `round(${x}, ${places})`,
  divide: (l, r) => `(CAST(${l} AS REAL) / ${r})`,
  modulo: (l, r) => `(${l} % ${r})`,
  jsonEach: (array, ref) => `json_each(${array}) AS \`${ref}\``,
  jsonGroupArray: (element, distinct, over) => `json_group_array(${distinct ? 'DISTINCT ' : ''}${element})${over}`,
  jsonArrayElement: (array) => `json(${array})`,
  jsonArrayLength: (array) => `json_array_length(${array})`,
  tuple: (values) => `json_array(${values.join(', ')})`,
  jsonExtractString(json, keys, bind) {
    let path = '$'
    for (const key of keys) path += typeof key === 'number' ? (key > 0 ? `[${key - 1}]` : `[#${key}]`) : `."${key}"`
    const p = bind(path)
    return `(CASE WHEN json_valid(${json}) AND json_type(${json}, ${p}) = 'text' THEN json_extract(${json}, ${p}) ELSE '' END)`
  },
  endsWith: (s, p) => `(length(${p}) = 0 OR substr(${s}, -length(${p})) = ${p})`,
  like: (left, pattern, negate, bind) => `(${left} ${negate ? 'NOT ' : ''}GLOB ${bind(likeToGlob(pattern))})`,
  ilike: (left, pattern, negate) => `(${left} ${negate ? 'NOT ' : ''}LIKE ${pattern} ESCAPE '\\')`,
  startOfCalendar(ms, unit) {
    const seconds = `CAST(${ms} AS INTEGER) / 1000, 'unixepoch'`
    if (unit === 'month') return `(unixepoch(${seconds}, 'start of month') * 1000)`
    if (unit === 'year') return `(unixepoch(${seconds}, 'start of year') * 1000)`
    return `(unixepoch(${seconds}, 'start of month', format('-%d months', (CAST(strftime('%m', ${seconds}) AS INTEGER) - 1) % 3)) * 1000)`
  },
  addMonths(ms, months) {
    const int = `CAST(${ms} AS INTEGER)`
    return `(unixepoch(${int} / 1000, 'unixepoch', format('%+d months', ${months}), 'floor') * 1000 + ${int} % 1000)`
  },
  parseTime: (text) => `(unixepoch(${text}) * 1000)`,
  formatTime: (ms, dateOnly) => `strftime('${dateOnly ? '%Y-%m-%d' : '%Y-%m-%d %H:%M:%S'}', CAST(${ms} AS INTEGER) / 1000, 'unixepoch')`,
  formatDateTime(ms, pieces, bind) {
    const pattern = pieces.map((piece) => ('text' in piece ? piece.text : FORMAT_SPECIFIERS[piece.spec])).join('')
    return `strftime(${bind(pattern)}, CAST(${ms} AS INTEGER) / 1000, 'unixepoch')`
  },
  identifiers: (sql) => sql,
}

/** A unix-ms expression as a UTC timestamp (second precision, as SQLite's 'unixepoch'). */
const timestamp = (ms: string) => `(to_timestamp(trunc(CAST(${ms} AS numeric) / 1000)) AT TIME ZONE 'UTC')`
/** A timestamp back to unix ms. */
const epochMs = (ts: string) => `CAST(extract(epoch FROM ${ts}) * 1000 AS bigint)`
const padded = (ts: string, format: string) => `lpad(to_char(${ts}, '${format}'), 2, ' ')`

/** to_char patterns of the formatDateTime specifiers (%e %k %l pad with a space; %w counts from Sunday = 0). */
const TO_CHAR: Record<string, (ts: string) => string> = {
  Y: (ts) => `to_char(${ts}, 'YYYY')`,
  m: (ts) => `to_char(${ts}, 'MM')`,
  d: (ts) => `to_char(${ts}, 'DD')`,
  e: (ts) => padded(ts, 'FMDD'),
  H: (ts) => `to_char(${ts}, 'HH24')`,
  k: (ts) => padded(ts, 'FMHH24'),
  I: (ts) => `to_char(${ts}, 'HH12')`,
  l: (ts) => padded(ts, 'FMHH12'),
  i: (ts) => `to_char(${ts}, 'MI')`,
  S: (ts) => `to_char(${ts}, 'SS')`,
  s: (ts) => `to_char(${ts}, 'SS')`,
  p: (ts) => `to_char(${ts}, 'AM')`,
  F: (ts) => `to_char(${ts}, 'YYYY-MM-DD')`,
  T: (ts) => `to_char(${ts}, 'HH24:MI:SS')`,
  R: (ts) => `to_char(${ts}, 'HH24:MI')`,
  j: (ts) => `to_char(${ts}, 'DDD')`,
  u: (ts) => `to_char(${ts}, 'ID')`,
  w: (ts) => `CAST(extract(dow FROM ${ts}) AS int)::text`,
  V: (ts) => `to_char(${ts}, 'IW')`,
  G: (ts) => `to_char(${ts}, 'IYYY')`,
}
const LITERAL_SPECIFIERS: Record<string, string> = { n: '\n', t: '\t', '%': '%' }

export const POSTGRES: Dialect = {
  name: 'postgres',
  placeholder: (n) => `$${n}`,
  truth: (condition) => `CAST(${condition} AS int)`,
  test: (value) => `((${value}) <> 0)`,
  always: 'true',
  real: (x) => `CAST(${x} AS double precision)`,
  integer: (x) => `CAST(trunc(CAST(${x} AS numeric)) AS bigint)`,
  text: (x) => `CAST(${x} AS text)`,
  byteLength: (x) => `octet_length(CAST(${x} AS text))`,
  round: (x, places) => `round(CAST(${x} AS numeric), ${places})`,
  divide: (l, r) => `(CAST(${l} AS double precision) / NULLIF(${r}, 0))`,
  modulo: (l, r) => `(CAST(${l} AS numeric) % NULLIF(CAST(${r} AS numeric), 0))`,
  jsonEach: (array, ref) => `json_array_elements_text(CAST(${array} AS json)) AS \`${ref}\`(value)`,
  jsonGroupArray: (element, distinct, over) => `CAST(coalesce(json_agg(${distinct ? 'DISTINCT ' : ''}${element})${over}, '[]') AS text)`,
  jsonArrayElement: (array) => `CAST(${array} AS jsonb)`,
  jsonArrayLength: (array) => `json_array_length(CAST(${array} AS json))`,
  tuple: (values) => `jsonb_build_array(${values.join(', ')})`,
  jsonExtractString(json, keys, bind) {
    const path = keys.map((key) => bind(typeof key === 'number' ? String(key > 0 ? key - 1 : key) : key))
    return `latch_json_string(CAST(${json} AS text), ARRAY[${path.join(', ')}]::text[])`
  },
  endsWith: (s, p) => `(right(${s}, length(${p})) = ${p})`,
  like: (left, pattern, negate, bind) => `(CAST(${left} AS text) ${negate ? 'NOT ' : ''}LIKE ${bind(pattern)} ESCAPE '\\')`,
  ilike: (left, pattern, negate) => `(CAST(${left} AS text) ${negate ? 'NOT ' : ''}ILIKE ${pattern} ESCAPE '\\')`,
  startOfCalendar: (ms, unit) => epochMs(`date_trunc('${unit}', ${timestamp(ms)})`),
  addMonths: (ms, months) =>
    `(${epochMs(`(${timestamp(ms)} + make_interval(months => CAST(trunc(CAST(${months} AS numeric)) AS int)))`)} + mod(CAST(${ms} AS bigint), 1000))`,
  parseTime: (text) => `latch_parse_time(CAST(${text} AS text))`,
  formatTime: (ms, dateOnly) => `to_char(${timestamp(ms)}, '${dateOnly ? 'YYYY-MM-DD' : 'YYYY-MM-DD HH24:MI:SS'}')`,
  formatDateTime(ms, pieces, bind) {
    const ts = timestamp(ms)
    const parts = pieces.map((piece) => {
      if ('text' in piece) return bind(piece.text)
      const literal = LITERAL_SPECIFIERS[piece.spec]
      return literal === undefined ? TO_CHAR[piece.spec]!(ts) : bind(literal)
    })
    return parts.length ? `(${parts.join(' || ')})` : "''"
  },
  // Only generated and catalogue names are ever quoted, and values are bound, so every backtick is a quote.
  identifiers: (sql) => sql.replaceAll('`', '"'),
}

export const DIALECTS = { sqlite: SQLITE, postgres: POSTGRES } as const
