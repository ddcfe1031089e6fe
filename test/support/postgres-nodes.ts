// Two latch nodes in this process, as an operator runs cluster mode: each with
// its own PostgreSQL pool, Redis connections, services, caches and app, over
// one fresh database of the test server and the test Redis
// (LATCH_TEST_DATABASE_URL / LATCH_TEST_REDIS_URL, as .ci/services sets
// them). Requests go through each node's handler (as its listener runs it), spread over the nodes,
// for the tests of what many requests in flight at once must never break.
import { afterEach, beforeEach } from 'bun:test'
import { createApp, handler } from '../../src/app'
import { Cluster } from '../../src/cluster'
import { type PostgresStores, postgresStores } from '../../src/db/postgres'
import { createServices, type Services } from '../../src/services'
import type { CallResult } from './harness'
import { createEmptyDatabase, databaseUrl, dropTestDatabase } from './postgres'

/** True when both test servers are configured (CI sets them); the tests are skipped otherwise. */
export const HAVE_POSTGRES_AND_REDIS = Boolean(process.env.LATCH_TEST_DATABASE_URL && process.env.LATCH_TEST_REDIS_URL)

/** Requests in flight at once in these tests. */
export const IN_FLIGHT = 64

const NODES = 2

export interface Node {
  stores: PostgresStores
  cluster: Cluster
  services: Services
  app: ReturnType<typeof createApp>
  handle: ReturnType<typeof handler>
}

/** Each status, with the detail of any that is not 200 (so that a failure shows why). */
export const statuses = (results: CallResult[]): (number | string)[] => results.map((r) => (r.status === 200 ? 200 : `${r.status} ${r.body?.error?.detail}`))

/** What `statuses` is when every call succeeded. */
export const all200 = (count = IN_FLIGHT): (number | string)[] => Array.from({ length: count }, () => 200)

export class PostgresNodes {
  constructor(
    readonly nodes: Node[],
    /** A `*` root key of workspace 'ws'. */
    readonly rootKey: string,
    readonly database: string,
  ) {}

  /** An API of workspace 'ws' (set by `withPostgresNodes`). */
  apiId = ''

  /** POST /v2/<rpc> to node `i % 2` as the root key. */
  async call(rpc: string, body: unknown, i = 0): Promise<CallResult> {
    const payload = JSON.stringify(body)
    const res = await this.nodes[i % NODES]!.handle(
      new Request(`http://localhost/v2/${rpc}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${this.rootKey}`, 'content-length': String(Buffer.byteLength(payload)) },
        body: payload,
      }),
    )
    return { status: res.status, body: await res.json(), headers: res.headers }
  }

  /** Like call, expecting 200; returns `data`. */
  async ok(rpc: string, body: unknown, i = 0): Promise<any> {
    const res = await this.call(rpc, body, i)
    if (res.status !== 200) throw new Error(`${rpc} answered ${res.status}: ${JSON.stringify(res.body)}`)
    return res.body.data
  }

  /** `count` calls at once, spread over the nodes. */
  together(count: number, rpc: string, body: (i: number) => unknown): Promise<CallResult[]> {
    return Promise.all(Array.from({ length: count }, (_, i) => this.call(rpc, body(i), i)))
  }

  /** Rows of raw SQL, numbers as numbers: for assertions on what was stored. */
  async rows(sql: string, params: (string | number)[] = []): Promise<Record<string, unknown>[]> {
    const found = await this.nodes[0]!.stores.engine.all<Record<string, unknown>>(sql, params)
    return found.map((row) => Object.fromEntries(Object.entries(row).map(([k, v]) => [k, typeof v === 'bigint' ? Number(v) : v])))
  }

  /** The `n` column of a one-row query. */
  async count(sql: string, params: (string | number)[] = []): Promise<number> {
    return Number((await this.rows(sql, params))[0]!.n)
  }

  /** How many audit events of this name were recorded. */
  events(event: string): Promise<number> {
    return this.count('SELECT count(*) AS n FROM audit_logs WHERE event = $1', [event])
  }
}

/** Before each test: two nodes on a fresh database, a root key and an API, handed to `assign`; all closed and dropped after. */
export function withPostgresNodes(assign: (nodes: PostgresNodes) => unknown): void {
  let current: PostgresNodes | undefined
  beforeEach(async () => {
    const database = await createEmptyDatabase()
    const prefix = `latch-test:${process.pid}:${Math.random().toString(36).slice(2, 10)}:`
    const nodes: Node[] = []
    for (let i = 0; i < NODES; i++) {
      const stores = postgresStores(databaseUrl(database))
      await stores.ready
      const cluster = await Cluster.start({ redisUrl: process.env.LATCH_TEST_REDIS_URL!, prefix, log: () => {} })
      const services = createServices({ stores, cluster })
      const app = createApp(services, { log: null })
      nodes.push({ stores, cluster, services, app, handle: handler(app) })
    }
    const root = await createServices({ stores: nodes[0]!.stores }).rootKeys.create({ workspace: 'ws', name: 'root', permissions: ['*'] })
    current = new PostgresNodes(nodes, root.key, database)
    current.apiId = (await current.ok('apis.createApi', { name: 'main' })).apiId
    await assign(current)
  })
  afterEach(async () => {
    if (!current) return
    for (const node of current.nodes) {
      node.cluster.close()
      await node.stores.close()
    }
    await dropTestDatabase(current.database)
    current = undefined
  })
}
