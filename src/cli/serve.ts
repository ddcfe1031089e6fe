// `latch serve`: runs the HTTP server until SIGINT/SIGTERM/SIGHUP/SIGQUIT (or, when embedded
// in tests, until the context's AbortSignal fires).
import { loadConfig } from '../config'
import { redactUrl } from '../db/open'
import { VERSION } from '../version'
import { DB_FLAG, defineCommand } from './command'

export const serveCommand = defineCommand({
  name: 'serve',
  summary: 'Start the HTTP server (the default command)',
  usage: 'serve [--port <port>] [--host <host>] [--db <file> | --database-url <url> --redis-url <url> [--database-pool-size <n>]] [--master-key-file <file>]',
  details: `Serves the Unkey v2 API under /v2/ (and /v1/), the OpenAPI document at
/openapi.json and its docs at /docs. Stops cleanly on SIGINT, SIGTERM, SIGHUP or
SIGQUIT; SIGUSR1 or SIGUSR2 writes pending data to disk and keeps serving.
Set LATCH_LOG=off to silence the per-request JSON log lines on stdout.

By default the data is one SQLite file, served by one process. With
--database-url (PostgreSQL) and --redis-url (Redis) any number of nodes serve
one database; both are needed, and the master key must then come from
LATCH_MASTER_KEY or an existing --master-key-file (the same on every node).`,
  flags: {
    port: { type: 'string', value: '<port>', description: 'Port to listen on; 0 picks a free one (default: $PORT, else 3000)' },
    host: { type: 'string', value: '<host>', description: 'Address to bind (default: $HOST, else 0.0.0.0)' },
    db: DB_FLAG,
    'database-url': { type: 'string', value: '<url>', description: 'PostgreSQL URL, postgres://... (cluster mode; default: $LATCH_DATABASE_URL)' },
    'redis-url': { type: 'string', value: '<url>', description: 'Redis URL, redis://... (cluster mode; default: $LATCH_REDIS_URL)' },
    'database-pool-size': {
      type: 'string',
      value: '<n>',
      description: 'Connections this node keeps to PostgreSQL, 1 to 100 (default: $LATCH_DATABASE_POOL_SIZE, else 10)',
    },
    'master-key-file': {
      type: 'string',
      value: '<file>',
      description: 'Master key file for recoverable keys (default: $LATCH_MASTER_KEY_FILE, else master.key beside the SQLite file)',
    },
  },
  async run({ flags }, ctx) {
    const config = loadConfig(
      {
        port: flags.port,
        host: flags.host,
        db: flags.db,
        databaseUrl: flags['database-url'],
        redisUrl: flags['redis-url'],
        databasePoolSize: flags['database-pool-size'],
        masterKeyFile: flags['master-key-file'],
      },
      ctx.env,
      ctx.cwd,
    )
    // Loaded here so that other commands never load the HTTP app.
    const { startServer } = await import('../server')
    const server = await startServer(config, { clock: ctx.clock, handleSignals: ctx.signal === undefined })
    const where = config.host === '0.0.0.0' || config.host === '::' ? `all interfaces, port ${server.port} (${server.url})` : server.url
    const database = config.databaseUrl === null ? config.dbPath : `${redactUrl(config.databaseUrl)} (PostgreSQL)`
    ctx.stdout.write(`latch ${VERSION} listening on ${where}, database ${database}\n`)
    const signal = ctx.signal
    // Without a signal, startServer's own signal handlers stop the server and exit the process.
    if (!signal) return new Promise<number>(() => {})
    if (!signal.aborted) await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }))
    await server.stop()
    return 0
  },
})
