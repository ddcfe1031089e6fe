// The console end to end, in Chromium against the compiled binary: sign in
// with the seeded root key, create an API and a key, verify the key over HTTP
// and find it in the key's chart, change its credits, create a root key with
// one permission and see it refused elsewhere (403 naming the permission),
// revoke it, and find all of that in the audit log. The steps share one
// server and one browser tab, in order. Screenshots of every page at 1280 and
// 390 px go to test-output/console/. Run with `npm run test:e2e` after `npm run build`.
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'bun:test'
import type { Browser, BrowserContext, Page } from 'playwright-core'
import { type ConsoleServer, launchChromium, problems, screenshots, startServer, storage, unlabelledControls, watchProblems } from './console-fixture'
import { rpc } from '../../scripts/smoke'

// Functions given to page.evaluate run in Chromium; latch is type-checked without the DOM library.
declare const document: any, window: any, location: any, navigator: any, HTMLInputElement: any

const STEP_MS = 60_000

let latch: ConsoleServer
let browser: Browser
let context: BrowserContext
let page: Page
/** What the steps create, for the later steps. */
const made = { apiId: '', keyId: '', key: '', rootKeyId: '', rootKey: '' }

// Starting the binary and Chromium can take more than a hook's default 5 s on a busy machine.
beforeAll(async () => {
  latch = await startServer()
  browser = await launchChromium()
  context = await browser.newContext({ viewport: { width: 1280, height: 900 } })
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: latch.url })
  await watchProblems(context)
  context.setDefaultTimeout(5_000)
  page = await context.newPage()
}, 60_000)

// Whatever a step did, the page broke no CSP rule and threw nothing.
afterEach(async () => {
  expect(await problems(page)).toEqual([])
})

afterAll(async () => {
  await browser?.close()
  await latch?.stop()
})

const open = async (hash: string, heading: string | RegExp) => {
  await page.goto(`${latch.url}/console#${hash}`)
  await page.getByRole('heading', { level: 1, name: heading }).waitFor()
}

/** Signs in through the form with the keyboard only: the field has focus, Enter submits. */
async function signIn(key: string) {
  await page.goto(`${latch.url}/console`)
  await page.getByLabel('Root key').waitFor()
  await page.keyboard.type(key)
  await page.keyboard.press('Enter')
  await page.getByRole('heading', { level: 1, name: 'Overview' }).waitFor()
}

/** Verifications reach analytics with the next flush (every second): reloads until the page's chart counts `total`. */
async function reloadUntilChartCounts(total: number) {
  const chart = page.locator('figure.chart')
  for (let attempt = 0; ; attempt++) {
    if ((await chart.getAttribute('data-total')) === String(total)) return chart
    if (attempt === 20) throw new Error(`the chart never counted ${total}: ${await chart.textContent()}`)
    await Bun.sleep(250)
    await page.reload()
  }
}

async function signOut() {
  await page.getByRole('button', { name: 'Sign out' }).click()
  await page.getByLabel('Root key').waitFor()
}

