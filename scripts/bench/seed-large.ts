// Seeds the large-store scenario of `npm run bench` (--large-keys N, default a
// million keys). Creating that many keys over HTTP would take the best part of
// an hour, so the rows are written straight into the SQLite file: the binary
// migrates the file and creates the root key, the API and one key over HTTP,
// as a user would; then every other key is a copy of that key's row with a
// fresh id, hash and start, inserted with bun:sqlite in one transaction. The
// row is copied column by column, so a column added later is carried along;
// the hash and start are checked against the HTTP-created key first, so a
// change of the key format fails here instead of measuring NOT_FOUNDs.
import { Database } from 'bun:sqlite'
import { join } from 'node:path'
import { generateKey, hashKey, randomBase58Chars } from '../../src/crypto'
import { rpc } from '../smoke'
import type { ServerSpec } from './processes'
import { startServer } from './processes'
import { seedRootKey } from './seed-keys'

export interface LargeStore {
  rootKey: string
  apiId: string
  /** One plaintext key per line, every key of the store. */
  file: string
  /** A key of the store, for the pre-flight request. */
  sample: string
  keys: number
  /** Wall time of the whole seeding: migrate, HTTP part, bulk insert, checkpoint. */
  seconds: number
  /** Of which the bulk insert. */
  insertSeconds: number
}

/**
 * Creates `db` holding `count` plain keys of one API, all verifiable with the
 * returned root key; `spec` is how to serve `db` for the HTTP part.
 */
export async function seedLargeStore(binary: string, db: string, dir: string, count: number, spec: ServerSpec): Promise<LargeStore> {
  const started = performance.now()
  const rootKey = await seedRootKey(binary, db, dir)
  const server = await startServer(spec)
  let apiId: string
  let template: { keyId: string; key: string }
  let exit: number | null
  try {
    const api = await rpc(server.url, '/v2/apis.createApi', { name: 'bench-large' }, rootKey)
    if (api.status !== 200) throw new Error(`apis.createApi answered ${api.status}: ${JSON.stringify(api.body)}`)
    apiId = api.body.data.apiId
    const created = await rpc(server.url, '/v2/keys.createKey', { apiId }, rootKey)
    if (created.status !== 200) throw new Error(`keys.createKey answered ${created.status}: ${JSON.stringify(created.body)}`)
    template = created.body.data
  } finally {
    exit = await server.stop()
  }
  // Stopped cleanly, so that its last writes are in the file before another connection opens it.
  if (exit !== 0) throw new Error(`the seeding server exited with ${exit}; output in ${spec.output}`)

  const inserted = performance.now()
  const keys = new Array<string>(count)
  keys[0] = template.key
  const sqlite = new Database(db)
  try {
    // Only this process uses the file now; benchmark data need not survive a power cut while it is written.
    sqlite.exec('PRAGMA synchronous = OFF')
    sqlite.exec('PRAGMA cache_size = -1048576') // 1 GiB, so that the random inserts into the hash index stay in memory
    const row = sqlite.query<Record<string, unknown>, [string]>('SELECT * FROM keys WHERE id = ?').get(template.keyId)
    if (!row) throw new Error(`the key ${template.keyId} created over HTTP is not in ${db}`)
    // Keys are made by latch's own generateKey; the template proves the server made its key the same way.
    if (row.hash !== hashKey(template.key) || row.start !== template.key.slice(0, 4)) {
      throw new Error('keys.createKey stored a hash or start this script does not make: update seed-large.ts to the key format of src/crypto.ts')
    }
    const columns = Object.keys(row)
    const insert = sqlite.prepare(`INSERT INTO keys (${columns.join(', ')}) VALUES (${columns.map(() => '?').join(', ')})`)
    const values = columns.map((c) => row[c]) as (string | number | null)[]
    const [id, hash, begin] = ['id', 'hash', 'start'].map((c) => columns.indexOf(c))
    sqlite.transaction(() => {
      for (let i = 1; i < count; i++) {
        const made = generateKey(undefined, 16)
        keys[i] = made.key
        values[id!] = `key_${randomBase58Chars(16)}`
        values[hash!] = made.hash
        values[begin!] = made.start
        insert.run(...values)
      }
    })()
    sqlite.exec('PRAGMA wal_checkpoint(TRUNCATE)')
  } finally {
    sqlite.close()
  }
  const insertSeconds = (performance.now() - inserted) / 1000

  const file = join(dir, 'large-keys.txt')
  await Bun.write(file, `${keys.join('\n')}\n`)
  return { rootKey, apiId, file, sample: keys[count >> 1]!, keys: count, seconds: (performance.now() - started) / 1000, insertSeconds }
}
