// The web console's serving (src/http/console.ts) and the rules its source
// keeps (src/console/): every file listed once and served with its type and
// the strict CSP, imports that resolve to served files, and no code path that
// turns a string into markup or code, or keeps the root key anywhere but
// sessionStorage. The console in a browser: test/e2e/ (`npm run test:e2e`).
import { afterAll, describe, expect, test } from 'bun:test'
import { readdirSync, readFileSync } from 'node:fs'
import { join, posix, resolve } from 'node:path'
import { CONSOLE_ASSETS, consoleFileOf } from '../../src/console/assets'
import { CONSOLE_CSP } from '../../src/http/console'
import { AUDIT_EVENTS } from '../../src/modules/audit/model'
import { ROOT_PERMISSION_ACTIONS } from '../../src/rbac/grants'
import { Harness } from '../support/harness'

const h = new Harness()
afterAll(() => h.close())

const CONSOLE_DIR = resolve(import.meta.dirname!, '..', '..', 'src', 'console')
const get = (path: string) => h.app.handle(new Request(`http://localhost${path}`))
/** The browser-side files: everything in src/console but the server-side list and its types. */
const browserFiles = readdirSync(CONSOLE_DIR, { recursive: true, encoding: 'utf8' })
  .filter((f) => /\.(js|css|html|svg)$/.test(f))
  .map((f) => f.split('\\').join('/'))
  .sort()
const routeOf = (file: string) => (file === 'index.html' ? '/console' : `/console/${file}`)
const scripts = browserFiles.filter((f) => f.endsWith('.js'))

describe('console serving', () => {
  test('every file in src/console is listed once in assets.ts, at the route of its path, with its text', () => {
    expect(CONSOLE_ASSETS.map((a) => consoleFileOf(a.route)).sort()).toEqual(browserFiles)
    for (const asset of CONSOLE_ASSETS) {
      expect(routeOf(consoleFileOf(asset.route))).toBe(asset.route)
      expect(asset.body).toBe(readFileSync(join(CONSOLE_DIR, consoleFileOf(asset.route)), 'utf8'))
    }
  })

  test('each is served with its type, the CSP, nosniff, no-referrer and no framing', async () => {
    for (const asset of [...CONSOLE_ASSETS, { ...CONSOLE_ASSETS.find((a) => a.route === '/console')!, route: '/console/' }]) {
      const res = await get(asset.route)
      expect({ route: asset.route, status: res.status, type: res.headers.get('content-type') }).toEqual({ route: asset.route, status: 200, type: asset.type })
      expect(await res.text()).toBe(asset.body)
      expect(res.headers.get('content-security-policy')).toBe(CONSOLE_CSP)
      expect(res.headers.get('x-content-type-options')).toBe('nosniff')
      expect(res.headers.get('referrer-policy')).toBe('no-referrer')
      expect(res.headers.get('x-frame-options')).toBe('DENY')
    }
    expect(CONSOLE_CSP).toBe(
      "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; manifest-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'; object-src 'none'; require-trusted-types-for 'script'; trusted-types 'none'",
    )
  })

  test('the catalogue is the server’s own permission actions and audit events', async () => {
    const res = await get('/console/catalogue.json')
    expect(res.status).toBe(200)
    expect(res.headers.get('content-security-policy')).toBe(CONSOLE_CSP)
    expect(await res.json()).toEqual({ permissions: JSON.parse(JSON.stringify(ROOT_PERMISSION_ACTIONS)), auditEvents: [...AUDIT_EVENTS] })
  })

  test('an unknown console path is a 404, and the console is not in the OpenAPI document', async () => {
    expect((await get('/console/nope.js')).status).toBe(404)
    const spec = (await (await get('/openapi.json')).json()) as { paths: Record<string, unknown> }
    expect(Object.keys(spec.paths).filter((p) => p.startsWith('/console'))).toEqual([])
  })
})

describe('console source rules', () => {
  const source = (file: string) => readFileSync(join(CONSOLE_DIR, file), 'utf8')

  test('every module import resolves to a served file, so the binary has the whole graph', () => {
    const served = new Set(CONSOLE_ASSETS.map((a) => a.route))
    for (const file of scripts) {
      for (const [, specifier] of source(file).matchAll(/(?:import|from)\s*['"]([^'"]+)['"]/g)) {
        expect(specifier!, `${file} imports a package`).toStartWith('.')
        const route = posix.join(posix.dirname(routeOf(file)), specifier!)
        expect(served.has(route), `${file} imports ${specifier}, not served`).toBe(true)
      }
    }
    const html = source('index.html')
    for (const [, ref] of html.matchAll(/(?:src|href)="([^"]+)"/g)) expect(served.has(ref!), `index.html references ${ref}`).toBe(true)
  })

  test('no inline script or style anywhere, no string ever becomes markup or code', () => {
    const html = source('index.html')
    expect(html).not.toMatch(/<script(?![^>]*\ssrc=)[^>]*>/)
    expect(html).not.toMatch(/<style|\sstyle=|\son[a-z]+=/i)
    for (const file of scripts) {
      expect({
        file,
        found: source(file).match(/innerHTML|outerHTML|insertAdjacentHTML|document\.write|\beval\(|new Function|\.style\b|setAttribute\(\s*['"](style|on)/g),
      }).toEqual({
        file,
        found: null,
      })
    }
  })

  test('the console keeps state in sessionStorage only: never localStorage, cookies, IndexedDB or caches', () => {
    for (const file of scripts) {
      expect({ file, found: source(file).match(/localStorage|document\.cookie|indexedDB|caches\./g) }).toEqual({ file, found: null })
    }
    const api = source('api.js')
    expect(api).toContain('sessionStorage.setItem')
    expect(api).toContain("credentials: 'omit'")
  })
})
