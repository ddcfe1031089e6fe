// The baseline of `npm run bench`: a bare Bun.serve on 127.0.0.1 that parses
// a JSON POST body and sends it back (GET answers a small JSON object). Every
// latch figure is reported as a ratio to this server measured in the same run,
// because on a shared 2-core machine only ratios are comparable between runs.
//
//   NODE_ENV=production bun scripts/bench/echo-server.ts --port P
import { parsePort } from './ports'

const port = parsePort(process.argv.slice(2))

const server = Bun.serve({
  hostname: '127.0.0.1',
  port,
  async fetch(request) {
    if (request.method === 'POST') return Response.json(await request.json())
    return Response.json({ ok: true })
  },
})

console.log(`echo server listening on ${server.url}`)
process.on('SIGTERM', () => {
  server.stop(true)
  process.exit(0)
})
