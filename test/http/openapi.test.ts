import { afterAll, describe, expect, test } from 'bun:test'
import { Harness } from '../support/harness'

const h = new Harness()
afterAll(() => h.close())

describe('OpenAPI document and docs UI', () => {
  test('every registered /v2 route is in the document with its request and response schemas', async () => {
    const res = await h.app.handle(new Request('http://localhost/openapi.json'))
    expect(res.status).toBe(200)
    const spec = (await res.json()) as any
    expect(spec.openapi).toStartWith('3.1')
    expect(spec.components.securitySchemes.rootKey).toEqual(expect.objectContaining({ type: 'http', scheme: 'bearer' }))
    const routes = h.app.routes.filter((r) => r.path.startsWith('/v2/'))
    expect(routes.length).toBeGreaterThan(3)
    for (const r of routes) {
      const op = spec.paths[r.path]?.[r.method.toLowerCase()]
      expect(op, `${r.method} ${r.path} missing from the document`).toBeDefined()
      expect(op.responses['200'].content['application/json'].schema).toBeDefined()
      if (r.method === 'POST') {
        expect(op.requestBody.content['application/json'].schema, r.path).toBeDefined()
        expect(op.security).toEqual([{ rootKey: [] }])
        for (const status of ['400', '401', '403', '500']) expect(op.responses[status], `${r.path} ${status}`).toBeDefined()
      }
    }
  })

  test('/docs serves the UI from latch itself, referencing no external host', async () => {
    const res = await h.app.handle(new Request('http://localhost/docs'))
    expect(res.status).toBe(200)
    const html = await res.text()
    expect(html).not.toMatch(/(src|href)=["']?(https?:)?\/\//)
    const assets = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!)
    expect(assets).toEqual(expect.arrayContaining(['/docs/assets/swagger-ui-bundle.js', '/docs/assets/swagger-ui.css']))
    for (const asset of assets) {
      const a = await h.app.handle(new Request(`http://localhost${asset}`))
      expect(a.status).toBe(200)
      expect((await a.arrayBuffer()).byteLength).toBeGreaterThan(1000)
    }
  })
})
