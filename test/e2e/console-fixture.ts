// What the console's browser tests share: the compiled binary (dist/latch,
// made by `npm run build`; refused unless it serves the console exactly as
// in src/console, so that a test never passes against yesterday's console) serving a freshly seeded
// database, and Debian's Chromium driven by playwright-core. Screenshots go
// to test-output/console/.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { type Browser, type BrowserContext, chromium, type LaunchOptions, type Page } from 'playwright-core'
import { BINARY, runBinary, serveBinary, type RunningBinary } from '../../scripts/smoke'
import { CONSOLE_ASSETS, consoleFileOf } from '../../src/console/assets'

// Functions given to page.evaluate run in Chromium; latch is type-checked without the DOM library.
declare const document: any, window: any, location: any, navigator: any, HTMLInputElement: any

const ROOT = resolve(import.meta.dirname!, '..', '..')
export const SCREENSHOTS = join(ROOT, 'test-output', 'console')
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'

/** Throws with what to do when the binary or Chromium is missing. */
export function assertPrerequisites(): void {
  if (!Bun.file(BINARY).size) throw new Error(`${BINARY} does not exist: run \`npm run build\` before the browser tests`)
  if (!Bun.file(CHROMIUM).size) throw new Error(`no Chromium at ${CHROMIUM}: apt-get install -y chromium (or set CHROMIUM_PATH)`)
}

/** Throws unless the binary serves every console file exactly as it is in src/console (else it is an old build). */
async function assertServesCurrentConsole(url: string): Promise<void> {
  for (const asset of CONSOLE_ASSETS) {
    const served = await fetch(`${url}${asset.route}`)
    const file = join(ROOT, 'src', 'console', consoleFileOf(asset.route))
    if (served.status !== 200 || (await served.text()) !== (await Bun.file(file).text())) {
      throw new Error(`${BINARY} serves a different ${asset.route} (status ${served.status}) than ${file}: run \`npm run build\` again`)
    }
  }
}

export interface Seeded {
  workspaceId: string
  rootKeyId: string
  key: string
}

export interface ConsoleServer {
  url: string
  dir: string
  /** The `*` root key of the seeded development workspace. */
  development: Seeded
  server: RunningBinary
  stop(): Promise<void>
}

/** Seeds a new database with the binary and serves it. */
export async function startServer(): Promise<ConsoleServer> {
  assertPrerequisites()
  const dir = mkdtempSync(join(tmpdir(), 'latch-e2e-'))
  const db = join(dir, 'latch.db')
  const seeded = await runBinary(BINARY, ['seed', '--json', '--db', db], dir)
  if (seeded.code !== 0) throw new Error(`latch seed failed: ${seeded.stderr}`)
  const server = await serveBinary(BINARY, { cwd: dir, db })
  try {
    await assertServesCurrentConsole(server.url)
  } catch (error) {
    await server.stop()
    rmSync(dir, { recursive: true, force: true })
    throw error
  }
  return {
    url: server.url,
    dir,
    development: JSON.parse(seeded.stdout).development,
    server,
    async stop() {
      await server.stop()
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

export function launchChromium(options: LaunchOptions = {}): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, headless: true, ...options })
}

/** Writes `<name>-<width>.png` for each width, restoring the page's viewport afterwards. */
export async function screenshots(page: Page, name: string, widths = [1280, 390]): Promise<void> {
  mkdirSync(SCREENSHOTS, { recursive: true })
  const before = page.viewportSize()
  for (const width of widths) {
    // A short viewport: the full-page shot is then as tall as the content.
    await page.setViewportSize({ width, height: 480 })
    await page.screenshot({ path: join(SCREENSHOTS, `${name}-${width}.png`), fullPage: true })
  }
  if (before) await page.setViewportSize(before)
}

/** What the page keeps where a key must never be: localStorage, cookies, the URL; and sessionStorage. */
export function storage(page: Page): Promise<{ session: Record<string, string>; local: Record<string, string>; cookie: string; url: string }> {
  return page.evaluate(() => ({ session: { ...sessionStorage }, local: { ...localStorage }, cookie: document.cookie, url: location.href }))
}

/** Records CSP violations and page errors from the first script on; read them with `problems(page)`. */
export async function watchProblems(context: BrowserContext): Promise<void> {
  await context.addInitScript(() => {
    const w = window as unknown as { __problems: string[] }
    w.__problems = []
    document.addEventListener('securitypolicyviolation', (e: any) => w.__problems.push(`CSP ${e.violatedDirective}: ${e.blockedURI}`))
    window.addEventListener('error', (e: any) => w.__problems.push(`error: ${e.message}`))
    window.addEventListener('unhandledrejection', (e: any) => w.__problems.push(`unhandled: ${String(e.reason)}`))
  })
}

export const problems = (page: Page): Promise<string[]> => page.evaluate(() => (window as unknown as { __problems: string[] }).__problems)

/**
 * Every form control on the page has a label (its accessible name) and none is taken out of the tab order.
 * Returns the controls that fail, described.
 */
export function unlabelledControls(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const failures: string[] = []
    for (const el of document.querySelectorAll('input, select, textarea, button, a[href], summary')) {
      if (el.closest('[hidden]') || (el instanceof HTMLInputElement && el.type === 'hidden')) continue
      const labelled =
        el.labels?.length ||
        el.getAttribute('aria-label') ||
        el.getAttribute('aria-labelledby') ||
        (el.tagName !== 'INPUT' && el.tagName !== 'SELECT' && el.tagName !== 'TEXTAREA' && el.textContent?.trim())
      if (!labelled) failures.push(`${el.tagName.toLowerCase()} ${el.outerHTML.slice(0, 120)}`)
      if (el.tabIndex < 0) failures.push(`not keyboard reachable: ${el.outerHTML.slice(0, 120)}`)
    }
    return failures
  })
}
