// One connection to Redis that keeps itself alive: it reconnects with a
// growing pause when the connection drops (a fresh client each time, so a
// subscription is made again from scratch), refuses commands at once while it
// is down (no offline queue: a caller must not wait for an outage to end), and
// treats a connection that stops answering as dead. Bun's client answers
// commands in order, so the oldest unanswered command tells: when it has waited
// `commandTimeoutMs`, the connection is closed, every command on it fails,
// and a new one is made.
import { RedisClient } from 'bun'
import { redactUrl } from '../db/open'
import { serviceUnavailable } from '../errors'

export interface RedisLinkOptions {
  /** Names the link in log lines, e.g. `commands` or `changes`. */
  name: string
  /** A command unanswered for this long fails, and the connection is replaced. */
  commandTimeoutMs: number
  log: (level: 'info' | 'warn' | 'error', message: string) => void
}

/** Pauses between reconnection attempts: doubling from the first, capped at the last. */
const RECONNECT_FIRST_MS = 50
const RECONNECT_MAX_MS = 2_000

export const redisUnavailable = (detail = 'Redis is unreachable') =>
  serviceUnavailable(`${detail}; shared ratelimits and cluster changes cannot be handled now. Try again shortly.`)

export class RedisLink {
  private client: RedisClient | null = null
  private up = false
  private closed = false
  private pause = RECONNECT_FIRST_MS
  private reconnectTimer: ReturnType<typeof setTimeout> | null = null
  private readonly watchdog: ReturnType<typeof setInterval>
  /** Unanswered commands by sequence number (Map keeps sending order): when sent, and how to fail them. */
  private readonly inFlight = new Map<number, { at: number; fail: (error: Error) => void }>()
  private sequence = 0
  private readonly subscriptions: [channel: string, listener: (message: string) => void][] = []
  private readonly upListeners: ((up: boolean) => void)[] = []

  constructor(
    private readonly url: string,
    private readonly options: RedisLinkOptions,
  ) {
    this.watchdog = setInterval(() => this.checkStuck(), Math.max(10, Math.min(100, options.commandTimeoutMs / 4)))
    this.watchdog.unref?.()
  }

  /** True while connected (and, for a subscriber, subscribed). */
  get connected(): boolean {
    return this.up
  }

  /** `listener(true)` on every (re)connection, `listener(false)` on every loss. */
  onStateChange(listener: (up: boolean) => void): void {
    this.upListeners.push(listener)
  }

  /** Connects; resolves once connected, or rejects with the first failure (reconnection goes on regardless). */
  start(): Promise<void> {
    return this.connect()
  }

  /** Subscribes `listener` to `channel`, now if connected and again after every reconnection. */
  async subscribe(channel: string, listener: (message: string) => void): Promise<void> {
    this.subscriptions.push([channel, listener])
    if (this.client && this.up) await this.client.subscribe(channel, listener)
  }

  /** Sends a command; rejects with a 503 ApiError while disconnected or when Redis does not answer in time. */
  command(name: string, args: string[]): Promise<unknown> {
    const client = this.client
    if (!client || !this.up) return Promise.reject(redisUnavailable())
    const id = ++this.sequence
    return new Promise((resolve, reject) => {
      this.inFlight.set(id, { at: performance.now(), fail: reject })
      client.send(name, args).then(
        (reply) => {
          this.inFlight.delete(id)
          resolve(reply)
        },
        (error) => {
          this.inFlight.delete(id)
          // A script or argument error is a fault of ours, not an outage: let it through as it is.
          reject((error as { code?: string }).code === 'ERR_REDIS_SERVER_ERROR' ? error : redisUnavailable())
        },
      )
    })
  }

  /** Drops the connection and makes a new one (the change bus does this when its heartbeats stop arriving). */
  restart(reason: string): void {
    if (!this.client) return
    this.options.log('warn', `redis ${this.options.name}: ${reason}; reconnecting`)
    this.lost(this.client)
  }

  close(): void {
    this.closed = true
    clearInterval(this.watchdog)
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer)
    if (this.client) this.lost(this.client)
  }

  private async connect(): Promise<void> {
    const client = new RedisClient(this.url, {
      autoReconnect: false,
      enableOfflineQueue: false,
      connectionTimeout: Math.max(this.options.commandTimeoutMs, 500),
    })
    this.client = client
    client.onclose = () => this.lost(client)
    try {
      await client.connect()
      for (const [channel, listener] of this.subscriptions) await client.subscribe(channel, listener)
    } catch (error) {
      this.lost(client)
      throw error
    }
    if (this.client !== client) return
    this.pause = RECONNECT_FIRST_MS
    this.options.log('info', `redis ${this.options.name}: connected to ${redactUrl(this.url)}`)
    this.setUp(true)
  }

  /** The connection `client` is gone (or never came): forget it and try again after a pause. */
  private lost(client: RedisClient): void {
    if (this.client !== client) return
    this.client = null
    client.onclose = null
    client.close()
    // Commands still waiting on the old connection fail now rather than whenever (if ever) Bun settles them.
    for (const { fail } of this.inFlight.values()) fail(redisUnavailable())
    this.inFlight.clear()
    if (this.up && !this.closed) this.options.log('warn', `redis ${this.options.name}: connection lost; reconnecting`)
    this.setUp(false)
    if (this.closed) return
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null
      this.connect().catch(() => {})
    }, this.pause)
    this.pause = Math.min(this.pause * 2, RECONNECT_MAX_MS)
  }

  private setUp(up: boolean): void {
    if (this.up === up) return
    this.up = up
    for (const listener of this.upListeners) listener(up)
  }

  /** Replaces a connection whose oldest command has waited too long (Redis stalled, or the network dropped silently). */
  private checkStuck(): void {
    const oldest = this.inFlight.values().next()
    if (oldest.done || performance.now() - oldest.value.at < this.options.commandTimeoutMs) return
    this.restart(`no answer for ${this.options.commandTimeoutMs} ms`)
  }
}
