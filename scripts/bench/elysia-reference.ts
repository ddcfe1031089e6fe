// The second reference row of `npm run bench`: a minimal Elysia app with the
// shape of a latch RPC route and none of its work, so the table separates what
// the framework costs from what latch adds. Like latch's routes it has a derive
// reading the Authorization header, a macro whose resolve checks it (401 when
// missing), a body schema, a response schema and the `{ meta, data }` envelope.
//
//   NODE_ENV=production bun scripts/bench/elysia-reference.ts --port P
import { Elysia, t } from 'elysia'
import { parsePort } from './ports'

const port = parsePort(process.argv.slice(2))

let requests = 0
const Envelope = t.Object({
  meta: t.Object({ requestId: t.String() }),
  data: t.Object({ valid: t.Boolean(), code: t.String(), keyLength: t.Number() }),
})

const app = new Elysia()
  .derive(({ headers }) => {
    const header = headers.authorization
    return { bearer: header?.startsWith('Bearer ') ? header.slice(7) : undefined }
  })
  .macro({
    rootKey: {
      resolve({ bearer, status }) {
        if (!bearer) return status(401, { error: 'missing root key' })
        return { principal: { rootKeyId: `rk_${bearer.length}` } }
      },
    },
  })
  .get('/', () => ({ ok: true })) // readiness, for run.ts
  .post(
    '/v2/keys.verifyKey',
    ({ body, principal }) => ({
      meta: { requestId: `req_${(++requests).toString(36)}_${principal.rootKeyId}` },
      data: { valid: true, code: 'VALID', keyLength: body.key.length },
    }),
    { rootKey: true, body: t.Object({ key: t.String() }), response: { 200: Envelope } },
  )
  .listen({ hostname: '127.0.0.1', port })

console.log(`elysia reference listening on http://127.0.0.1:${app.server?.port}`)
process.on('SIGTERM', () => {
  app.stop(true).finally(() => process.exit(0))
})
