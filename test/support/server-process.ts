// A real `latch serve` in a child process (`bun src/index.ts serve`), for the
// tests that need a process to die or receive signals: kill -9, SIGHUP, a
// second server through a link. Its output is collected as it arrives so a
// test can wait for a line.
import { afterEach } from 'bun:test'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import type { Subprocess } from 'bun'
import { ManualClock } from '../../src/clock'
import { openSqliteStores } from '../../src/db/sqlite'
import { createServices } from '../../src/services'

const ENTRY = resolve(import.meta.dir, '..', '..', 'src', 'index.ts')

export interface ServerProcess {
  proc: Subprocess<'ignore', 'pipe', 'pipe'>
  pid: number
  /** Set once the server printed its address. */
  url: string
  stdout(): string
  stderr(): string
  /** Waits until stderr matches `pattern` (or fails after `ms`). */
  waitForStderr(pattern: RegExp, ms?: number): Promise<void>
  exited: Promise<number>
}

async function collect(stream: ReadableStream<Uint8Array>, into: { text: string }) {
  const decoder = new TextDecoder()
  for await (const chunk of stream) into.text += decoder.decode(chunk, { stream: true })
}

/**
 * Starts `latch serve --db <dbPath> --port 0` on 127.0.0.1 and resolves once it
 * listens, or once it exits (then `url` is '' and `exited` tells the code).
 */
export async function spawnServer(dbPath: string, options: { cwd?: string; env?: Record<string, string> } = {}): Promise<ServerProcess> {
  const proc = Bun.spawn([process.execPath, ENTRY, 'serve', '--db', dbPath, '--port', '0', '--host', '127.0.0.1'], {
    cwd: options.cwd ?? tmpdir(),
    env: { PATH: process.env.PATH ?? '', LATCH_LOG: 'off', ...options.env },
    stdin: 'ignore',
    stdout: 'pipe',
    stderr: 'pipe',
  })
  const out = { text: '' }
  const err = { text: '' }
  void collect(proc.stdout, out)
  void collect(proc.stderr, err)
  let done = false
  const exited = proc.exited.then((code) => {
    done = true
    return code
  })
  const deadline = Date.now() + 15_000
  while (!done && !out.text.includes('listening on') && Date.now() < deadline) await Bun.sleep(10)
  if (!done && !out.text.includes('listening on')) {
    proc.kill('SIGKILL')
    throw new Error(`latch serve did not start: ${out.text} ${err.text}`)
  }
  const url = /listening on (http:\/\/[^\s,]+)/.exec(out.text)?.[1] ?? ''
  return {
    proc,
    pid: proc.pid,
    url,
    stdout: () => out.text,
    stderr: () => err.text,
    async waitForStderr(pattern, ms = 5_000) {
      const until = Date.now() + ms
      while (!pattern.test(err.text)) {
        if (Date.now() > until) throw new Error(`stderr never matched ${pattern}: ${err.text}`)
        await Bun.sleep(10)
      }
    },
    exited,
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
