// A real latch app on a real SQLite file in a temp directory (or, with
// LATCH_TEST_ENGINE=postgres, a fresh PostgreSQL database: test/support/postgres.ts),
// driven through app.handle(new Request(...)). Every test file builds its own.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createApp, handler } from '../../src/app'
import { ManualClock } from '../../src/clock'
import type { Tunables } from '../../src/config'
import { postgresStores } from '../../src/db/postgres'
import { openSqliteStores, type SqliteStores } from '../../src/db/sqlite'
import type { Stores } from '../../src/db/stores'
import type { MasterKeySource } from '../../src/modules/keys/vault'
import { createServices } from '../../src/services'
import { databaseUrl, EMPTY_DATABASE, reserveTestDatabase, returnTestDatabase, TEST_ENGINE } from './postgres'

/** How tests serve an app on a real socket (runtime.listen): any free port, the server's own body-size backstop. */
export const TEST_LISTEN = { port: 0, hostname: '127.0.0.1', maxRequestBodySize: 2 ** 30, idleTimeoutSeconds: 30 }

/** A fixed 32-byte master key for tests of recoverable keys. */
export const TEST_MASTER_KEY = Buffer.alloc(32, 7).toString('base64')

export interface CallResult {
  status: number
  body: any
  headers: Headers
}

/**
 * Fresh stores for a test: a SQLite file in `dir`, or a database of its own
 * on the test PostgreSQL server (emptied and handed on at `close`).
 */
export function testStores(
  dir: string,
  engine: 'sqlite' | 'postgres' = TEST_ENGINE,
): { stores: Stores; sqlite: SqliteStores | null; close: () => Promise<void> } {
  if (engine === 'sqlite') {
    // With the server's filter of key hashes: every test that verifies a key also checks that its hash reached the filter.
    const sqlite = openSqliteStores(join(dir, 'latch.db'), { keyHashFilter: true })
    // At once rather than after the server's start-up delay, so that nearly every test runs with it built.
    void sqlite.keyHashes!.start()
    return { stores: sqlite, sqlite, close: async () => sqlite.close() }
  }
  const database = reserveTestDatabase()
  const stores = postgresStores(databaseUrl(database.name), { prepare: database.prepare })
  return {
    stores,
    sqlite: null,
    close: async () => {
      // Emptied for the next harness (see test/support/postgres.ts), unless it never came up.
      const emptied = await stores.engine.run(EMPTY_DATABASE).then(
        () => true,
        () => false,
      )
      await stores.close()
      if (emptied) returnTestDatabase(database.name)
    },
  }
}

export class Harness {
  readonly dir = mkdtempSync(join(tmpdir(), 'latch-test-'))
  readonly dbPath = join(this.dir, 'latch.db')
  private readonly engine = testStores(this.dir)
  readonly stores = this.engine.stores
  /** The raw SQLite connection, for assertions on what was stored (SQLite runs only). */
  get db(): SqliteStores['db'] {
    if (!this.engine.sqlite) throw new Error('h.db is the SQLite connection; this test runs on PostgreSQL (use h.query)')
    return this.engine.sqlite.db
  }
  readonly clock = new ManualClock(Date.UTC(2026, 5, 15, 12, 0, 0))
  readonly errors: unknown[] = []
  readonly app
  /** The app as the listener runs it (keys.verifyKey's route table first, then Elysia). */
  readonly handle
  readonly services

  /**
   * `masterKey` enables recoverable keys; without it they are refused (412). `tunables` change defaults;
   * LATCH_TEST_KEY_OBJECTS sets keyCacheObjectEntries for a whole run (0: every packable key is held packed).
   */
  constructor(options: { masterKey?: MasterKeySource; tunables?: Partial<Tunables> } = {}) {
    const objects = process.env.LATCH_TEST_KEY_OBJECTS
    const tunables = { ...(objects ? { keyCacheObjectEntries: Number(objects) } : {}), ...options.tunables }
    // As the server of a SQLite file runs (root keys' hashes held in memory); PostgreSQL runs as cluster nodes do.
    this.services = createServices({
      stores: this.stores,
      clock: this.clock,
      masterKey: options.masterKey,
      knownRootKeyHashes: this.engine.sqlite !== null,
      tunables,
    })
    this.app = createApp(this.services, { log: null, logError: (_id, e) => this.errors.push(e) })
    this.handle = handler(this.app)
  }

  /** Creates a root key in `workspace` (created on demand) and returns its plaintext. */
  async rootKey(workspace: string, permissions: string[] = ['*']): Promise<string> {
    return (await this.services.rootKeys.create({ workspace, name: `test ${permissions.join(' ')}`, permissions })).key
  }

  async workspaceId(workspace: string): Promise<string> {
    return (await this.services.workspaces.find(workspace))!.id
  }

