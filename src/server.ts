// Runs the app on a socket: locks and opens the database, starts background
// work (batched writes, scheduled jobs), and shuts everything down cleanly,
// checkpointing the WAL. No signal loses data: SIGINT, SIGTERM, SIGHUP and
// SIGQUIT stop cleanly (write pending data, close the database, release the
// lock, exit 0); SIGUSR1 and SIGUSR2 write pending data and keep serving.
import { runtime } from '#runtime'
import { createApp } from './app'
import { systemClock, type Clock } from './clock'
import type { Cluster } from './cluster'
import { type Config, masterKeySource } from './config'
import { type OpenedStores, openStores } from './db/open'
import { flushLog, stdoutLogger } from './http/request-context'
import type { Listener } from './runtime/runtime'
import { createServices } from './services'

/** Signals that stop the server cleanly (SIGHUP: the terminal went away; SIGQUIT: no core dump, data first). */
const STOP_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT'] as const
/** Signals that only write pending data, e.g. before a backup. */
const FLUSH_SIGNALS = ['SIGUSR1', 'SIGUSR2'] as const

const log = (level: 'info' | 'warn' | 'error', message: string) =>
  process.stderr.write(`${JSON.stringify({ time: new Date().toISOString(), level, message })}\n`)

export interface RunningServer {
  url: string
  port: number
  stop(): Promise<void>
}

export async function startServer(config: Config, options: { clock?: Clock; handleSignals?: boolean } = {}): Promise<RunningServer> {
  const masterKey = masterKeySource(config)
  // A SQLite file is served by one process (the lock); PostgreSQL by any number of nodes.
  // The server writes analytics batches on a thread of their own (src/db/sqlite/event-thread.ts).
  const opened = await openStores(config, { lock: true, eventThread: true })
  const { stores } = opened
  // Cluster mode: Redis for shared ratelimits and for telling the other nodes of changes (src/cluster/).
  const cluster = config.redisUrl ? await startCluster(config.redisUrl, opened) : undefined
  const services = createServices({
    stores,
    clock: options.clock ?? systemClock,
    masterKey,
    tunables: config.tunables,
    cluster,
    knownRootKeyHashes: opened.engine === 'sqlite',
  })
  const app = createApp(services, { log: config.logRequests ? stdoutLogger : null })
  let server: Listener
  try {
    // Work missed while latch was down (refills) happens before the first request.
    await services.runScheduledJobs()
    const vaultProblem = await services.vault.problem()
    if (vaultProblem) log('warn', `recoverable keys unavailable: ${vaultProblem}`)
    // On Bun's or Deno's server (src/runtime/); never sharing the port with another process.
    server = runtime.listen(app, {
      port: config.port,
      hostname: config.host,
      // Only a backstop: src/http/body.ts enforces maxBodyBytes on every RPC body (declared or
      // chunked) with a 413 in the envelope, and the runtime's own 413 has none, so it must never come first.
      maxRequestBodySize: Math.max(config.tunables.maxBodyBytes * 2, 2 ** 30),
      // Idle keep-alive connections are closed; longer than bodyTimeoutMs so that a 408 goes out first.
      idleTimeoutSeconds: config.tunables.idleTimeoutSeconds,
    })
  } catch (error) {
    // e.g. the port is taken: leave nothing open that would keep the process alive.
    cluster?.close()
    await opened.close()
    throw error
  }
  const stopBackground = services.startBackground()
  let stopping: Promise<void> | undefined
  let removeSignalHandlers = () => {}
  const stop = () =>
    (stopping ??= (async () => {
      await server.stop()
      stopBackground()
      flushLog()
      await services.flush()
      await opened.close()
      cluster?.close()
      removeSignalHandlers()
    })())

  if (options.handleSignals !== false) {
    // Kept (not `once`) while stopping, so a repeated signal waits for the same clean stop.
    const onStop = (signal: NodeJS.Signals) => {
      log('info', `received ${signal}, shutting down`)
      stop().then(
        () => process.exit(0),
        (error) => {
          process.stderr.write(`${String(error)}\n`)
          process.exit(1)
        },
      )
    }
    const onFlush = (signal: NodeJS.Signals) => {
      services.flush().then(
        () => log('info', `received ${signal}, pending writes flushed`),
        (error) => log('error', `received ${signal}, flushing pending writes failed: ${String(error)}`),
      )
    }
    for (const signal of STOP_SIGNALS) process.on(signal, onStop)
    for (const signal of FLUSH_SIGNALS) process.on(signal, onFlush)
    removeSignalHandlers = () => {
      for (const signal of STOP_SIGNALS) process.off(signal, onStop)
      for (const signal of FLUSH_SIGNALS) process.off(signal, onFlush)
    }
  }
  const host = config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host
  return { url: `http://${host}:${server.port}`, port: server.port, stop }
}

/** Connects to Redis (the module is loaded only in cluster mode); closes the stores when that fails. */
async function startCluster(redisUrl: string, opened: OpenedStores): Promise<Cluster> {
  try {
    const { Cluster } = await import('./cluster')
    return await Cluster.start({ redisUrl })
  } catch (error) {
    await opened.close()
    throw error
  }
}
