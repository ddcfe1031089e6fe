// The web console at /console: its embedded files (src/console/assets.ts) and
// the catalogue it needs to build forms (root-key permissions, audit events),
// each answered with a strict Content-Security-Policy. The console holds no
// privilege of its own: the page calls the /v2 routes with the root key its
// user typed, so it is public like /docs.
import { Elysia } from 'elysia'
import { CONSOLE_ASSETS } from '../console/assets'
import { AUDIT_EVENTS } from '../modules/audit/model'
import { ROOT_PERMISSION_ACTIONS } from '../rbac/grants'

/**
 * Same origin only, no inline script or style, no framing, no plugins, no form
 * posts, and Trusted Types enforced so that a string can never become markup
 * (the console builds every node with the DOM API).
 */
export const CONSOLE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "manifest-src 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "object-src 'none'",
  "require-trusted-types-for 'script'",
  "trusted-types 'none'",
].join('; ')

export const CONSOLE_HEADERS = {
  'content-security-policy': CONSOLE_CSP,
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
  // Small files, served from memory or disk; revalidating keeps `bun --watch` edits visible at once.
  'cache-control': 'no-cache',
} as const

const catalogue = JSON.stringify({ permissions: ROOT_PERMISSION_ACTIONS, auditEvents: AUDIT_EVENTS })

export function consoleRoutes() {
  const app = new Elysia({ name: 'console' })
  for (const asset of CONSOLE_ASSETS) {
    const answer = () => new Response(asset.body, { headers: { 'content-type': asset.type, ...CONSOLE_HEADERS } })
    app.get(asset.route, answer, { detail: { hide: true } })
    // The page is reachable with or without the trailing slash; its links are absolute.
    if (asset.route === '/console') app.get('/console/', answer, { detail: { hide: true } })
  }
  app.get('/console/catalogue.json', () => new Response(catalogue, { headers: { 'content-type': 'application/json', ...CONSOLE_HEADERS } }), {
    detail: { hide: true },
  })
  return app
}