  async call(path: string, body: unknown, key?: string | null, headers: Record<string, string> = {}): Promise<CallResult> {
    const h: Record<string, string> = { 'content-type': 'application/json', ...headers }
    if (key) h.authorization = `Bearer ${key}`
    const payload = typeof body === 'string' ? body : JSON.stringify(body)
    h['content-length'] ??= String(Buffer.byteLength(payload))
    const res = await this.handle(new Request(`http://localhost${path}`, { method: 'POST', headers: h, body: payload }))
    const text = await res.text()
    let parsed: unknown = text
    try {
      parsed = JSON.parse(text)
    } catch {}
    return { status: res.status, body: parsed, headers: res.headers }
  }

  /** POST /v2/<rpc> as `key`, expecting 200; returns `data`. */
  async ok(rpc: string, body: unknown, key: string): Promise<any> {
    const res = await this.call(`/v2/${rpc}`, body, key)
    if (res.status !== 200) throw new Error(`${rpc} answered ${res.status}: ${JSON.stringify(res.body)}`)
    return res.body.data
  }

  /** Rows of raw SQL on either engine (portable SQL only), numbers as numbers: for assertions on what was stored. */
  async query(sql: string): Promise<Record<string, unknown>[]> {
    const rows = this.engine.sqlite
      ? (this.engine.sqlite.db.query(sql).all() as Record<string, unknown>[])
      : await (this.stores as ReturnType<typeof postgresStores>).engine.all<Record<string, unknown>>(sql)
    return rows.map((row) => Object.fromEntries(Object.entries(row).map(([k, v]) => [k, typeof v === 'bigint' ? Number(v) : v])))
  }

  async close(): Promise<void> {
    await this.services.flush()
    await this.engine.close()
    rmSync(this.dir, { recursive: true, force: true })
  }
}

export const REQUEST_ID = expect.stringMatching(/^req_[1-9A-HJ-NP-Za-km-z]+$/)
export const PERMISSION_ID = expect.stringMatching(/^perm_[1-9A-HJ-NP-Za-km-z]+$/)
export const ROLE_ID = expect.stringMatching(/^role_[1-9A-HJ-NP-Za-km-z]+$/)
export const IDENTITY_ID = expect.stringMatching(/^id_[1-9A-HJ-NP-Za-km-z]+$/)
export const RATELIMIT_ID = expect.stringMatching(/^rl_[1-9A-HJ-NP-Za-km-z]+$/)

import { afterEach, beforeEach, expect } from 'bun:test'

/** The exact error envelope for a status, title, type suffix and detail. */
export function errorBody(status: number, title: string, type: string, detail: string | ReturnType<typeof expect.stringContaining>, errors?: unknown) {
  const error: Record<string, unknown> = { title, detail, status, type: type.startsWith('https://') ? type : `https://unkey.com/docs/errors/${type}` }
  if (status === 400) error.errors = errors ?? expect.any(Array)
  return { meta: { requestId: REQUEST_ID }, error }
}

/** The 400 body of a schema-validation failure of one field. `rpc` is e.g. 'apis.createApi' (or a path). */
export const invalidBody = (rpc: string, location: string, message: string) => {
  const path = rpc.startsWith('/') ? rpc : `/v2/${rpc}`
  return errorBody(400, 'Bad Request', 'unkey/application/invalid_input', `POST request body for '${path}' failed to validate: ${location}: ${message}`, [
    { location, message },
  ])
}

export const unauthorizedBody = (detail: string) => errorBody(401, 'Unauthorized', 'unauthorized', detail)
export const forbiddenBody = (permissions: string[]) =>
  errorBody(403, 'Forbidden', 'forbidden', `Your key does not have the required ${permissions.map((p) => `'${p}'`).join(' or ')} permission`)
export const notFoundBody = (kind: string, detail: string) => errorBody(404, 'Not Found', `unkey/data/${kind}_not_found`, detail)

/**
 * Before each test of the file: a fresh Harness and a `*` root key of
 * `workspace`, handed to `assign`; the harness is closed after each test.
 */
export function withHarness(assign: (fixture: { h: Harness; root: string }) => unknown, workspace = 'ws'): void {
  let current: Harness | undefined
  beforeEach(async () => {
    current = new Harness()
    await assign({ h: current, root: await current.rootKey(workspace) })
  })
  afterEach(() => current?.close())
}

export interface ApiFixture {
  h: Harness
  /** A `*` root key of workspace 'ws'. */
  root: string
  /** An API of workspace 'ws'. */
  apiId: string
}

/** withHarness, plus an API of workspace 'ws'. */
export function withApi(assign: (fixture: ApiFixture) => unknown): void {
  withHarness(async ({ h, root }) => {
    const { apiId } = await h.ok('apis.createApi', { name: 'main' }, root)
    await assign({ h, root, apiId })
  })
}