describe('console', () => {
  test(
    'sign-in keeps the root key in this tab’s sessionStorage only; a wrong key is refused next to the field',
    async () => {
      await page.goto(`${latch.url}/console`)
      await screenshots(page, 'sign-in')
      await page.getByLabel('Root key').fill('unkey_not_a_real_key')
      await page.getByRole('button', { name: 'Sign in' }).click()
      const field = page.getByLabel('Root key')
      await field.and(page.locator('[aria-invalid=true]')).waitFor()
      await expect(page.locator('.field', { has: field }).locator('.field-error').textContent()).resolves.toBe(
        'The provided root key is invalid or has been revoked',
      )
      await field.fill('')

      await signIn(latch.development.key)
      const kept = await storage(page)
      expect(Object.values(kept.session)).toEqual([latch.development.key])
      expect(kept.local).toEqual({})
      expect(kept.cookie).toBe('')
      expect(kept.url).not.toContain(latch.development.key)
      expect((await context.cookies()).length).toBe(0)
    },
    STEP_MS,
  )

  test(
    'creates an API, then a key with credits, a ratelimit and an identity, shown once with a copy button',
    async () => {
      await open('/apis', 'APIs')
      await page.getByRole('textbox', { name: 'Name' }).fill('payments')
      await page.getByRole('button', { name: 'Create API' }).click()
      const link = page.getByRole('link', { name: 'payments' })
      await link.waitFor()
      made.apiId = (await link.getAttribute('href'))!.replace('#/apis/', '')
      expect(made.apiId).toMatch(/^api_/)

      await link.click()
      await page.getByRole('heading', { level: 1, name: 'Keys of payments' }).waitFor()
      await page.getByText('Create a key').click()
      const create = page.getByRole('form', { name: 'Create key' })
      // An invalid prefix is reported next to the prefix field, from the server's error location.
      await create.getByLabel('Prefix').fill('not valid')
      await create.getByRole('button', { name: 'Create key' }).click()
      await create.getByLabel('Prefix').and(page.locator('[aria-invalid=true]')).waitFor()
      const prefixError = create.locator('.field', { has: page.getByLabel('Prefix') }).locator('.field-error')
      await expect(prefixError.textContent()).resolves.toBe("Expected string to match '^[a-zA-Z0-9_]+$'")

      await create.getByLabel('Name', { exact: true }).fill('checkout')
      await create.getByLabel('Prefix').fill('pay')
      await create.getByLabel('Identity (external id)').fill('customer_42')
      await create.getByLabel('Remaining credits').fill('10')
      await create.getByRole('button', { name: 'Add ratelimit' }).click()
      const row = create.locator('.ratelimit-row')
      await row.getByLabel('Name', { exact: true }).fill('requests')
      await row.getByLabel('Limit', { exact: true }).fill('100')
      await create.getByRole('button', { name: 'Create key' }).click()

      const secret = page.getByRole('textbox', { name: 'New key' })
      await secret.waitFor()
      made.key = await secret.inputValue()
      expect(made.key).toMatch(/^pay_/)
      await page.getByRole('button', { name: 'Copy' }).click()
      await page.getByText('Copied').waitFor()
      expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(made.key)
      await screenshots(page, 'keys')

      const keyLink = page.getByRole('link', { name: 'checkout' })
      made.keyId = (await keyLink.getAttribute('href'))!.split('/').pop()!
      const stored = await rpc(latch.url, '/v2/keys.getKey', { keyId: made.keyId }, latch.development.key)
      expect(stored.body.data).toMatchObject({ name: 'checkout', credits: { remaining: 10 }, identity: { externalId: 'customer_42' } })
      expect(stored.body.data.ratelimits).toMatchObject([{ name: 'requests', limit: 100, duration: 60000, autoApply: false }])
      // Shown once: the key's own page does not have it.
      await keyLink.click()
      await page.getByRole('heading', { level: 1, name: 'Key checkout' }).waitFor()
      expect(await page.content()).not.toContain(made.key)
    },
    STEP_MS,
  )

  test(
    'a verification over HTTP shows in the key’s chart, and its last use',
    async () => {
      const verified = await rpc(latch.url, '/v2/keys.verifyKey', { key: made.key }, latch.development.key)
      expect(verified.body.data).toMatchObject({ valid: true, code: 'VALID', credits: 9 })
      await open(`/apis/${made.apiId}/keys/${made.keyId}`, 'Key checkout')
      const chart = await reloadUntilChartCounts(1)
      await expect(chart.locator('figcaption').textContent()).resolves.toBe('Verifications per day, by outcome — 1 in the last 30 days')
      await expect(chart.locator('.legend').textContent()).resolves.toBe('VALID')
      await expect(page.getByRole('img', { name: /1 verification in the last 30 days/ }).count()).resolves.toBe(1)
      const lastUsed = page.locator('.details div', { has: page.getByText('Last used', { exact: true }) }).locator('dd')
      await expect(lastUsed.textContent()).resolves.not.toBe('—')
      await screenshots(page, 'key')
    },
    STEP_MS,
  )

  test(
    'changes the key’s credits',
    async () => {
      await page.getByLabel('Operation').selectOption('set')
      await page.getByLabel('Credits', { exact: true }).fill('50')
      await page.getByRole('button', { name: 'Change credits' }).click()
      const credits = page.locator('.details div', { has: page.getByText('Credits', { exact: true }) }).locator('dd')
      await page.waitForFunction(() => document.querySelector('.details')?.textContent?.includes('Credits50'))
      await expect(credits.textContent()).resolves.toBe('50')
      const stored = await rpc(latch.url, '/v2/keys.getKey', { keyId: made.keyId }, latch.development.key)
      expect(stored.body.data.credits).toEqual({ remaining: 50 })
    },
    STEP_MS,
  )

  test(
    'creates a root key with one permission; signed in with it, what it may do works and the rest is a 403 naming the permission',
    async () => {
      await open('/root-keys', 'Root keys')
      await page.getByText('Create a root key').click()
      await page.getByLabel('Name', { exact: true }).fill('read-only')
      await page.locator('summary', { hasText: /^api \(/ }).click()
      await page.getByLabel('api.*.read_api', { exact: true }).check()
      await page.getByRole('button', { name: 'Create root key' }).click()
      const secret = page.getByRole('textbox', { name: 'New root key' })
      await secret.waitFor()
      made.rootKey = await secret.inputValue()
      expect(made.rootKey).toMatch(/^unkey_/)
      const listed = await rpc(latch.url, '/v2/rootKeys.listRootKeys', {}, latch.development.key)
      const created = listed.body.data.find((k: any) => k.name === 'read-only')
      expect(created.permissions).toEqual(['api.*.read_api'])
      made.rootKeyId = created.id
      await screenshots(page, 'root-keys')

      await signOut()
      await signIn(made.rootKey)
      // The overview reads APIs; the identities count needs identity.*.read_identity.
      await page.locator('.count', { hasText: 'Identities' }).locator('.permission').waitFor()
      await expect(page.locator('.count', { hasText: 'Identities' }).locator('.permission').textContent()).resolves.toBe("'identity.*.read_identity'")
      await open('/apis', 'APIs')
      await page.getByRole('link', { name: 'payments' }).waitFor()
      await page.getByRole('textbox', { name: 'Name' }).fill('not allowed')
      await page.getByRole('button', { name: 'Create API' }).click()
      const refusal = page.locator('form[aria-label="Create API"] .form-error [role=alert]')
      await refusal.waitFor()
      await expect(refusal.locator('.permission').textContent()).resolves.toBe("'api.*.create_api'")
      await expect(refusal.textContent()).resolves.toContain("Your key does not have the required 'api.*.create_api' permission")
      await screenshots(page, 'forbidden')
      const apis = await rpc(latch.url, '/v2/apis.listApis', {}, latch.development.key)
      expect(apis.body.data.map((a: any) => a.name)).toEqual(['payments'])
    },
    STEP_MS,
  )

  test(
    'revokes that root key after a confirmation naming it; the key is refused from then on',
    async () => {
      await signOut()
      expect((await storage(page)).session).toEqual({})
      await signIn(latch.development.key)
      await open('/root-keys', 'Root keys')
      await page.getByRole('button', { name: 'Revoke root key read-only' }).click()
      const dialog = page.getByRole('dialog', { name: 'Revoke root key read-only?' })
      await dialog.waitFor()
      await expect(dialog.textContent()).resolves.toContain(made.rootKeyId)
      // Cancel has the focus; Tab then Enter confirms, with the keyboard only.
      await page.keyboard.press('Tab')
      await expect(page.evaluate(() => document.activeElement?.textContent)).resolves.toBe('Revoke root key read-only')
      await page.keyboard.press('Enter')
      await page.getByText('Revoked root key read-only.').waitFor()
      const refused = await rpc(latch.url, '/v2/apis.listApis', {}, made.rootKey)
      expect(refused.status).toBe(401)
    },
    STEP_MS,
  )

  test(
    'the audit log holds every change above, filtered by event, actor and resource',
    async () => {
      await open('/audit', 'Audit log')
      const rows = page.locator('table.list tbody tr:not([hidden])')
      const events = async () => (await rows.locator('td[data-label=Event]').allTextContents()).sort()
      await page.getByLabel('Resource id').fill(made.keyId)
      await page.getByRole('button', { name: 'Filter' }).click()
      await page.getByText('Showing 2 (all)').waitFor()
      expect(await events()).toEqual(['key.create', 'key.update_credits'])

      await page.getByLabel('Resource id').fill('')
      await page.getByLabel('Event', { exact: true }).selectOption('root_key.revoke')
      await page.getByRole('button', { name: 'Filter' }).click()
      await page.getByText('Showing 1 (all)').waitFor()
      await expect(rows.first().textContent()).resolves.toContain(made.rootKeyId)

      await page.getByLabel('Event', { exact: true }).selectOption('')
      await page.getByLabel('Actor id').fill(latch.development.rootKeyId)
      await page.getByRole('button', { name: 'Filter' }).click()
      await page.getByText(/Showing \d+ \(all\)/).waitFor()
      const all = await events()
      for (const event of ['api.create', 'key.create', 'key.update_credits', 'root_key.create', 'root_key.revoke']) expect(all).toContain(event)
      await expect(rows.locator('td[data-label=Actor]').first().textContent()).resolves.toContain('seed')
      await screenshots(page, 'audit')
    },
    STEP_MS,
  )

  test(
    'rerolls the key: the new key is shown once and verifies, the old one stops at once',
    async () => {
      await open(`/apis/${made.apiId}/keys/${made.keyId}`, 'Key checkout')
      await page.getByLabel('Old key keeps working for (ms)').fill('0')
      await page.getByRole('button', { name: 'Reroll key' }).click()
      const secret = page.getByRole('textbox', { name: 'New key' })
      await secret.waitFor()
      const rerolled = await secret.inputValue()
      expect(rerolled).toMatch(/^pay_/)
      expect(rerolled).not.toBe(made.key)
      const fresh = await rpc(latch.url, '/v2/keys.verifyKey', { key: rerolled }, latch.development.key)
      expect(fresh.body.data).toMatchObject({ valid: true, credits: 49 })
      const old = await rpc(latch.url, '/v2/keys.verifyKey', { key: made.key }, latch.development.key)
      expect(old.body.data.valid).toBe(false)
    },
    STEP_MS,
  )

  test(
    'rotates a root key with no grace period: the new key is shown once and works, the old one is refused',
    async () => {
      const created = await rpc(latch.url, '/v2/rootKeys.createRootKey', { name: 'deploy', permissions: ['api.*.read_api'] }, latch.development.key)
      await open('/root-keys', 'Root keys')
      await page.getByRole('button', { name: 'Rotate root key deploy' }).click()
      const dialog = page.getByRole('dialog', { name: 'Rotate root key deploy' })
      await dialog.getByLabel('The old key keeps working for').selectOption('0')
      await dialog.getByRole('button', { name: 'Rotate deploy' }).click()
      const secret = page.getByRole('textbox', { name: 'New root key' })
      await secret.waitFor()
      const rotated = await secret.inputValue()
      expect((await rpc(latch.url, '/v2/apis.listApis', {}, rotated)).status).toBe(200)
      expect((await rpc(latch.url, '/v2/apis.listApis', {}, created.body.data.key)).status).toBe(401)
    },
    STEP_MS,
  )

  test(
    'every other page renders at 1280 and 390 px, each control labelled and reachable, with no CSP violation or script error',
    async () => {
      const key = latch.development.key
      await rpc(latch.url, '/v2/identities.createIdentity', { externalId: 'acme', ratelimits: [{ name: 'calls', limit: 10, duration: 60000 }] }, key)
      await rpc(latch.url, '/v2/permissions.createPermission', { name: 'Read documents', slug: 'documents.read' }, key)
      await rpc(latch.url, '/v2/permissions.createRole', { name: 'reader', permissions: ['documents.read'] }, key)
      await rpc(latch.url, '/v2/ratelimit.limit', { namespace: 'email', identifier: 'user_1', limit: 10, duration: 60000 }, key)
      await rpc(latch.url, '/v2/ratelimit.setOverride', { namespace: 'email', identifier: 'vip', limit: 1000, duration: 60000 }, key)
      // A second API with a few verifications, so that the overview chart stacks two.
      const search = await rpc(latch.url, '/v2/apis.createApi', { name: 'search' }, key)
      const searchKey = await rpc(latch.url, '/v2/keys.createKey', { apiId: search.body.data.apiId, credits: { remaining: 2 } }, key)
      for (let i = 0; i < 3; i++) await rpc(latch.url, '/v2/keys.verifyKey', { key: searchKey.body.data.key }, key)
      const pages: [string, string, string][] = [
        ['overview', '/', 'Overview'],
        ['apis', '/apis', 'APIs'],
        ['identities', '/identities', 'Identities'],
        ['permissions', '/permissions', 'Permissions and roles'],
        ['ratelimits', '/ratelimits', 'Ratelimit namespaces'],
        ['namespace', '/ratelimits/email', 'Namespace email'],
      ]
      for (const [name, hash, heading] of pages) {
        await open(hash, heading)
        // Six verifications: three of payments' key (one before, two after its reroll) and three of search's.
        if (name === 'overview') await reloadUntilChartCounts(6)
        await page.locator('.paged p[aria-live], .chart').first().waitFor()
        await page.waitForFunction(() => !document.querySelector('dd')?.textContent?.includes('…'))
        expect({ name, failures: await unlabelledControls(page) }).toEqual({ name, failures: [] })
        await screenshots(page, name)
      }
      await expect(page.locator('td[data-label=Identifier]').allTextContents()).resolves.toEqual(['vip'])

      // Lists come 25 at a time; "Load more" reads the next page with the cursor.
      for (let i = 0; i < 30; i++) await rpc(latch.url, '/v2/permissions.createPermission', { name: `p${i}`, slug: `bulk.p${i}` }, key)
      await open('/permissions', 'Permissions and roles')
      const permissions = page.getByRole('region', { name: 'Permissions' })
      await permissions.getByText('Showing 25', { exact: true }).waitFor()
      await permissions.getByRole('button', { name: 'Load more' }).click()
      await permissions.getByText('Showing 31 (all)').waitFor()
      expect(await permissions.locator('tbody tr').count()).toBe(31)
      await expect(permissions.getByRole('button', { name: 'Load more' }).isHidden()).resolves.toBe(true)
    },
    STEP_MS,
  )
})
