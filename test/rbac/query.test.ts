import { describe, expect, test } from 'bun:test'
import fc from 'fast-check'
import { evaluatePermissionQuery, MAX_QUERY_DEPTH, parsePermissionQuery, PermissionQuerySyntaxError, type PermissionQuery } from '../../src/rbac/query'

const p = (permission: string): PermissionQuery => ({ permission })
const and = (...items: PermissionQuery[]): PermissionQuery => ({ op: 'and', items })
const or = (...items: PermissionQuery[]): PermissionQuery => ({ op: 'or', items })

function syntaxError(input: string): PermissionQuerySyntaxError {
  try {
    parsePermissionQuery(input)
  } catch (e) {
    if (e instanceof PermissionQuerySyntaxError) return e
    throw e
  }
  throw new Error(`'${input}' parsed, but a syntax error was expected`)
}

describe('parsePermissionQuery: well-formed queries', () => {
  test.each<[string, PermissionQuery]>([
    ['documents.read', p('documents.read')],
    ['  documents.read  ', p('documents.read')],
    ['a AND b', and(p('a'), p('b'))],
    ['a OR b', or(p('a'), p('b'))],
    ['a and b or c', or(and(p('a'), p('b')), p('c'))],
    ['a OR b AND c', or(p('a'), and(p('b'), p('c')))],
    ['a AND b AND c', and(p('a'), p('b'), p('c'))],
    ['(a OR b) AND c', and(or(p('a'), p('b')), p('c'))],
    ['((a))', p('a')],
    ['(a)AND(b)', and(p('a'), p('b'))],
    ['a\tAnD\nb', and(p('a'), p('b'))],
    ['api.*.read AND admin:* OR files/**', or(and(p('api.*.read'), p('admin:*')), p('files/**'))],
    ['ANDROID OR ORACLE', or(p('ANDROID'), p('ORACLE'))],
    ['and.read AND or-write', and(p('and.read'), p('or-write'))],
    ['*', p('*')],
  ])('%p', (input, expected) => {
    expect(parsePermissionQuery(input)).toEqual(expected)
  })
})

describe('parsePermissionQuery: syntax errors name the position and what was expected', () => {
  test.each<[string, number, string]>([
    ['', 0, "Unexpected end of query at position 0; expected a permission or '('."],
    ['   ', 3, "Unexpected end of query at position 3; expected a permission or '('."],
    ['a AND', 5, "Unexpected end of query at position 5; expected a permission or '('."],
    ['a OR ', 5, "Unexpected end of query at position 5; expected a permission or '('."],
    ['AND a', 0, "Unexpected 'AND' at position 0; expected a permission or '('."],
    ['a AND or b', 6, "Unexpected 'or' at position 6; expected a permission or '('."],
    [')', 0, "Unexpected ')' at position 0; expected a permission or '('."],
    ['a ()', 2, "Unexpected '(' at position 2 after a complete expression; expected AND, OR or the end of the query."],
    ['()', 0, "Empty parentheses at position 0; put a permission or an expression between '(' and ')'."],
    ['a AND ( )', 6, "Empty parentheses at position 6; put a permission or an expression between '(' and ')'."],
    ['(a AND b', 8, "Missing closing parenthesis ')' at position 8 for the '(' at position 0; found end of query."],
    ['(a b)', 3, "Missing closing parenthesis ')' at position 3 for the '(' at position 0; found 'b'."],
    ['a b', 2, "Unexpected 'b' at position 2 after a complete expression; expected AND, OR or the end of the query."],
    [
      'a)',
      1,
      "Unexpected ')' at position 1 after a complete expression; expected AND, OR or the end of the query. There is no opening parenthesis it could close.",
    ],
    [
      'documents.read & x',
      15,
      "Invalid character '&' at position 15. Permissions may only contain letters, digits and the characters . _ - * : /; combine them with AND, OR and parentheses.",
    ],
    [
      'a || b',
      2,
      "Invalid character '|' at position 2. Permissions may only contain letters, digits and the characters . _ - * : /; combine them with AND, OR and parentheses.",
    ],
    [
      'café',
      3,
      "Invalid character 'é' at position 3. Permissions may only contain letters, digits and the characters . _ - * : /; combine them with AND, OR and parentheses.",
    ],
  ])('%p fails at %d', (input, position, message) => {
    const error = syntaxError(input)
    expect(error.position).toBe(position)
    expect(error.message).toBe(message)
    expect(error).toBeInstanceOf(Error)
    expect(error.name).toBe('PermissionQuerySyntaxError')
  })

  test('nesting is limited, so deep input cannot exhaust the stack', () => {
    const ok = '('.repeat(MAX_QUERY_DEPTH) + 'a' + ')'.repeat(MAX_QUERY_DEPTH)
    expect(parsePermissionQuery(ok)).toEqual(p('a'))
    const deep = '('.repeat(100_000) + 'a' + ')'.repeat(100_000)
    const error = syntaxError(deep)
    expect(error.position).toBe(MAX_QUERY_DEPTH)
    expect(error.message).toBe(`Too many nested parentheses at position ${MAX_QUERY_DEPTH}; at most ${MAX_QUERY_DEPTH} levels are allowed.`)
  })

  test('a very long flat query parses without recursion', () => {
    const slugs = Array.from({ length: 20_000 }, (_, i) => `perm.${i}`)
    const q = parsePermissionQuery(slugs.join(' OR '))
    expect(q).toEqual({ op: 'or', items: slugs.map(p) })
  })
})

