// `expect` for the Deno run of the suite (see ./bun-test.ts): the matchers
// and asymmetric matchers latch's tests use, with bun:test's meaning
// (toEqual ignores undefined properties and prototypes, toMatchObject
// matches a subset, toThrow accepts a message part, a RegExp or a class).
import { inspect } from 'node:util'

const show = (value: unknown) => inspect(value, { depth: 8, colors: false, breakLength: 120 })

abstract class Asymmetric {
  abstract asymmetricMatch(other: unknown): boolean
  abstract describe(): string
  [inspect.custom]() {
    return this.describe()
  }
}

const isAsymmetric = (value: unknown): value is Asymmetric => value instanceof Asymmetric

class Any extends Asymmetric {
  constructor(private readonly type: unknown) {
    super()
  }
  asymmetricMatch(other: unknown) {
    const type = this.type
    if (type === String) return typeof other === 'string' || other instanceof String
    if (type === Number) return typeof other === 'number' || other instanceof Number
    if (type === Boolean) return typeof other === 'boolean' || other instanceof Boolean
    if (type === BigInt) return typeof other === 'bigint'
    if (type === Symbol) return typeof other === 'symbol'
    if (type === Function) return typeof other === 'function'
    if (type === Object) return typeof other === 'object' && other !== null
    return other instanceof (type as new (...args: never[]) => unknown)
  }
  describe() {
    return `Any<${(this.type as { name?: string }).name ?? String(this.type)}>`
  }
}

class Anything extends Asymmetric {
  asymmetricMatch(other: unknown) {
    return other !== null && other !== undefined
  }
  describe() {
    return 'Anything'
  }
}

class ArrayContaining extends Asymmetric {
  constructor(private readonly items: unknown[]) {
    super()
  }
  asymmetricMatch(other: unknown) {
    return Array.isArray(other) && this.items.every((item) => other.some((o) => equals(o, item)))
  }
  describe() {
    return `ArrayContaining ${show(this.items)}`
  }
}

class ObjectContaining extends Asymmetric {
  constructor(private readonly object: Record<string, unknown>) {
    super()
  }
  asymmetricMatch(other: unknown) {
    if (typeof other !== 'object' || other === null) return false
    return Object.entries(this.object).every(([key, value]) => key in other && equals((other as Record<string, unknown>)[key], value))
  }
  describe() {
    return `ObjectContaining ${show(this.object)}`
  }
}

class StringContaining extends Asymmetric {
  constructor(private readonly part: string) {
    super()
  }
  asymmetricMatch(other: unknown) {
    return typeof other === 'string' && other.includes(this.part)
  }
  describe() {
    return `StringContaining ${show(this.part)}`
  }
}

class StringMatching extends Asymmetric {
  private readonly pattern: RegExp
  constructor(pattern: RegExp | string) {
    super()
    this.pattern = typeof pattern === 'string' ? new RegExp(pattern) : pattern
  }
  asymmetricMatch(other: unknown) {
    return typeof other === 'string' && this.pattern.test(other)
  }
  describe() {
    return `StringMatching ${this.pattern}`
  }
}

const tag = (value: unknown) => Object.prototype.toString.call(value)

/** bun:test's toEqual: recursive, undefined properties ignored, prototypes not compared. */
export function equals(a: unknown, b: unknown): boolean {
  if (isAsymmetric(b)) return b.asymmetricMatch(a)
  if (isAsymmetric(a)) return a.asymmetricMatch(b)
  if (Object.is(a, b)) return true
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false
  if (tag(a) !== tag(b)) return false
  if (a instanceof Date) return a.getTime() === (b as Date).getTime()
  if (a instanceof RegExp) return String(a) === String(b)
  if (a instanceof Error && !(b instanceof Error)) return false
  if (a instanceof Map) {
    const other = b as Map<unknown, unknown>
    return a.size === other.size && [...a].every(([key, value]) => other.has(key) && equals(value, other.get(key)))
  }
  if (a instanceof Set) {
    const other = [...(b as Set<unknown>)]
    return a.size === other.length && [...a].every((value) => other.some((o) => equals(value, o)))
  }
  if (Array.isArray(a) || ArrayBuffer.isView(a)) {
    const x = a as ArrayLike<unknown>
    const y = b as ArrayLike<unknown>
    if (x.length !== y.length) return false
    for (let i = 0; i < x.length; i++) if (!equals(x[i], y[i])) return false
    return true
  }
  if (a instanceof Error && (a.message !== (b as Error).message || a.name !== (b as Error).name)) return false
  const keys = (o: object) => Object.keys(o).filter((k) => (o as Record<string, unknown>)[k] !== undefined)
  const ka = keys(a)
  const kb = keys(b)
  if (ka.length !== kb.length) return false
  return ka.every((k) => Object.hasOwn(b, k) && equals((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]))
}

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Date) && !(value instanceof RegExp) && !ArrayBuffer.isView(value)

