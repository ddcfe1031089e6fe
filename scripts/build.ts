// `npm run build`: compiles src/index.ts into the single executable dist/latch,
// then checks that the binary runs on its own: `--version`, and the embedded
// Swagger UI assets and web console files served from a directory without
// node_modules.
//
// Identifiers are never minified (no --minify / --minify-identifiers): Elysia
// reads handlers' source text (Function.prototype.toString) to decide what
// each one needs, and renamed identifiers would mislead it.
//
// The binary runs Elysia in production mode: its development mode builds
// costly validation messages (a pretty-printed copy of the whole body, an
// example value of the schema) that latch never shows, since its error
// handler writes its own from the same issues in either mode. Elysia reads
// NODE_ENV from Bun.env when it loads, which a --define cannot reach, so a
// banner sets it before any module runs; the --define covers the bundle's
// `process.env.NODE_ENV` reads (bun build --compile would inline "development").
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, relative, resolve } from 'node:path'
import { CONSOLE_ASSETS, consoleFileOf } from '../src/console/assets'
import { CONSOLE_CSP } from '../src/http/console'
import { BINARY, check, runBinary, serveBinary } from './smoke'

const root = resolve(import.meta.dir, '..')

async function compile(): Promise<void> {
  const args = [
    'build',
    'src/index.ts',
    // The analytics writer thread (src/db/sqlite/event-thread.ts): each worker is an entrypoint of its own.
    'src/db/sqlite/event-worker.ts',
    '--compile',
    // Precompiled bytecode halves start-up (about 240 ms to 110 ms to the first liveness 200
    // here); Bun keeps the source text beside it, so Elysia still reads handlers' source.
    '--bytecode',
    '--format',
    'esm',
    '--minify-whitespace',
    '--minify-syntax',
    '--define',
    'process.env.NODE_ENV="production"',
    '--banner',
    'Bun.env.NODE_ENV="production";',
    '--outfile',
    relative(root, BINARY),
  ]
  console.log(`$ bun ${args.join(' ')}`)
  const proc = Bun.spawn([process.execPath, ...args], { cwd: root, stdout: 'inherit', stderr: 'inherit' })
  const code = await proc.exited
  if (code !== 0) throw new Error(`bun build exited with ${code}`)
}

/** Runs a copy of the binary from an empty temporary directory, far from node_modules. */
async function verify(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'latch-build-'))
  const copy = join(dir, 'latch')
  copyFileSync(BINARY, copy)
  try {
    const version = await runBinary(copy, ['--version'], dir)
    check(version.code === 0 && /^latch \d+\.\d+\.\d+/.test(version.stdout), 'dist/latch --version failed', version)
    console.log(`ok    dist/latch --version: ${version.stdout.trim()}`)

    const server = await serveBinary(copy, { cwd: dir, db: join(dir, 'latch.db') })
    try {
      for (const asset of ['/docs/assets/swagger-ui-bundle.js', '/docs/assets/swagger-ui.css']) {
        const res = await fetch(`${server.url}${asset}`)
        const size = (await res.arrayBuffer()).byteLength
        check(res.status === 200 && size > 1000, `GET ${asset} answered ${res.status} (${size} bytes)`, server.output())
        console.log(`ok    GET ${asset}: 200, ${size} bytes, served by a copy in ${dir}`)
      }
      await verifyConsole(server.url)
    } finally {
      await server.stop()
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

/** Every console file is embedded: served by the copy byte for byte as in src/console, with its type and the CSP. */
async function verifyConsole(url: string): Promise<void> {
  let bytes = 0
  for (const asset of CONSOLE_ASSETS) {
    const res = await fetch(`${url}${asset.route}`)
    const served = new Uint8Array(await res.arrayBuffer())
    const file = join(root, 'src', 'console', consoleFileOf(asset.route))
    const source = new Uint8Array(await Bun.file(file).arrayBuffer())
    check(res.status === 200 && Buffer.from(served).equals(Buffer.from(source)), `GET ${asset.route} answered ${res.status}, not ${file}`)
    check(res.headers.get('content-type') === asset.type, `GET ${asset.route}: content-type ${res.headers.get('content-type')}`)
    check(res.headers.get('content-security-policy') === CONSOLE_CSP, `GET ${asset.route}: no console Content-Security-Policy`)
    bytes += served.byteLength
  }
  console.log(`ok    GET /console: ${CONSOLE_ASSETS.length} files embedded (${bytes} bytes), each with the console's CSP`)
}

try {
  await compile()
  await verify()
  console.log(`built ${relative(process.cwd(), BINARY) || BINARY}`)
} catch (error) {
  console.error(`build failed: ${(error as Error).message}`)
  process.exitCode = 1
}