describe('evaluatePermissionQuery', () => {
  const has = (granted: string[]) => (slug: string) => granted.includes(slug)

  test.each<[string, string[], boolean]>([
    ['a', ['a'], true],
    ['a', ['b'], false],
    ['a AND b', ['a'], false],
    ['a AND b', ['a', 'b'], true],
    ['a OR b', ['b'], true],
    ['a OR b', [], false],
    ['a OR b AND c', ['a'], true],
    ['a OR b AND c', ['b'], false],
    ['(a OR b) AND c', ['a'], false],
    ['(a OR b) AND c', ['b', 'c'], true],
    // `*` is a literal character, not a glob.
    ['api.*.read', ['api.1.read'], false],
    ['api.*.read', ['api.*.read'], true],
    ['api.1.read', ['api.*.read'], false],
  ])('%p with %p is %p', (query, granted, expected) => {
    expect(evaluatePermissionQuery(parsePermissionQuery(query), has(granted))).toBe(expected)
  })
})

// ---- properties ----------------------------------------------------------------

/** A query tree plus how to spell it: operator casing, whitespace, redundant parentheses. */
type Tree = { kind: 'leaf'; slug: string; paren: boolean } | { kind: 'node'; op: 'and' | 'or'; items: Tree[]; paren: boolean; spelling: string; space: string }

const slug = fc.stringMatching(/^[A-Za-z0-9._\-*:/]{1,10}$/).filter((s) => !['AND', 'OR'].includes(s.toUpperCase()))
const spellings = { and: ['AND', 'and', 'And', 'aNd'], or: ['OR', 'or', 'Or', 'oR'] }
const space = fc.constantFrom(' ', '  ', '\t', '\n', ' \r\n ')

const { tree } = fc.letrec<{ tree: Tree; leaf: Tree; node: Tree }>((tie) => ({
  tree: fc.oneof({ depthSize: 'small', withCrossShrink: true }, tie('leaf'), tie('node')),
  leaf: fc.record({ kind: fc.constant('leaf' as const), slug, paren: fc.boolean() }),
  node: fc
    .record({
      kind: fc.constant('node' as const),
      op: fc.constantFrom('and' as const, 'or' as const),
      items: fc.array(tie('tree'), { minLength: 1, maxLength: 4 }),
      paren: fc.boolean(),
      space,
      spellingIndex: fc.nat(3),
    })
    .map(({ spellingIndex, ...n }) => ({ ...n, spelling: spellings[n.op][spellingIndex]! })),
}))

