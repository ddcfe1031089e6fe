// Smoke test of the compiled executable (`npm run smoke`, after `npm run build`):
// seeds a temporary database with dist/latch, serves it on a free port, and
// checks authentication, permissions, workspace isolation, the docs and a clean
// SIGTERM shutdown over real HTTP. Prints each step; exits 1 on the first failure.
// Also exports the helpers scripts/build.ts uses to check the binary.
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'

export const BINARY = resolve(import.meta.dir, '..', 'dist', 'latch')

/** An environment without the caller's latch settings, so that only flags decide. */
export function cleanEnv(extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {}
  for (const [k, v] of Object.entries(process.env)) {
    if (v !== undefined && !/^(PORT|HOST|LATCH_.*)$/.test(k)) env[k] = v
  }
  return { ...env, ...extra }
}

export async function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const probe = createServer()
    probe.once('error', fail)
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number }
      probe.close(() => done(port))
    })
  })
}

/** `promise`'s value, or null if it takes longer than `ms` (the timer never outlives the race). */
export async function within<T>(promise: Promise<T>, ms: number): Promise<T | null> {
  let timer: ReturnType<typeof setTimeout> | undefined
  const timeout = new Promise<null>((done) => (timer = setTimeout(() => done(null), ms)))
  try {
    return await Promise.race([promise, timeout])
  } finally {
    clearTimeout(timer)
  }
}

export interface RunResult {
  code: number
  stdout: string
  stderr: string
}

/** Runs the binary to completion. */
export async function runBinary(binary: string, args: string[], cwd: string): Promise<RunResult> {
  const proc = Bun.spawn([binary, ...args], { cwd, env: cleanEnv(), stdout: 'pipe', stderr: 'pipe' })
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited])
  return { code, stdout, stderr }
}

export interface RunningBinary {
  url: string
  /** Everything the server has printed so far. */
  output(): string
  /** Sends `signal` and resolves to the exit code, or null if it did not exit within `timeoutMs`. */
  stop(signal?: NodeJS.Signals, timeoutMs?: number): Promise<number | null>
}

/** Starts `binary serve` on a free port (on `db`, or on the `store` flags given) and waits until /v2/liveness answers 200. */
export async function serveBinary(binary: string, options: { cwd: string; db: string; store?: string[] }): Promise<RunningBinary> {
  const port = await freePort()
  const store = options.store ?? ['--db', options.db]
  const proc = Bun.spawn([binary, 'serve', '--port', String(port), '--host', '127.0.0.1', ...store], {
    cwd: options.cwd,
    env: cleanEnv(),
    stdout: 'pipe',
    stderr: 'pipe',
  })
  // Drain both pipes as the server writes, so that its log lines never block it.
  let output = ''
  const drain = async (stream: ReadableStream<Uint8Array>) => {
    const decoder = new TextDecoder()
    for await (const chunk of stream) output += decoder.decode(chunk, { stream: true })
  }
  const drained = Promise.all([drain(proc.stdout), drain(proc.stderr)])
  const running: RunningBinary = {
    url: `http://127.0.0.1:${port}`,
    output: () => output,
    async stop(signal = 'SIGTERM', timeoutMs = 5_000) {
      proc.kill(signal)
      const code = await within(proc.exited, timeoutMs)
      if (code === null) proc.kill('SIGKILL')
      await within(drained, 500)
      return code
    },
  }
  const deadline = Date.now() + 10_000
  while (Date.now() < deadline) {
    if (proc.exitCode !== null) throw new Error(`latch serve exited with ${proc.exitCode}:\n${output}`)
    try {
      if ((await fetch(`${running.url}/v2/liveness`)).status === 200) return running
    } catch {
      // not listening yet
    }
    await Bun.sleep(50)
  }
  await running.stop('SIGKILL')
  throw new Error(`latch serve did not answer /v2/liveness within 10s:\n${output}`)
}

/** POSTs an RPC with an optional root key; returns the status and the parsed body. */
export async function rpc(url: string, path: string, body: unknown, rootKey?: string): Promise<{ status: number; body: any }> {
  const headers: Record<string, string> = { 'content-type': 'application/json' }
  if (rootKey) headers.authorization = `Bearer ${rootKey}`
  const res = await fetch(`${url}${path}`, { method: 'POST', headers, body: JSON.stringify(body) })
  const text = await res.text()
  try {
    return { status: res.status, body: JSON.parse(text) }
  } catch {
    return { status: res.status, body: text }
  }
}

export function check(condition: unknown, message: string, detail?: unknown): asserts condition {
  if (!condition) throw new Error(detail === undefined ? message : `${message}\n${typeof detail === 'string' ? detail : JSON.stringify(detail)}`)
}

