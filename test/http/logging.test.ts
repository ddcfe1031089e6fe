import { afterAll, describe, expect, test } from 'bun:test'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createApp } from '../../src/app'
import { openSqliteStores } from '../../src/db/sqlite'
import { flushLog, type RequestLogLine, stdoutLogger } from '../../src/http/request-context'
import { createServices } from '../../src/services'
import { setTimeout as sleep } from 'node:timers/promises'
import { runtime } from '#runtime'
import { TEST_LISTEN } from '../support/harness'

const dir = mkdtempSync(join(tmpdir(), 'latch-log-'))
const stores = openSqliteStores(join(dir, 'latch.db'))
const lines: RequestLogLine[] = []
const services = createServices({ stores })
const app = createApp(services, { log: (line) => lines.push(line) })
afterAll(() => {
  stores.close()
  rmSync(dir, { recursive: true, force: true })
})

const post = (path: string, body: unknown, key?: string) =>
  app.handle(
    new Request(`http://localhost${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(key ? { authorization: `Bearer ${key}` } : {}) },
      body: JSON.stringify(body),
    }),
  )

describe('request log', () => {
  test('one JSON line per request with id, method, path, status, duration and root key id; never a secret', async () => {
    const root = await services.rootKeys.create({ workspace: 'ws', name: 'r', permissions: ['*'] })
    const created = await post('/v2/apis.createApi', { name: 'logged' }, root.key)
    const { data } = (await created.json()) as any
    const key = await post('/v2/keys.createKey', { apiId: data.apiId }, root.key)
    const plaintext = ((await key.json()) as any).data.key
    await post('/v2/keys.verifyKey', { key: plaintext }, root.key)
    await post('/v2/apis.createApi', { name: 'x' }, 'unkey_wrong_key_0123456789')
    // onAfterResponse runs after the response is handed over.
    await sleep(5)
    expect(lines).toHaveLength(4)
    expect(lines[0]).toEqual({
      time: expect.any(String),
      level: 'info',
      requestId: created.headers.get('x-request-id')!,
      method: 'POST',
      path: '/v2/apis.createApi',
      status: 200,
      durationMs: expect.any(Number),
      rootKeyId: root.rootKeyId,
    })
    expect(lines[3]).toMatchObject({ status: 401, path: '/v2/apis.createApi' })
    expect(lines[3]!.rootKeyId).toBeUndefined()
    const text = JSON.stringify(lines)
    for (const secret of [root.key, plaintext, 'unkey_wrong_key_0123456789']) expect(text).not.toContain(secret)
  })
})

describe('request log over a real socket', () => {
  test('each line names the path of its request (Bun empties request.url once the response is sent)', async () => {
    // latch's own listener (src/runtime/), as the server uses it.
    const served = runtime.listen(createApp(services, { log: (line) => lines.push(line) }), TEST_LISTEN)
    try {
      const base = `http://127.0.0.1:${served.port}`
      lines.length = 0
      const live = await fetch(`${base}/v2/liveness`)
      const refused = await fetch(`${base}/v2/apis.getApi?x=1`, { method: 'POST', body: '{}' })
      // The hot routes, each registered under two paths, name the one asked for.
      const hot = await fetch(`${base}/v1/keys.verifyKey?y=2`, { method: 'POST', body: '{}' })
      const limit = await fetch(`${base}/v2/ratelimit.limit`, { method: 'POST', body: '{}' })
      await sleep(20)
      expect(lines.map((l): unknown[] => [l.method, l.path, l.status, l.requestId])).toEqual([
        ['GET', '/v2/liveness', 200, live.headers.get('x-request-id')],
        ['POST', '/v2/apis.getApi', 401, refused.headers.get('x-request-id')],
        ['POST', '/v1/keys.verifyKey', 401, hot.headers.get('x-request-id')],
        ['POST', '/v2/ratelimit.limit', 401, limit.headers.get('x-request-id')],
      ])
    } finally {
      await served.stop()
    }
  })

  test('a route that does not read its request state (a console file) is logged with its path too', async () => {
    const served = runtime.listen(createApp(services, { log: (line) => lines.push(line) }), TEST_LISTEN)
    try {
      lines.length = 0
      const page = await fetch(`http://127.0.0.1:${served.port}/console/console.css`)
      await page.text()
      await sleep(20)
      expect(lines.map((l): unknown[] => [l.method, l.path, l.status])).toEqual([['GET', '/console/console.css', 200]])
    } finally {
      await served.stop()
    }
  })

  test('stdout gets the lines in batches: 256 at once, the rest within the batch delay, and flushLog writes what is pending', async () => {
    const writes: string[] = []
    const write = process.stdout.write
    process.stdout.write = ((text: string) => writes.push(text) > 0) as typeof process.stdout.write
    try {
      const line = (i: number): RequestLogLine => ({
        time: '2026-11-28T00:00:00.000Z',
        level: 'info',
        requestId: `req_${i}`,
        method: 'POST',
        path: '/v2/keys.verifyKey',
        status: 200,
        durationMs: 0.05,
      })
      const lineCounts = () => writes.map((text) => text.split('\n').length - 1)
      for (let i = 0; i < 300; i++) stdoutLogger(line(i))
      expect(lineCounts()).toEqual([256])
      for (let waited = 0; writes.length < 2 && waited < 2_000; waited += 5) await sleep(5)
      expect(lineCounts()).toEqual([256, 44])
      stdoutLogger(line(300))
      flushLog()
      expect(lineCounts()).toEqual([256, 44, 1])
      expect(
        writes
          .join('')
          .split('\n')
          .slice(0, -1)
          .map((text) => JSON.parse(text).requestId),
      ).toEqual(Array.from({ length: 301 }, (_, i) => `req_${i}`))
    } finally {
      process.stdout.write = write
    }
  })
})
