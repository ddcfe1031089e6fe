// The permission query language of keys.verifyKey's `permissions` field:
//   expr    := and ("OR" and)*
//   and     := primary ("AND" primary)*
//   primary := permission | "(" expr ")"
// AND binds tighter than OR; the operators are case-insensitive and only count
// as words of their own ("ANDROID" is a permission). A permission is a run of
// letters, digits and . _ - * : / and is matched literally (a `*` is not a
// glob). Positions in error messages are 0-based offsets into the input.

export type PermissionQuery = { op: 'and' | 'or'; items: PermissionQuery[] } | { permission: string }

export class PermissionQuerySyntaxError extends Error {
  constructor(
    message: string,
    /** 0-based offset into the query where the problem was found. */
    readonly position: number,
  ) {
    super(message)
    this.name = 'PermissionQuerySyntaxError'
  }
}

/** Deeper nesting is refused, so that no input can exhaust the stack. */
export const MAX_QUERY_DEPTH = 100

type Token =
  | { kind: 'permission'; text: string; position: number }
  | { kind: 'and' | 'or' | 'open' | 'close'; text: string; position: number }
  | { kind: 'end'; text: ''; position: number }

const IDENTIFIER_CHAR = /[A-Za-z0-9._\-*:/]/
const WHITESPACE = /\s/

function tokenize(input: string): Token[] {
  const tokens: Token[] = []
  let i = 0
  while (i < input.length) {
    const c = input[i]!
    if (WHITESPACE.test(c)) {
      i++
    } else if (c === '(' || c === ')') {
      tokens.push({ kind: c === '(' ? 'open' : 'close', text: c, position: i })
      i++
    } else if (IDENTIFIER_CHAR.test(c)) {
      const start = i
      while (i < input.length && IDENTIFIER_CHAR.test(input[i]!)) i++
      const text = input.slice(start, i)
      const upper = text.toUpperCase()
      if (upper === 'AND') tokens.push({ kind: 'and', text, position: start })
      else if (upper === 'OR') tokens.push({ kind: 'or', text, position: start })
      else tokens.push({ kind: 'permission', text, position: start })
    } else {
      const char = String.fromCodePoint(input.codePointAt(i)!)
      throw new PermissionQuerySyntaxError(
        `Invalid character '${char}' at position ${i}. Permissions may only contain letters, digits and the characters . _ - * : /; combine them with AND, OR and parentheses.`,
        i,
      )
    }
  }
  tokens.push({ kind: 'end', text: '', position: input.length })
  return tokens
}

const describe = (t: Token) => (t.kind === 'end' ? 'end of query' : `'${t.text}'`)

class Parser {
  private at = 0

  constructor(private readonly tokens: Token[]) {}

  private peek(): Token {
    return this.tokens[this.at]!
  }

  private next(): Token {
    return this.tokens[this.at++]!
  }

  parse(): PermissionQuery {
    const query = this.expr(0)
    const extra = this.peek()
    if (extra.kind !== 'end') {
      const hint = extra.kind === 'close' ? ' There is no opening parenthesis it could close.' : ''
      throw new PermissionQuerySyntaxError(
        `Unexpected ${describe(extra)} at position ${extra.position} after a complete expression; expected AND, OR or the end of the query.${hint}`,
        extra.position,
      )
    }
    return query
  }

  private expr(depth: number): PermissionQuery {
    const items = [this.and(depth)]
    while (this.peek().kind === 'or') {
      this.next()
      items.push(this.and(depth))
    }
    return items.length === 1 ? items[0]! : { op: 'or', items }
  }

  private and(depth: number): PermissionQuery {
    const items = [this.primary(depth)]
    while (this.peek().kind === 'and') {
      this.next()
      items.push(this.primary(depth))
    }
    return items.length === 1 ? items[0]! : { op: 'and', items }
  }

  private primary(depth: number): PermissionQuery {
    const token = this.next()
    switch (token.kind) {
      case 'permission':
        return { permission: token.text }
      case 'open': {
        if (depth >= MAX_QUERY_DEPTH) {
          throw new PermissionQuerySyntaxError(
            `Too many nested parentheses at position ${token.position}; at most ${MAX_QUERY_DEPTH} levels are allowed.`,
            token.position,
          )
        }
        const inside = this.peek()
        if (inside.kind === 'close') {
          throw new PermissionQuerySyntaxError(
            `Empty parentheses at position ${token.position}; put a permission or an expression between '(' and ')'.`,
            token.position,
          )
        }
        const query = this.expr(depth + 1)
        const close = this.next()
        if (close.kind !== 'close') {
          throw new PermissionQuerySyntaxError(
            `Missing closing parenthesis ')' at position ${close.position} for the '(' at position ${token.position}; found ${describe(close)}.`,
            close.position,
          )
        }
        return query
      }
      case 'end':
        throw new PermissionQuerySyntaxError(`Unexpected end of query at position ${token.position}; expected a permission or '('.`, token.position)
      default:
        throw new PermissionQuerySyntaxError(`Unexpected ${describe(token)} at position ${token.position}; expected a permission or '('.`, token.position)
    }
  }
}

/** Parses a permission query; throws PermissionQuerySyntaxError naming the position and what was expected. */
export function parsePermissionQuery(input: string): PermissionQuery {
  return new Parser(tokenize(input)).parse()
}

/** True when a key whose permissions are described by `has` satisfies `q`. */
export function evaluatePermissionQuery(q: PermissionQuery, has: (slug: string) => boolean): boolean {
  if ('permission' in q) return has(q.permission)
  return q.op === 'and' ? q.items.every((item) => evaluatePermissionQuery(item, has)) : q.items.some((item) => evaluatePermissionQuery(item, has))
}