/** The semantics a query must have, independent of the parser. */
function reference(t: Tree, has: (slug: string) => boolean): boolean {
  if (t.kind === 'leaf') return has(t.slug)
  return t.op === 'and' ? t.items.every((i) => reference(i, has)) : t.items.some((i) => reference(i, has))
}

/** The operator a rendered tree shows at its top level, if any. */
function topOperator(t: Tree): 'and' | 'or' | null {
  if (t.kind === 'leaf' || t.paren) return null
  return t.items.length === 1 ? topOperator(t.items[0]!) : t.op
}

function render(t: Tree): string {
  let text: string
  if (t.kind === 'leaf') {
    text = t.slug
  } else {
    text = t.items
      .map((item) => {
        const inner = render(item)
        // OR inside AND needs parentheses to keep its meaning (AND binds tighter).
        const needsParens = t.op === 'and' && topOperator(item) === 'or'
        return needsParens ? `(${inner})` : inner
      })
      .join(`${t.space}${t.spelling}${t.space}`)
  }
  return t.paren ? `(${text})` : text
}

function depthOf(t: Tree): number {
  return (t.paren ? 1 : 0) + (t.kind === 'leaf' ? 0 : 1 + Math.max(...t.items.map(depthOf)))
}

/** A deterministic but salt-dependent set of granted slugs. */
function grantedBy(salt: number) {
  return (s: string) => {
    let h = salt | 0
    for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193)
    return (h >>> 7) % 2 === 0
  }
}

describe('properties', () => {
  test('well-formed queries never throw and evaluate like the reference evaluator', () => {
    fc.assert(
      fc.property(
        tree.filter((t) => depthOf(t) < MAX_QUERY_DEPTH),
        fc.array(fc.integer(), { minLength: 1, maxLength: 8 }),
        (t, salts) => {
          const query = parsePermissionQuery(render(t))
          for (const salt of salts) {
            const has = grantedBy(salt)
            expect(evaluatePermissionQuery(query, has)).toBe(reference(t, has))
          }
          expect(evaluatePermissionQuery(query, () => true)).toBe(true)
          expect(evaluatePermissionQuery(query, () => false)).toBe(false)
        },
      ),
      { numRuns: 500 },
    )
  })

  test('every leaf of a parsed query is exactly a slug from the input', () => {
    const leaves = (q: PermissionQuery): string[] => ('permission' in q ? [q.permission] : q.items.flatMap(leaves))
    const treeLeaves = (t: Tree): string[] => (t.kind === 'leaf' ? [t.slug] : t.items.flatMap(treeLeaves))
    fc.assert(
      fc.property(tree, (t) => {
        expect(leaves(parsePermissionQuery(render(t)))).toEqual(treeLeaves(t))
      }),
      { numRuns: 300 },
    )
  })

  const queryish = fc.string({
    unit: fc.constantFrom('a', 'b', '.', '*', ':', '/', '_', '-', '(', ')', ' ', '\t', 'AND', 'OR', 'and', 'or', '&', '|', '!', 'é', '"', '\u0000'),
    maxLength: 40,
  })

  test.each([
    ['query-like strings', queryish],
    ['printable ASCII', fc.string({ maxLength: 60 })],
    ['any code points', fc.string({ unit: 'binary', maxLength: 60 })],
  ])('random %s either parse or throw PermissionQuerySyntaxError', (_label, strings) => {
    fc.assert(
      fc.property(strings, (input) => {
        let query: PermissionQuery
        try {
          query = parsePermissionQuery(input)
        } catch (e) {
          expect(e).toBeInstanceOf(PermissionQuerySyntaxError)
          const { position } = e as PermissionQuerySyntaxError
          expect(position).toBeGreaterThanOrEqual(0)
          expect(position).toBeLessThanOrEqual(input.length)
          expect((e as Error).message).toContain(`at position ${position}`)
          return
        }
        expect(typeof evaluatePermissionQuery(query, () => true)).toBe('boolean')
      }),
      { numRuns: 1000 },
    )
  })
})
