// From query text to one SELECT's syntax tree, with the first checks in
// Unkey's order: length, syntax, one statement. Before the parser runs, a
// linear scan bounds the work it can be made to do: node-sql-parser is a
// recursive-descent parser whose time and stack grow with nesting, so a query
// with too many tokens or too deep a nesting is refused up front (fast, and
// never a stack overflow).
// A CommonJS build whose exports are assigned in a loop, which Deno cannot see as named exports: take them from the default.
import postgresqlParser from 'node-sql-parser/build/postgresql.js'
import type { Node } from './ast'
import { invalidQuery, invalidQueryType } from './errors'

export interface ParseLimits {
  /** Bytes of UTF-8 text (upstream: 16 KiB). */
  maxQueryBytes: number
  /** Lexical tokens: bounds the parser's time. */
  maxTokens: number
  /** Nesting of brackets and CASE ... END: bounds the parser's stack. */
  maxNesting: number
}

const parser = new postgresqlParser.Parser()

interface Measure {
  tokens: number
  nesting: number
  settings: boolean
  /** The first word, upper-cased: names the statement when the parser cannot. */
  firstWord: string | null
  /** Word tokens with their place in the token sequence, for the INTERVAL rewrite. */
  words: { start: number; end: number; word: string; index: number }[]
}

// Units ClickHouse accepts after `INTERVAL n` that the PostgreSQL grammar does not know as keywords.
const STRING_INTERVAL_UNITS = new Set(['WEEK', 'QUARTER', 'MILLISECOND', 'MICROSECOND', 'NANOSECOND'])

/**
 * `INTERVAL 2 WEEK` → `INTERVAL '2 WEEK'` (a form the grammar reads, with the same meaning), found
 * on the lexer's tokens, so nothing inside a string, identifier or comment is touched.
 */
function spellIntervals(text: string, words: Measure['words']): string {
  let out = text
  for (let k = words.length - 3; k >= 0; k--) {
    const [interval, count, unit] = [words[k]!, words[k + 1]!, words[k + 2]!]
    if (interval.word !== 'INTERVAL' || !/^\d+$/.test(count.word) || !STRING_INTERVAL_UNITS.has(unit.word)) continue
    if (count.index !== interval.index + 1 || unit.index !== count.index + 1) continue
    out = `${out.slice(0, count.start)}'${count.word} ${unit.word}'${out.slice(unit.end)}`
  }
  return out
}

// ClickHouse statements other than SELECT (and SQLite's PRAGMA): the parser knows few of them, Unkey refuses them by type.
const OTHER_STATEMENTS = new Set(
  'INSERT UPDATE DELETE DROP ALTER CREATE TRUNCATE GRANT REVOKE ATTACH DETACH RENAME OPTIMIZE SYSTEM KILL SET USE SHOW DESCRIBE DESC EXPLAIN CHECK REPLACE EXCHANGE UNDROP BACKUP RESTORE WATCH MOVE PRAGMA VACUUM ANALYZE REINDEX BEGIN COMMIT ROLLBACK'.split(
    ' ',
  ),
)

const isWordChar = (code: number): boolean =>
  (code >= 48 && code <= 57) || (code >= 65 && code <= 90) || (code >= 97 && code <= 122) || code === 95 || code === 36 || code > 127

/** Counts tokens and nesting the way any SQL lexer would see them (quotes and comments skipped), stopping past the limits. */
export function measureQuery(text: string, limits: ParseLimits): Measure {
  const measure: Measure = { tokens: 0, nesting: 0, settings: false, firstWord: null, words: [] }
  let depth = 0
  let i = 0
  const skipQuoted = (quote: string) => {
    for (i++; i < text.length; i++) {
      if (text[i] === '\\') i++
      else if (text[i] === quote) {
        if (text[i + 1] !== quote) return
        i++
      }
    }
  }
  while (i < text.length && measure.tokens <= limits.maxTokens && measure.nesting <= limits.maxNesting) {
    const ch = text[i]!
    const code = text.charCodeAt(i)
    if (ch === ' ' || ch === '\n' || ch === '\t' || ch === '\r') {
      i++
      continue
    }
    if ((ch === '-' && text[i + 1] === '-') || ch === '#') {
      const end = text.indexOf('\n', i)
      i = end === -1 ? text.length : end + 1
      continue
    }
    if (ch === '/' && text[i + 1] === '*') {
      const end = text.indexOf('*/', i + 2)
      i = end === -1 ? text.length : end + 2
      continue
    }
    measure.tokens++
    if (ch === "'" || ch === '"' || ch === '`') {
      skipQuoted(ch)
      i++
    } else if (isWordChar(code)) {
      const start = i
      while (i < text.length && isWordChar(text.charCodeAt(i))) i++
      const word = text.slice(start, i).toUpperCase()
      measure.words.push({ start, end: i, word, index: measure.tokens })
      if (measure.tokens === 1) measure.firstWord = word
      if (word === 'CASE') depth++
      else if (word === 'END') depth = Math.max(0, depth - 1)
      else if (word === 'SETTINGS') measure.settings = true
    } else {
      if (ch === '(' || ch === '[') depth++
      else if (ch === ')' || ch === ']') depth = Math.max(0, depth - 1)
      i++
    }
    measure.nesting = Math.max(measure.nesting, depth)
  }
  return measure
}

/** The query's one statement, or the 400 that says why there is none. */
export function parseQuery(text: string, limits: ParseLimits): Node {
  if (text.trim() === '') throw invalidQuery('The query is empty.')
  const bytes = Buffer.byteLength(text, 'utf8')
  if (bytes > limits.maxQueryBytes) throw invalidQuery(`The query is ${bytes} bytes long; at most ${limits.maxQueryBytes} are allowed.`)
  const measure = measureQuery(text, limits)
  if (measure.tokens > limits.maxTokens) throw invalidQuery(`The query is too complex: more than ${limits.maxTokens} tokens.`)
  if (measure.nesting > limits.maxNesting) throw invalidQuery(`The query is too complex: nested more than ${limits.maxNesting} levels deep.`)
  let result: unknown
  try {
    result = parser.astify(spellIntervals(text, measure.words), { database: 'postgresql' })
  } catch (error) {
    if (measure.firstWord && OTHER_STATEMENTS.has(measure.firstWord)) throw invalidQueryType(`Only SELECT queries are allowed; this is ${measure.firstWord}.`)
    if (measure.settings) throw invalidQuery('SETTINGS is not allowed: the server decides query settings.')
    if (error instanceof RangeError) throw invalidQuery('The query is too complex: nested too deeply.')
    const location = (error as { location?: { start?: { line?: number; column?: number } } }).location?.start
    const found = (error as { found?: unknown }).found
    const where = location ? ` at line ${location.line}, column ${location.column}` : ''
    throw invalidQuery(`Syntax error${where}${typeof found === 'string' ? `: unexpected "${found}"` : ''}.`)
  }
  const statements = (Array.isArray(result) ? result : [result]).filter((statement): statement is Node => typeof statement === 'object' && statement !== null)
  if (statements.length === 0) throw invalidQuery('The query is empty.')
  if (statements.length > 1) throw invalidQuery(`The query holds ${statements.length} statements; send exactly one SELECT.`)
  return statements[0]!
}
