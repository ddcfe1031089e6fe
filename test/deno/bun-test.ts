// bun:test for the Deno run of the suite (`npm run test:deno`; the import map
// test/deno/import-map.json points `bun:test` here): describe / test / each /
// skipIf and the four hooks, each test registered as one Deno.test named
// "outer > inner > test", run in the order declared, as bun test does.
//
// Hooks keep bun:test's order: a describe's beforeAll runs before its first
// test and its afterAll after its last (skipped tests do not count), and
// beforeEach / afterEach of every enclosing describe wrap each test (outer
// first, inner last on the way out). A test has bun's default timeout (20 s,
// bunfig.toml) unless it names its own. Deno's leak sanitizers are off: the
// tests open databases and servers across hooks, as they do under Bun.
import { inspect } from 'node:util'
import { expect } from './expect'

export { expect }

/** The part of the Deno namespace used here (declared locally: the type checker of the suite runs with Bun's types). */
declare const Deno: {
  test(definition: { name: string; ignore: boolean; sanitizeOps: boolean; sanitizeResources: boolean; sanitizeExit: boolean; fn: () => Promise<void> }): void
}

type Fn = () => unknown | Promise<unknown>

interface Scope {
  name: string
  parent: Scope | null
  skipped: boolean
  beforeAll: Fn[]
  afterAll: Fn[]
  beforeEach: Fn[]
  afterEach: Fn[]
  /** Tests (here and in nested describes) that will run, and how many have. */
  tests: number
  done: number
  /** beforeAll ran (or failed, with this error). */
  started: boolean
  failure: { error: unknown } | null
}

const DEFAULT_TIMEOUT_MS = 20_000

/** Full names of tests that do not run under Deno (scripts/test-deno.ts lists them, with the reason). */
const SKIPPED: ReadonlySet<string> = new Set(JSON.parse(process.env.LATCH_DENO_SKIP_TESTS ?? '[]'))

const scope = (name: string, parent: Scope | null, skipped: boolean): Scope => ({
  name,
  parent,
  skipped,
  beforeAll: [],
  afterAll: [],
  beforeEach: [],
  afterEach: [],
  tests: 0,
  done: 0,
  started: false,
  failure: null,
})

let current = scope('', null, false)

/** The scopes from the file down to `s`. */
function chain(s: Scope): Scope[] {
  const scopes: Scope[] = []
  for (let at: Scope | null = s; at; at = at.parent) scopes.unshift(at)
  return scopes
}

async function withTimeout(fn: Fn, ms: number, what: string): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined
  try {
    await Promise.race([
      Promise.resolve().then(fn),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms)
      }),
    ])
  } finally {
    clearTimeout(timer)
  }
}

async function runTest(owner: Scope, fn: Fn, timeoutMs: number): Promise<void> {
  const scopes = chain(owner)
  let failure: unknown = null
  const fail = (error: unknown) => {
    failure ??= error
  }
  for (const s of scopes) {
    if (!s.started) {
      s.started = true
      try {
        for (const hook of s.beforeAll) await withTimeout(hook, DEFAULT_TIMEOUT_MS, 'beforeAll')
      } catch (error) {
        s.failure = { error }
      }
    }
  }
  const broken = scopes.find((s) => s.failure)
  if (broken) fail(broken.failure!.error)
  let ranBefore = 0
  if (failure === null) {
    try {
      for (const s of scopes) {
        for (const hook of s.beforeEach) await withTimeout(hook, DEFAULT_TIMEOUT_MS, 'beforeEach')
        ranBefore++
      }
      await withTimeout(fn, timeoutMs, 'test')
    } catch (error) {
      fail(error)
    }
  }
  for (const s of scopes.slice(0, ranBefore).reverse()) {
    for (const hook of s.afterEach) await withTimeout(hook, DEFAULT_TIMEOUT_MS, 'afterEach').catch(fail)
  }
  for (const s of [...scopes].reverse()) {
    s.done++
    if (s.done === s.tests && s.started) {
      for (const hook of s.afterAll) await withTimeout(hook, DEFAULT_TIMEOUT_MS, 'afterAll').catch(fail)
    }
  }
  if (failure !== null) throw failure
}

