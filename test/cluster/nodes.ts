// Several latch nodes in one test process: each with its own PostgreSQL pool,
// its own Redis connections and its own services and caches (exactly what a
// node process builds), over one fresh database on the test PostgreSQL server
// and one Redis. For the focused tests of the change bus and shared credits;
// test/cluster/multi-node.test.ts runs real processes of the compiled binary.
import { afterEach } from 'bun:test'
import { Cluster } from '../../src/cluster'
import { type PostgresStores, postgresStores } from '../../src/db/postgres'
import { createServices, type Services } from '../../src/services'
import { createEmptyDatabase, databaseUrl, dropTestDatabase } from '../support/postgres'
import { uniquePrefix } from './engines'

export interface Node {
  services: Services
  stores: PostgresStores
  cluster: Cluster
}

export interface Nodes {
  nodes: Node[]
  /** The workspace, its all-powerful root key (for verifyKey's auth context) and an API, made through node 0. */
  workspaceId: string
  apiId: string
  auth: { workspaceId: string; rootKeyId: string; permissions: ReadonlySet<string> }
  rootKey: string
}

const quiet = () => {}

/** `startNodes(n, redisUrl)` starts n nodes on a new database; all are closed (and the database dropped) after the test. */
export function inProcessNodes() {
  const open: { nodes: Node[]; database: string }[] = []
  afterEach(async () => {
    for (const { nodes, database } of open.splice(0)) {
      for (const node of nodes) {
        node.cluster.close()
        await node.stores.close()
      }
      await dropTestDatabase(database)
    }
  })
  return async (count: number, redisUrl: string): Promise<Nodes> => {
    const database = await createEmptyDatabase()
    const prefix = uniquePrefix()
    const nodes: Node[] = []
    open.push({ nodes, database })
    for (let i = 0; i < count; i++) {
      const stores = postgresStores(databaseUrl(database))
      await stores.ready
      const cluster = await Cluster.start({ redisUrl, prefix, log: quiet })
      nodes.push({ stores, cluster, services: createServices({ stores, cluster }) })
    }
    const first = nodes[0]!.services
    const root = await first.rootKeys.create({ workspace: 'ws', name: 'root', permissions: ['*'] })
    const api = await first.apis.create(root.workspaceId, 'main')
    return {
      nodes,
      workspaceId: root.workspaceId,
      apiId: api.id,
      auth: { workspaceId: root.workspaceId, rootKeyId: root.rootKeyId, permissions: new Set(['*']) },
      rootKey: root.key,
    }
  }
}
