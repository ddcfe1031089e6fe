// `npm run test:deno [-- <test files or folders>]`: the test suite under Deno.
// The same test files as `npm test`, with bun:test, bun:sqlite and bun mapped
// to test/deno/ (test/deno/import-map.json), run by `deno test`, one isolate
// per file. Types are checked by `npm run typecheck` (tsc, Bun's types), not
// here. Without arguments it runs every test file but the ones below.
import { spawnSync } from 'node:child_process'
import { readdirSync, statSync } from 'node:fs'
import { join, relative, resolve } from 'node:path'

const root = resolve(import.meta.dirname!, '..')

/**
 * Test files that do not run under Deno, and why: PostgreSQL and cluster mode
 * use Bun's own SQL and Redis clients (README, "Running on Deno").
 */
const SKIPPED_FILES: { files: RegExp; why: string }[] = [
  { files: /^test\/cluster\//, why: "cluster mode talks to Redis and PostgreSQL through Bun's own clients" },
  { files: /^test\/db\/postgres[^/]*\.test\.ts$/, why: "the PostgreSQL engine uses Bun's own SQL client" },
  { files: /^test\/cli\/migrate-store\.test\.ts$/, why: "it copies into PostgreSQL, through Bun's own SQL client" },
  {
    files: /^test\/db\/server-lock\.flock\.test\.ts$/,
    why: "it calls libc's flock through bun:ffi, as the Bun runtime's lock does (Deno's lock is tested in test/runtime/)",
  },
]

/**
 * Tests (by full name, "describe > test") that pin a behaviour of Bun's HTTP
 * server or process that Deno does not have; the README's table of runtime
 * differences lists each.
 */
const BUN_SERVER_ONLY = "Bun's server closes the connection once it has answered a request whose body it will not read; Deno.serve keeps it open"
const SKIPPED_TESTS: Record<string, string> = {
  'size: the bytes received count, not what the client declares > a chunked body over maxBodyBytes is a 413 in the envelope, and the connection is closed':
    BUN_SERVER_ONLY,
  'size: the bytes received count, not what the client declares > a declared Content-Length over the limit is a 413 before a byte of the body is sent':
    BUN_SERVER_ONLY,
  'slow bodies > a chunked body that trickles in is cut off the same way': BUN_SERVER_ONLY,
  'slow bodies > a declared body that never comes is a 408': BUN_SERVER_ONLY,
  'no valid root key: 401 at once, the body is never read > a larger declared body is not read either: the connection is closed after the 401': BUN_SERVER_ONLY,
  'an unknown route with a larger declared body: 404 at once, and the connection is closed': BUN_SERVER_ONLY,
  'a Content-Length given twice is not taken at its word > over the limit: 413 once the bytes received pass it, not a wait for the whole declared body':
    BUN_SERVER_ONLY,
  'a Content-Length given twice is not taken at its word > refused (401): the body is not left to the server to skip, the connection is closed':
    BUN_SERVER_ONLY,
  'the server > closes an idle keep-alive connection after idleTimeoutSeconds': 'Deno.serve has no idle timeout',
  'signals > SIGUSR1 writes pending data and keeps serving': 'Deno (2.9.2 and later) opens its debugger on SIGUSR1; use SIGUSR2 on Deno',
}

function testFiles(path: string): string[] {
  if (!statSync(path).isDirectory()) return [path]
  return readdirSync(path, { recursive: true, encoding: 'utf8' })
    .filter((file) => file.endsWith('.test.ts'))
    .map((file) => join(path, file))
}

const asked = process.argv.slice(2)
const found = (asked.length ? asked : ['test'])
  .flatMap((path) => testFiles(resolve(root, path)))
  .map((file) => relative(root, file))
  .sort()
const skippedFile = (file: string) => SKIPPED_FILES.find((rule) => rule.files.test(file))
const files = found.filter((file) => !skippedFile(file))

if (!asked.length) {
  for (const file of found) if (skippedFile(file)) console.log(`skipped under Deno: ${file} (${skippedFile(file)!.why})`)
  for (const [name, why] of Object.entries(SKIPPED_TESTS)) console.log(`skipped under Deno: "${name}" (${why})`)
}

// The SQLite engine only (no LATCH_TEST_* engine or server settings from the environment). Each
// is set to '' rather than left out: Deno's child processes inherit the parent's environment and
// `env` only adds to it.
const env = Object.fromEntries(Object.entries(process.env).map(([name, value]) => [name, name.startsWith('LATCH_TEST_') ? '' : value]))
const result = spawnSync(process.execPath, ['test', '--allow-all', '--no-check', '--import-map=test/deno/import-map.json', ...files], {
  cwd: root,
  stdio: 'inherit',
  env: { ...env, LATCH_DENO_SKIP_TESTS: JSON.stringify(Object.keys(SKIPPED_TESTS)) },
})
process.exit(result.status ?? 1)