async function smoke(binary: string): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'latch-smoke-'))
  const db = join(dir, 'latch.db')
  let server: RunningBinary | undefined
  const step = async (name: string, body: () => Promise<void>) => {
    const started = performance.now()
    try {
      await body()
      console.log(`ok    ${name} (${Math.round(performance.now() - started)} ms)`)
    } catch (error) {
      console.log(`FAIL  ${name}\n      ${(error as Error).message.replaceAll('\n', '\n      ')}`)
      if (server) console.log(`--- server output ---\n${server.output()}`)
      throw error
    }
  }
  try {
    let seeded: Record<'development' | 'staging' | 'production', { workspaceId: string; rootKeyId: string; key: string }>
    await step(`latch seed --json (binary ${binary})`, async () => {
      const r = await runBinary(binary, ['seed', '--json', '--db', db], dir)
      check(r.code === 0, `exit code ${r.code}`, r.stderr)
      seeded = JSON.parse(r.stdout)
      for (const ws of ['development', 'staging', 'production'] as const) {
        check(seeded[ws]?.key?.startsWith('unkey_'), `no ${ws} key in the seed output`, r.stdout)
      }
    })
    await step('latch serve answers GET /v2/liveness', async () => {
      server = await serveBinary(binary, { cwd: dir, db })
      check(server.output().includes('listening on'), 'no "listening on" line', server.output())
    })
    const url = () => server!.url
    await step('createApi without a root key is 401', async () => {
      const r = await rpc(url(), '/v2/apis.createApi', { name: 'smoke' })
      check(r.status === 401, `status ${r.status}`, r.body)
    })
    let developmentApi = ''
    let productionApi = ''
    await step('createApi with the seeded development and production keys is 200', async () => {
      const dev = await rpc(url(), '/v2/apis.createApi', { name: 'smoke-dev' }, seeded.development.key)
      check(dev.status === 200 && typeof dev.body.data?.apiId === 'string', `status ${dev.status}`, dev.body)
      const prod = await rpc(url(), '/v2/apis.createApi', { name: 'smoke-prod' }, seeded.production.key)
      check(prod.status === 200 && typeof prod.body.data?.apiId === 'string', `status ${prod.status}`, prod.body)
      developmentApi = dev.body.data.apiId
      productionApi = prod.body.data.apiId
    })
    await step('validation errors read as in the tests (Elysia runs in production mode in the binary)', async () => {
      const cases: [unknown, string][] = [
        [{ name: 'ab' }, 'Expected string length greater or equal to 3'],
        [{ name: 42 }, "Expected property 'name' to be string but found: 42"],
        [{}, "Property 'name' is missing"],
      ]
      for (const [body, message] of cases) {
        const r = await rpc(url(), '/v2/apis.createApi', body, seeded.development.key)
        check(r.status === 400 && r.body.error?.errors?.[0]?.message === message, `${JSON.stringify(body)}: expected '${message}'`, r.body)
      }
      const deep = await rpc(url(), '/v2/apis.createApi', JSON.parse(`{"name":${'['.repeat(100)}${']'.repeat(100)}}`), seeded.development.key)
      check(deep.status === 400 && deep.body.error?.errors?.[0]?.location === 'body', 'a body nested 100 deep is not a 400', deep.body)
    })
    await step("a key with only 'api.*.read_api' (latch root-keys create --json) gets 403 from createApi", async () => {
      const r = await runBinary(
        binary,
        ['root-keys', 'create', '--workspace', 'development', '--name', 'smoke read-only', '--permission', 'api.*.read_api', '--json', '--db', db],
        dir,
      )
      check(r.code === 0, `root-keys create exit code ${r.code}`, r.stderr)
      const created = JSON.parse(r.stdout)
      check(
        Object.keys(created).sort().join() === 'key,rootKeyId,workspaceId' && created.workspaceId === seeded.development.workspaceId,
        'unexpected root-keys create --json output',
        r.stdout,
      )
      const read = await rpc(url(), '/v2/apis.getApi', { apiId: developmentApi }, created.key)
      check(read.status === 200, `getApi with the read-only key: status ${read.status}`, read.body)
      const denied = await rpc(url(), '/v2/apis.createApi', { name: 'nope' }, created.key)
      check(denied.status === 403, `status ${denied.status}`, denied.body)
      check(String(denied.body.error?.detail).includes("'api.*.create_api'"), "403 detail does not name 'api.*.create_api'", denied.body)
    })
    await step("the development key cannot read the production workspace's API (404)", async () => {
      const r = await rpc(url(), '/v2/apis.getApi', { apiId: productionApi }, seeded.development.key)
      check(r.status === 404, `status ${r.status}`, r.body)
      const own = await rpc(url(), '/v2/apis.getApi', { apiId: productionApi }, seeded.production.key)
      check(own.status === 200, `the production key reading its own API: status ${own.status}`, own.body)
    })
    await step('GET /openapi.json is 200 with the RPC paths', async () => {
      const res = await fetch(`${url()}/openapi.json`)
      check(res.status === 200, `status ${res.status}`)
      const spec = (await res.json()) as { paths?: Record<string, unknown> }
      check(spec.paths?.['/v2/apis.createApi'], 'the document has no /v2/apis.createApi', Object.keys(spec.paths ?? {}))
    })
    await step('GET /docs is 200, loads no asset from another host, and its assets are served', async () => {
      const res = await fetch(`${url()}/docs`)
      check(res.status === 200, `status ${res.status}`)
      const html = await res.text()
      const external = html.match(/(?:src|href)\s*=\s*["']?(?:https?:)?\/\/[^"'\s>]*/g)
      check(!external, 'the docs page references an external host', external)
      const assets = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!)
      check(assets.length >= 2, 'the docs page references no assets', html)
      for (const asset of assets) {
        const a = await fetch(new URL(asset, `${url()}/docs`))
        check(a.status === 200 && (await a.arrayBuffer()).byteLength > 1000, `${asset}: status ${a.status}`)
      }
    })
    await step('SIGTERM stops the server with exit code 0 within 5s', async () => {
      const code = await server!.stop('SIGTERM', 5_000)
      server = undefined
      check(code === 0, code === null ? 'still running after 5s' : `exit code ${code}`)
    })
  } finally {
    if (server) await server.stop('SIGKILL', 1_000)
    rmSync(dir, { recursive: true, force: true })
  }
}

if (import.meta.main) {
  const binary = process.argv[2] ? resolve(process.argv[2]) : BINARY
  if (!(await Bun.file(binary).exists())) {
    console.error(`${binary} does not exist; run \`npm run build\` first`)
    process.exit(1)
  }
  try {
    await smoke(binary)
    console.log('smoke test passed')
  } catch {
    process.exitCode = 1
  }
}