function register(name: string, fn: Fn, options: number | { timeout?: number } | undefined, skip: boolean): void {
  const owner = current
  const path = [
    ...chain(owner)
      .map((s) => s.name)
      .filter(Boolean),
    name,
  ].join(' > ')
  const ignore = skip || chain(owner).some((s) => s.skipped) || SKIPPED.has(path)
  if (!ignore) for (const s of chain(owner)) s.tests++
  const timeoutMs = typeof options === 'number' ? options : (options?.timeout ?? DEFAULT_TIMEOUT_MS)
  Deno.test({
    name: path,
    ignore,
    sanitizeOps: false,
    sanitizeResources: false,
    sanitizeExit: false,
    fn: () => runTest(owner, fn, timeoutMs),
  })
}

function declare(name: string, body: () => unknown, skipped: boolean): void {
  const parent = current
  current = scope(name, parent, skipped)
  try {
    body()
  } finally {
    current = parent
  }
}

/** printf-style names as bun:test formats them: %s %d %i %f %p %j %o %#, and $key for object rows. */
function title(pattern: string, args: unknown[], index: number): string {
  let next = 0
  const show = (value: unknown) => (typeof value === 'string' ? value : inspect(value, { depth: 4, colors: false }))
  let name = pattern.replace(/%([sdifpjo#%])/g, (_, kind: string) => {
    if (kind === '%') return '%'
    if (kind === '#') return String(index)
    const value = args[next++]
    if (kind === 'd' || kind === 'i' || kind === 'f') return String(Number(value))
    if (kind === 'j') return JSON.stringify(value)
    if (kind === 'p') return inspect(value, { depth: 4, colors: false })
    return show(value)
  })
  const row = args[0]
  if (args.length === 1 && typeof row === 'object' && row !== null) {
    name = name.replace(/\$([A-Za-z_][\w.]*)/g, (whole, path: string) => {
      let value: unknown = row
      for (const part of path.split('.')) value = (value as Record<string, unknown> | undefined)?.[part]
      return value === undefined ? whole : show(value)
    })
  }
  return name
}

const rowArgs = (row: unknown): unknown[] => (Array.isArray(row) ? row : [row])

type TestFn = (...args: any[]) => unknown
type Options = number | { timeout?: number }

function eachOf(table: readonly unknown[], define: (name: string, fn: Fn, options?: Options) => void) {
  return (pattern: string, fn: TestFn, options?: Options) => {
    table.forEach((row, index) => {
      const args = rowArgs(row)
      define(title(pattern, args, index), () => fn(...args), options)
    })
  }
}

export const test = Object.assign((name: string, fn: TestFn, options?: Options) => register(name, fn, options, false), {
  skip: (name: string, fn: TestFn, options?: Options) => register(name, fn, options, true),
  todo: (name: string, fn: TestFn = () => {}, options?: Options) => register(name, fn, options, true),
  if: (condition: unknown) => (name: string, fn: TestFn, options?: Options) => register(name, fn, options, !condition),
  skipIf: (condition: unknown) => (name: string, fn: TestFn, options?: Options) => register(name, fn, options, Boolean(condition)),
  each: (table: readonly unknown[]) => eachOf(table, (name, fn, options) => register(name, fn, options, false)),
})

export const it = test

export const describe = Object.assign((name: string, body: () => unknown) => declare(name, body, current.skipped), {
  skip: (name: string, body: () => unknown) => declare(name, body, true),
  if: (condition: unknown) => (name: string, body: () => unknown) => declare(name, body, current.skipped || !condition),
  skipIf: (condition: unknown) => (name: string, body: () => unknown) => declare(name, body, current.skipped || Boolean(condition)),
  each: (table: readonly unknown[]) => (pattern: string, body: (...args: any[]) => unknown) => {
    table.forEach((row, index) => {
      const args = rowArgs(row)
      declare(title(pattern, args, index), () => body(...args), current.skipped)
    })
  },
})

export const beforeAll = (fn: Fn) => void current.beforeAll.push(fn)
export const afterAll = (fn: Fn) => void current.afterAll.push(fn)
export const beforeEach = (fn: Fn) => void current.beforeEach.push(fn)
export const afterEach = (fn: Fn) => void current.afterEach.push(fn)
