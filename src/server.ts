// Runs the app on a socket: opens the database, starts background work
// (batched writes, scheduled jobs), and shuts everything down cleanly on
// SIGINT/SIGTERM, checkpointing the WAL.
import { join } from 'node:path'
import { createApp } from './app'
import type { Config } from './config'
import { closeDatabase, openDatabase, type Database } from './db/database'
import { lockDatabase } from './db/server-lock'
import { stdoutLogger } from './http/request-context'
import { MAX_BODY_BYTES } from './http/error-handler'
import { systemClock, type Clock } from './clock'

export interface RunningServer {
  url: string
  port: number
  stop(): Promise<void>
}

export function startServer(config: Config, options: { clock?: Clock; handleSignals?: boolean } = {}): RunningServer {
  const unlock = lockDatabase(config.dbPath)
  let db: Database
  try {
    db = openDatabase(config.dbPath)
  } catch (error) {
    unlock()
    throw error
  }
  const { app, services } = createApp({
    db,
    clock: options.clock ?? systemClock,
    log: config.logRequests ? stdoutLogger : null,
    masterKey: config.masterKey ? { key: config.masterKey } : { file: join(config.dataDir, 'master.key') },
  })
  try {
    // reusePort off (Elysia turns it on): a second latch on the same port must fail, not silently
    // share traffic, since each process keeps its own caches and counters.
    app.listen({ port: config.port, hostname: config.host, maxRequestBodySize: MAX_BODY_BYTES * 2, reusePort: false })
  } catch (error) {
    // e.g. the port is taken: leave nothing open that would keep the process alive.
    closeDatabase(db)
    unlock()
    throw error
  }
  const stopBackground = services.startBackground()
  const server = app.server!
  let stopping: Promise<void> | undefined
  const stop = () =>
    (stopping ??= (async () => {
      await server.stop()
      stopBackground()
      services.flush()
      closeDatabase(db)
      unlock()
    })())

  if (options.handleSignals !== false) {
    const onSignal = (signal: string) => {
      process.stderr.write(JSON.stringify({ time: new Date().toISOString(), level: 'info', message: `received ${signal}, shutting down` }) + '\n')
      stop().then(
        () => process.exit(0),
        (error) => {
          process.stderr.write(String(error) + '\n')
          process.exit(1)
        },
      )
    }
    process.once('SIGINT', onSignal)
    process.once('SIGTERM', onSignal)
  }
  const host = config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host
  return { url: `http://${host}:${server.port}`, port: server.port!, stop }
}
