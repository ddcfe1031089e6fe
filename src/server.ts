// Runs the app on a socket: opens the database, starts background work
// (batched writes, scheduled jobs), and shuts everything down cleanly on
// SIGINT/SIGTERM, checkpointing the WAL.
import { createApp } from './app'
import { systemClock, type Clock } from './clock'
import type { Config } from './config'
import { openSqliteStores, type SqliteStores } from './db/sqlite'
import { lockDatabase } from './db/server-lock'
import { stdoutLogger } from './http/request-context'
import { createServices } from './services'

export interface RunningServer {
  url: string
  port: number
  stop(): Promise<void>
}

export async function startServer(config: Config, options: { clock?: Clock; handleSignals?: boolean } = {}): Promise<RunningServer> {
  const unlock = lockDatabase(config.dbPath)
  let stores: SqliteStores
  try {
    stores = openSqliteStores(config.dbPath)
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
    // reusePort off (Elysia turns it on): a second latch on the same port must fail, not silently
    // share traffic, since each process keeps its own caches and counters.
    app.listen({ port: config.port, hostname: config.host, maxRequestBodySize: config.tunables.maxBodyBytes * 2, reusePort: false })
  } catch (error) {
    // e.g. the port is taken: leave nothing open that would keep the process alive.
    stores.close()
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
      await services.flush()
      stores.close()
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
