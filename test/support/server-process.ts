// A real `latch serve` in a child process (./latch-process.ts), for the
// tests that need a process to die or receive signals: kill -9, SIGHUP, a
// second server through a link. Its output is collected as it arrives so a
// test can wait for a line.
import { afterEach } from 'bun:test'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { ManualClock } from '../../src/clock'
import { openSqliteStores } from '../../src/db/sqlite'
import { createServices } from '../../src/services'
import { type LatchProcess, type LatchProcessOptions, spawnLatch } from './latch-process'

export interface ServerProcess extends LatchProcess {
  /** Set once the server printed its address. */
  url: string
  /** Waits until stderr matches `pattern` (or fails after `ms`). */
  waitForStderr(pattern: RegExp, ms?: number): Promise<void>
}

/**
 * Starts `latch serve --db <dbPath> --port 0` on 127.0.0.1 and resolves once it
 * listens, or once it exits (then `url` is '' and `exited` tells the code).
 */
export async function spawnServer(dbPath: string, options: Omit<LatchProcessOptions, 'entry'> = {}): Promise<ServerProcess> {
  const child = spawnLatch(['serve', '--db', dbPath, '--port', '0', '--host', '127.0.0.1'], {
    ...options,
    cwd: options.cwd ?? tmpdir(),
    env: { LATCH_LOG: 'off', ...options.env },
  })
  let done = false
  void child.exited.then(() => (done = true))
  const deadline = Date.now() + 15_000
  while (!done && !child.stdout().includes('listening on') && Date.now() < deadline) await sleep(10)
  if (!done && !child.stdout().includes('listening on')) {
    child.proc.kill('SIGKILL')
    throw new Error(`latch serve did not start: ${child.stdout()} ${child.stderr()}`)
  }
  const url = /listening on (http:\/\/[^\s,]+)/.exec(child.stdout())?.[1] ?? ''
  return {
    ...child,
    url,
    async waitForStderr(pattern, ms = 5_000) {
      const until = Date.now() + ms
      while (!pattern.test(child.stderr())) {
        if (Date.now() > until) throw new Error(`stderr never matched ${pattern}: ${child.stderr()}`)
        await sleep(10)
      }
    },
  }
}

/** A database in a new temporary directory with a root key and a key of `credits` credits. */
export async function preparedDatabase(credits = 10) {
  const dir = mkdtempSync(join(tmpdir(), 'latch-proc-'))
  const dbPath = join(dir, 'latch.db')
  const stores = openSqliteStores(dbPath)
  const services = createServices({ stores, clock: new ManualClock(Date.now()) })
  const root = (await services.rootKeys.create({ workspace: 'ws', name: 'r', permissions: ['*'] })).key
  const ws = (await services.workspaces.find('ws'))!.id
  const api = await services.apis.create(ws, 'main')
  const key = await services.keys.create(ws, { apiId: api.id, credits: { remaining: credits } })
  stores.close()
  return { dir, dbPath, root, keyId: key.keyId, key: key.key }
}

/** POSTs `body` to a /v2 route with the root key; resolves to status and parsed body. */
export async function post(url: string, route: string, root: string, body: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(`${url}/v2/${route}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${root}` },
    body: JSON.stringify(body),
  })
  return { status: res.status, body: await res.json() }
}

/**
 * For a test file that starts real servers: `database()` prepares one in a
 * temporary directory, `serve()` starts a server on it; after each test every
 * server still running is killed and every directory listed in `dirs` removed.
 */
export function serverProcesses() {
  const dirs: string[] = []
  const children: ServerProcess[] = []
  afterEach(async () => {
    for (const child of children.splice(0)) {
      child.proc.kill('SIGKILL')
      await child.exited
    }
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
  })
  return {
    dirs,
    children,
    async database(credits?: number) {
      const db = await preparedDatabase(credits)
      dirs.push(db.dir)
      return db
    },
    async serve(dbPath: string) {
      const child = await spawnServer(dbPath)
      children.push(child)
      return child
    },
  }
}
