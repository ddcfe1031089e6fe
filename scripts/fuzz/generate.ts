// Request bodies for scripts/fuzz-http.ts: a plausible body per route, built
// from the route's JSON schema in GET /openapi.json (with the ids the fuzz run
// created over HTTP, so that handlers run, not only validation), then one
// hostile change: wrong types, extra and missing fields, deep nesting, huge
// strings, lone surrogates, `__proto__`, broken JSON. Bodies are JSON text,
// since several of them cannot be written by JSON.stringify. Deterministic for
// a seed.

/** A seeded pseudo-random source (mulberry32). */
export class Rng {
  constructor(private state: number) {}
  next(): number {
    this.state = (this.state + 0x6d2b79f5) | 0
    let t = this.state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
  int(n: number): number {
    return Math.floor(this.next() * n)
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!
  }
  chance(p: number): boolean {
    return this.next() < p
  }
}

/** Ids and names that exist in the fuzzed server, by the body field that takes them. */
export type Known = Record<string, string[]>

/** A JSON schema from the OpenAPI document. */
type Schema = any

const SCALARS: unknown[] = ['', 'x', 'api_00000000', 'key_00000000', '*', '💥', '\u0000', 'a'.repeat(300), 0, -1, 1.5, 2 ** 53, 1e300, -0, true, false, null]

/** A value that fits `schema`, preferring known ids for the field `name`. */
export function plausible(schema: Schema, name: string, known: Known, r: Rng, depth = 0): unknown {
  if (!schema || depth > 6) return null
  const alternatives = schema.anyOf ?? schema.oneOf
  if (alternatives) return plausible(r.pick(alternatives), name, known, r, depth + 1)
  if (known[name]?.length && r.chance(0.85)) return r.pick(known[name]!)
  if (schema.enum) return r.pick(schema.enum)
  if ('const' in schema) return schema.const
  const type = Array.isArray(schema.type) ? r.pick(schema.type) : schema.type
  switch (type) {
    case 'object': {
      const out: Record<string, unknown> = {}
      const required = new Set<string>(schema.required ?? [])
      for (const [key, child] of Object.entries(schema.properties ?? {})) {
        if (required.has(key) || r.chance(0.4)) out[key] = plausible(child, key, known, r, depth + 1)
      }
      if (schema.additionalProperties === true && r.chance(0.5)) out[`k${r.int(100)}`] = r.pick(SCALARS)
      return out
    }
    case 'array': {
      const min = schema.minItems ?? 0
      const count = Math.min(min + r.int(3), schema.maxItems ?? 3)
      return Array.from({ length: count }, () => plausible(schema.items, name, known, r, depth + 1))
    }
    case 'string': {
      const min = schema.minLength ?? 0
      const max = Math.min(schema.maxLength ?? 24, 24)
      return 'fuzz_' + 'abcdefghij'.slice(0, Math.max(0, Math.min(max, min + r.int(8)) - 5))
    }
    case 'integer':
    case 'number': {
      const min = schema.minimum ?? 0
      const max = Math.min(schema.maximum ?? 1000, min + 100_000)
      return min + r.int(max - min + 1)
    }
    case 'boolean':
      return r.chance(0.5)
    case 'null':
      return null
    default:
      return r.pick(SCALARS)
  }
}

/** The containers (objects and arrays) inside `value`, with `value` first. */
function containers(value: unknown): (Record<string, unknown> | unknown[])[] {
  const out: (Record<string, unknown> | unknown[])[] = []
  const stack = [value]
  while (stack.length > 0) {
    const v = stack.pop()
    if (v !== null && typeof v === 'object') {
      out.push(v as Record<string, unknown>)
      stack.push(...Object.values(v))
    }
  }
  return out
}

const MARK = '\u2063fuzz\u2063'

/** `body` as JSON text with one field (or array item) replaced by the text `replacement`, or the body itself if it is empty. */
function plant(body: unknown, r: Rng, replacement: string): string {
  const filled = containers(body).filter((c) => Object.keys(c).length > 0)
  if (filled.length === 0) return replacement
  const target = r.pick(filled) as Record<string, unknown>
  target[r.pick(Object.keys(target))] = MARK
  return JSON.stringify(body).replace(JSON.stringify(MARK), () => replacement)
}

const deep = (r: Rng, levels: number) => (r.chance(0.5) ? `${'['.repeat(levels)}1${']'.repeat(levels)}` : `${'{"a":'.repeat(levels)}1${'}'.repeat(levels)}`)

export interface Body {
  kind: string
  text: string
}

const KINDS: [string, number][] = [
  ['valid', 16],
  ['wrong-type', 14],
  ['extra-field', 8],
  ['missing-field', 8],
  ['null-field', 5],
  ['deep', 7],
  ['huge-string', 5],
  ['surrogate', 5],
  ['proto', 7],
  ['broken-json', 9],
  ['wrong-shape', 5],
  ['numbers', 6],
  ['unicode', 5],
]
const TOTAL = KINDS.reduce((sum, [, w]) => sum + w, 0)

/** A body for a route whose request schema is `schema`. */
export function body(schema: Schema, known: Known, r: Rng): Body {
  let roll = r.int(TOTAL)
  let kind = KINDS[0]![0]
  for (const [name, weight] of KINDS) {
    roll -= weight
    if (roll < 0) {
      kind = name
      break
    }
  }
  const base = plausible(schema ?? { type: 'object' }, 'body', known, r)
  const at = (replacement: string) => plant(base, r, replacement)
  const text = ((): string => {
    switch (kind) {
      case 'valid':
        return JSON.stringify(base)
      case 'wrong-type':
        return at(JSON.stringify(r.pick([...SCALARS, [], {}, [1, 'a'], { x: 1 }])))
      case 'extra-field': {
        const target = r.pick(containers(base).filter((c) => !Array.isArray(c)))
        if (target) (target as Record<string, unknown>)[r.pick(['extra', 'apiId', 'meta', 'constructor', 'prototype', 'toString'])] = r.pick(SCALARS)
        return JSON.stringify(base)
      }
      case 'missing-field': {
        const target = r.pick(containers(base)) as Record<string, unknown> | undefined
        const keys = target ? Object.keys(target) : []
        if (target && keys.length) delete target[r.pick(keys)]
        return JSON.stringify(base)
      }
      case 'null-field':
        return at('null')
      case 'deep':
        return r.chance(0.2) ? deep(r, r.pick([65, 1000, 20_000])) : at(deep(r, r.pick([40, 64, 65, 200, 10_000, 20_000, 60_000])))
      case 'huge-string': {
        // Over every limit, or at the common ones (128, 255, 256, 512 characters), where a string is accepted
        // and stored: three UTF-8 bytes a character ('漢') or six once JSON-escaped ('\u0001') find the
        // engines' own limits (a PostgreSQL index entry holds 2,704 bytes).
        const size = r.chance(0.03) ? 2_200_000 : r.pick([128, 255, 256, 512, 257, 513, 4096, 70_000, 300_000])
        return at(JSON.stringify(r.pick(['x', 'é', '💥', '\\', '漢', '\u0001']).repeat(size)))
      }
      case 'surrogate':
        return r.chance(0.7) ? at(r.pick(['"\\ud800"', '"a\\udfff"', '"\\udc00\\ud800"'])) : at('{"\\ud83d":1}')
      case 'proto': {
        const field = `${r.pick(['"__proto__"', '"\\u005f_proto__"'])}:${r.pick(['{"isAdmin":true}', 'null', '[]', '1'])}`
        if (r.chance(0.5)) return at(`{${field}}`)
        const valid = JSON.stringify(base)
        if (valid === '{}') return `{${field}}`
        return valid.startsWith('{') ? `{${field},${valid.slice(1)}` : `[{${field}}]`
      }
      case 'broken-json': {
        const valid = JSON.stringify(base)
        return r.pick([
          '',
          ' ',
          valid.slice(0, r.int(valid.length)),
          `${valid},`,
          valid.replaceAll('"', "'"),
          `${valid}${valid}`,
          '{"a":NaN}',
          '{"a":undefined}',
          '\uFEFF' + valid,
          valid.replace(':', '::'),
          '{"a":"\\x41"}',
          '{"a":"\\u12"}',
          '"unterminated',
          '{'.repeat(30),
          String.fromCharCode(...Array.from({ length: 20 }, () => r.int(256))),
        ])
      }
      case 'wrong-shape':
        return r.pick(['[]', '[{}]', '"text"', '42', 'null', 'true', '{}', JSON.stringify([base, base])])
      case 'numbers':
        return at(r.pick(['1e400', '-1e400', '-0', '1.0000000000000002', '18446744073709551616', '-9007199254740993', '0.1e-400', '1E2', '0x10']))
      default:
        return at(JSON.stringify(r.pick(['\u0000', '\u202e\u0041', 'ﷺ'.repeat(100), 'a\r\nb', '\\u0000', ' ', '\t'])))
    }
  })()
  return { kind, text }
}
