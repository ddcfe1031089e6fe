// Runs the app on a socket: locks and opens the database, starts background
// work (batched writes, scheduled jobs), and shuts everything down cleanly,
// checkpointing the WAL. No signal loses data: SIGINT, SIGTERM, SIGHUP and
// SIGQUIT stop cleanly (write pending data, close the database, release the
// lock, exit 0); SIGUSR1 and SIGUSR2 write pending data and keep serving.
import { createApp } from './app'
import { systemClock, type Clock } from './clock'
import type { Config } from './config'
import { openSqliteStores, type SqliteStores } from './db/sqlite'
import { lockDatabase } from './db/server-lock'
import { flushLog, stdoutLogger } from './http/request-context'
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
  const unlock = lockDatabase(config.dbPath)
  let stores: SqliteStores
  try {
    stores = openSqliteStores(config.dbPath, { busyDeadlineMs: config.tunables.writeBusyTimeoutMs })
  } catch (error) {
    unlock()
    throw error
  }
  const services = createServices({
    stores,
    clock: options.clock ?? systemClock,
    masterKey: config.masterKey ? { key: config.masterKey } : { file: config.masterKeyFile },
    tunables: config.tunables,
  })
  const app = createApp(services, { log: config.logRequests ? stdoutLogger : null })
  try {
    // Work missed while latch was down (refills) happens before the first request.
    await services.runScheduledJobs()
    const vaultProblem = await services.vault.problem()
    if (vaultProblem) log('warn', `recoverable keys unavailable: ${vaultProblem}`)
    // reusePort off (Elysia turns it on): a second latch on the same port must fail, not silently
    // share traffic, since each process keeps its own caches and counters.
    app.listen({
      port: config.port,
      hostname: config.host,
      // Only a backstop: src/http/body.ts enforces maxBodyBytes on every RPC body (declared or
      // chunked) with a 413 in the envelope, and Bun's own 413 has none, so it must never come first.
      maxRequestBodySize: Math.max(config.tunables.maxBodyBytes * 2, 2 ** 30),
      // Idle keep-alive connections are closed; longer than bodyTimeoutMs so that a 408 goes out first.
      idleTimeout: config.tunables.idleTimeoutSeconds,
      reusePort: false,
    })
  } catch (error) {
    // e.g. the port is taken: leave nothing open that would keep the process alive.
    stores.close()
    unlock()
    throw error
  }
  const stopBackground = services.startBackground()
  const server = app.server!
  let stopping: Promise<void> | undefined
  let removeSignalHandlers = () => {}
  const stop = () =>
    (stopping ??= (async () => {
      await server.stop()
      stopBackground()
      flushLog()
      await services.flush()
      stores.close()
      unlock() // only once the database is closed: see src/db/server-lock.ts
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
  return { url: `http://${host}:${server.port}`, port: server.port!, stop }
}