/** bun:test's toMatchObject: every property of `expected` matches (arrays element by element, same length). */
function matchesSubset(actual: unknown, expected: unknown): boolean {
  if (isAsymmetric(expected)) return expected.asymmetricMatch(actual)
  if (Array.isArray(expected)) {
    return Array.isArray(actual) && actual.length === expected.length && expected.every((item, i) => matchesSubset(actual[i], item))
  }
  if (isPlainObject(expected)) {
    if (typeof actual !== 'object' || actual === null) return false
    return Object.keys(expected).every((key) => key in actual && matchesSubset((actual as Record<string, unknown>)[key], expected[key]))
  }
  return equals(actual, expected)
}

function thrownMatches(error: unknown, expected: unknown): boolean {
  if (expected === undefined) return true
  const message = error instanceof Error ? error.message : String(error)
  if (typeof expected === 'string') return message.includes(expected)
  if (expected instanceof RegExp) return expected.test(message)
  if (typeof expected === 'function') return error instanceof (expected as new (...args: never[]) => unknown)
  if (isAsymmetric(expected)) return expected.asymmetricMatch(error)
  if (expected instanceof Error) return message === expected.message
  if (isPlainObject(expected)) return matchesSubset(error, expected)
  return false
}

function property(value: unknown, path: string | string[]): { found: boolean; value?: unknown } {
  const parts = Array.isArray(path) ? path : path.split('.')
  let current: unknown = value
  for (const part of parts) {
    if (current === null || current === undefined || !(part in Object(current))) return { found: false }
    current = (current as Record<string, unknown>)[part]
  }
  return { found: true, value: current }
}

type Check = (actual: unknown, ...args: any[]) => { pass: boolean; message: string }

const MATCHERS: Record<string, Check> = {
  toBe: (a, e) => ({ pass: Object.is(a, e), message: `expected ${show(a)} to be ${show(e)}` }),
  toEqual: (a, e) => ({ pass: equals(a, e), message: `expected ${show(a)} to equal ${show(e)}` }),
  toStrictEqual: (a, e) => ({ pass: equals(a, e), message: `expected ${show(a)} to equal ${show(e)}` }),
  toMatchObject: (a, e) => ({ pass: matchesSubset(a, e), message: `expected ${show(a)} to match object ${show(e)}` }),
  toContain: (a, e) => ({
    pass: typeof a === 'string' ? a.includes(e as string) : [...(a as Iterable<unknown>)].some((item) => Object.is(item, e)),
    message: `expected ${show(a)} to contain ${show(e)}`,
  }),
  toContainEqual: (a, e) => ({
    pass: [...(a as Iterable<unknown>)].some((item) => equals(item, e)),
    message: `expected ${show(a)} to contain equal ${show(e)}`,
  }),
  toHaveLength: (a, n) => ({ pass: (a as { length?: number })?.length === n, message: `expected ${show(a)} to have length ${n}` }),
  toHaveProperty: (a, path, ...value) => {
    const found = property(a, path)
    const pass = found.found && (value.length === 0 || equals(found.value, value[0]))
    return { pass, message: `expected ${show(a)} to have property ${show(path)}${value.length ? ` = ${show(value[0])}` : ''}` }
  },
  toBeInstanceOf: (a, c) => ({ pass: a instanceof c, message: `expected ${show(a)} to be an instance of ${c?.name}` }),
  toBeUndefined: (a) => ({ pass: a === undefined, message: `expected ${show(a)} to be undefined` }),
  toBeDefined: (a) => ({ pass: a !== undefined, message: `expected ${show(a)} to be defined` }),
  toBeNull: (a) => ({ pass: a === null, message: `expected ${show(a)} to be null` }),
  toBeTruthy: (a) => ({ pass: Boolean(a), message: `expected ${show(a)} to be truthy` }),
  toBeFalsy: (a) => ({ pass: !a, message: `expected ${show(a)} to be falsy` }),
  toBeNaN: (a) => ({ pass: Number.isNaN(a), message: `expected ${show(a)} to be NaN` }),
  toBeString: (a) => ({ pass: typeof a === 'string', message: `expected ${show(a)} to be a string` }),
  toBeArray: (a) => ({ pass: Array.isArray(a), message: `expected ${show(a)} to be an array` }),
  toBeOneOf: (a, list) => ({ pass: (list as unknown[]).some((item) => equals(a, item)), message: `expected ${show(a)} to be one of ${show(list)}` }),
  toStartWith: (a, s) => ({ pass: typeof a === 'string' && a.startsWith(s), message: `expected ${show(a)} to start with ${show(s)}` }),
  toEndWith: (a, s) => ({ pass: typeof a === 'string' && a.endsWith(s), message: `expected ${show(a)} to end with ${show(s)}` }),
  toMatch: (a, p) => ({
    pass: typeof a === 'string' && (p instanceof RegExp ? p.test(a) : a.includes(p)),
    message: `expected ${show(a)} to match ${show(p)}`,
  }),
  toBeGreaterThan: (a, n) => ({ pass: (a as number) > n, message: `expected ${show(a)} to be > ${show(n)}` }),
  toBeGreaterThanOrEqual: (a, n) => ({ pass: (a as number) >= n, message: `expected ${show(a)} to be >= ${show(n)}` }),
  toBeLessThan: (a, n) => ({ pass: (a as number) < n, message: `expected ${show(a)} to be < ${show(n)}` }),
  toBeLessThanOrEqual: (a, n) => ({ pass: (a as number) <= n, message: `expected ${show(a)} to be <= ${show(n)}` }),
  toBeCloseTo: (a, n, digits = 2) => ({
    pass: Math.abs((a as number) - n) < 10 ** -digits / 2,
    message: `expected ${show(a)} to be close to ${show(n)} (${digits} digits)`,
  }),
}

