// Runs the app on a socket: opens the database, starts background work
// (batched writes, scheduled jobs), and shuts everything down cleanly on
// SIGINT/SIGTERM, checkpointing the WAL.
import { join } from 'node:path'
import { createApp } from './app'
import type { Config } from './config'
import { closeDatabase, openDatabase } from './db/database'
import { stdoutLogger } from './http/request-context'
import { MAX_BODY_BYTES } from './http/error-handler'
import { systemClock, type Clock } from './clock'

export interface RunningServer {
  url: string
  port: number
  stop(): Promise<void>
}

export function startServer(config: Config, options: { clock?: Clock; handleSignals?: boolean } = {}): RunningServer {
  const db = openDatabase(config.dbPath)
  const { app, services } = createApp({
    db,
    clock: options.clock ?? systemClock,
    log: config.logRequests ? stdoutLogger : null,
    masterKey: config.masterKey ? { key: config.masterKey } : { file: join(config.dataDir, 'master.key') },
  })
  try {
    app.listen({ port: config.port, hostname: config.host, maxRequestBodySize: MAX_BODY_BYTES * 2 })
  } catch (error) {
    // e.g. the port is taken: leave nothing open that would keep the process alive.
    closeDatabase(db)
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
