// `latch serve`: runs the HTTP server until SIGINT/SIGTERM/SIGHUP/SIGQUIT (or, when embedded
// in tests, until the context's AbortSignal fires).
import { loadConfig } from '../config'
import { VERSION } from '../version'
import { DB_FLAG, defineCommand } from './command'

export const serveCommand = defineCommand({
  name: 'serve',
  summary: 'Start the HTTP server (the default command)',
  usage: 'serve [--port <port>] [--host <host>] [--db <file>]',
  details: `Serves the Unkey v2 API under /v2/ (and /v1/), the OpenAPI document at
/openapi.json and its docs at /docs. Stops cleanly on SIGINT, SIGTERM, SIGHUP or
SIGQUIT; SIGUSR1 or SIGUSR2 writes pending data to disk and keeps serving.
Set LATCH_LOG=off to silence the per-request JSON log lines on stdout.`,
  flags: {
    port: { type: 'string', value: '<port>', description: 'Port to listen on; 0 picks a free one (default: $PORT, else 3000)' },
    host: { type: 'string', value: '<host>', description: 'Address to bind (default: $HOST, else 0.0.0.0)' },
    db: DB_FLAG,
  },
  async run({ flags }, ctx) {
    const config = loadConfig({ port: flags.port, host: flags.host, db: flags.db }, ctx.env, ctx.cwd)
    // Loaded here so that other commands never load the HTTP app.
    const { startServer } = await import('../server')
    const server = await startServer(config, { clock: ctx.clock, handleSignals: ctx.signal === undefined })
    const where = config.host === '0.0.0.0' || config.host === '::' ? `all interfaces, port ${server.port} (${server.url})` : server.url
    ctx.stdout.write(`latch ${VERSION} listening on ${where}, database ${config.dbPath}\n`)
    const signal = ctx.signal
    // Without a signal, startServer's own signal handlers stop the server and exit the process.
    if (!signal) return new Promise<number>(() => {})
    if (!signal.aborted) await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }))
    await server.stop()
    return 0
  },
})