/** What a matcher is applied to: a value, or (rejects) the error it was rejected with. */
type Subject = { value: unknown } | { thrown: unknown }

function matcherSet(subject: Subject, negated: boolean): Record<string, (...args: unknown[]) => void> {
  const set: Record<string, (...args: unknown[]) => void> = {}
  const verdict = (name: string, pass: boolean, message: string) => {
    if (pass === negated) throw new Error(`${negated ? 'not.' : ''}${name}: ${negated ? message.replace(/^expected/, 'expected not:') : message}`)
  }
  for (const [name, check] of Object.entries(MATCHERS)) {
    set[name] = (...args) => {
      const actual = 'value' in subject ? subject.value : subject.thrown
      const { pass, message } = check(actual, ...args)
      verdict(name, pass, message)
    }
  }
  set.toThrow = (expected?: unknown) => {
    let thrown: { error: unknown } | null = null
    if ('thrown' in subject) thrown = { error: subject.thrown }
    else {
      try {
        ;(subject.value as () => unknown)()
      } catch (error) {
        thrown = { error }
      }
    }
    const pass = thrown !== null && thrownMatches(thrown.error, expected)
    verdict(
      'toThrow',
      pass,
      thrown
        ? `expected the error ${show(thrown.error)} to match ${show(expected)}`
        : `expected a throw${expected === undefined ? '' : ` matching ${show(expected)}`}`,
    )
  }
  set.toThrowError = set.toThrow
  return set
}

type Matchers = Record<string, (...args: any[]) => any> & {
  not: Record<string, (...args: any[]) => any>
  resolves: Record<string, (...args: any[]) => Promise<void>> & { not: Record<string, (...args: any[]) => Promise<void>> }
  rejects: Record<string, (...args: any[]) => Promise<void>> & { not: Record<string, (...args: any[]) => Promise<void>> }
}

function settled(actual: unknown, expectRejection: boolean, negated: boolean): Record<string, (...args: unknown[]) => Promise<void>> {
  const set: Record<string, (...args: unknown[]) => Promise<void>> = {}
  for (const name of [...Object.keys(MATCHERS), 'toThrow', 'toThrowError']) {
    set[name] = async (...args) => {
      const promise = typeof actual === 'function' ? (actual as () => unknown)() : actual
      const outcome = await Promise.resolve(promise).then(
        (value) => ({ resolved: true, value }),
        (error: unknown) => ({ resolved: false, value: error }),
      )
      if (outcome.resolved === expectRejection) {
        const what = expectRejection ? `a rejection, but it resolved to ${show(outcome.value)}` : `a value, but it rejected with ${show(outcome.value)}`
        throw new Error(`${expectRejection ? 'rejects' : 'resolves'}.${name}: expected ${what}`)
      }
      const subject: Subject = expectRejection ? { thrown: outcome.value } : { value: outcome.value }
      matcherSet(subject, negated)[name]!(...args)
    }
  }
  return set
}

function expectFn(actual: unknown): Matchers {
  const matchers = matcherSet({ value: actual }, false) as Matchers
  matchers.not = matcherSet({ value: actual }, true)
  matchers.resolves = Object.assign(settled(actual, false, false), { not: settled(actual, false, true) })
  matchers.rejects = Object.assign(settled(actual, true, false), { not: settled(actual, true, true) })
  return matchers
}

export const expect = Object.assign(expectFn, {
  any: (type: unknown) => new Any(type),
  anything: () => new Anything(),
  arrayContaining: (items: unknown[]) => new ArrayContaining(items),
  objectContaining: (object: Record<string, unknown>) => new ObjectContaining(object),
  stringContaining: (part: string) => new StringContaining(part),
  stringMatching: (pattern: RegExp | string) => new StringMatching(pattern),
})
