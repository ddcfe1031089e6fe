// The OpenAPI 3.1 document (GET /openapi.json) and the interactive docs (GET
// /docs). The Swagger UI assets are embedded in the binary and served by latch,
// so the docs work offline.
import { Elysia } from 'elysia'
import { openapi } from '@elysiajs/openapi'
// Imported as text, which Bun and Deno both support: each runtime reads the file
// when latch loads, and embeds it in a compiled binary.
import swaggerBundle from 'swagger-ui-dist/swagger-ui-bundle.js' with { type: 'text' }
import swaggerCss from 'swagger-ui-dist/swagger-ui.css' with { type: 'text' }

/** Route -> the asset's text and Content-Type. */
const DOCS_ASSETS = {
  '/docs/assets/swagger-ui-bundle.js': { text: swaggerBundle, type: 'text/javascript; charset=utf-8' },
  '/docs/assets/swagger-ui.css': { text: swaggerCss, type: 'text/css; charset=utf-8' },
} as const

export function docs(version: string) {
  const assets = new Elysia({ name: 'docs-assets' })
  for (const [route, asset] of Object.entries(DOCS_ASSETS)) {
    // Encoded on the first request, not at start-up: the bundle's 1.5 MB took some 20 ms to encode.
    let bytes: Uint8Array | null = null
    const answer = () => {
      bytes ??= new TextEncoder().encode(asset.text)
      return new Response(bytes, { headers: { 'content-type': asset.type, 'cache-control': 'public, max-age=86400' } })
    }
    assets.get(route, answer, { detail: { hide: true } })
  }
  return new Elysia({ name: 'docs' }).use(assets).use(
    openapi({
      path: '/docs',
      specPath: '/openapi.json',
      provider: 'swagger-ui',
      exclude: {
        // RPC paths contain a dot; without this the plugin would skip them all.
        staticFile: false,
        paths: [/^\/v1\//, /^\/docs/, '/openapi.json'],
      },
      swagger: {
        cdn: '/docs/assets/swagger-ui-bundle.js',
        theme: '/docs/assets/swagger-ui.css',
        autoDarkMode: false,
      },
      documentation: {
        info: {
          title: 'latch',
          version,
          description:
            'Self-hosted API key and authorization server speaking the Unkey v2 API. Every RPC route also answers under /v1/<same name>. Authenticate with `Authorization: Bearer <root key>`.',
        },
        tags: [
          { name: 'apis', description: 'APIs: containers that keys are issued for' },
          { name: 'keys', description: 'Issue, verify and manage keys' },
          { name: 'identities', description: 'Identities shared by several keys' },
          { name: 'permissions', description: 'Permissions and roles granted to keys' },
          { name: 'ratelimit', description: 'Ratelimits and overrides' },
          { name: 'analytics', description: 'SQL queries over verification and ratelimit events' },
          { name: 'audit', description: 'The audit log: who changed what, and when' },
          { name: 'health', description: 'Liveness' },
        ],
        components: {
          securitySchemes: {
            rootKey: { type: 'http', scheme: 'bearer', description: 'A root key, e.g. `unkey_…`, created with `latch root-keys create` or `latch seed`.' },
          },
        },
      },
    }),
  )
}
