// Cluster mode: what makes several latch nodes on one PostgreSQL database and
// one Redis behave as one. Built by the server (and the CLI) when a Redis URL
// is configured, handed to createServices, closed at shutdown.
//   - redis.ts        two self-healing connections: commands, and the subscription
//   - bus.ts          the change channel, with heartbeats that prove it is heard
//   - caches.ts       local caches invalidated by every node's changes; short expiry while the bus is lost
//   - transactions.ts announcements held back until their transaction commits
//   - limiter.ts      ratelimit counters shared in Redis (one Lua script per decision)
//   - credits.ts      credits spent on the locked row in PostgreSQL, group-committed per key
// Single-node SQLite never loads any of this.
import type { Clock } from '../clock'
import { redactUrl } from '../db/open'
import type { Stores } from '../db/stores'
import type { SharedBalances } from '../modules/keys/credits'
import type { Limiter } from '../modules/ratelimit/limiter'
import { ChangeBus } from './bus'
import { CacheSync, type SyncedCaches } from './caches'
import { SharedCredits } from './credits'
import { RedisLimiter } from './limiter'
import { RedisLink, redisUnavailable } from './redis'
import { TransactionChanges } from './transactions'

export interface ClusterOptions {
  redisUrl: string
  /** Prefix of every Redis key and of the change channel (default `latch:`): two deployments may share a Redis. */
  prefix?: string
  /** A Redis command unanswered for this long fails with 503 and its connection is replaced (default 1000). */
  commandTimeoutMs?: number
  /** How long `startCluster` waits for Redis before giving up (default 10 s). */
  startTimeoutMs?: number
  log?: (level: 'info' | 'warn' | 'error', message: string) => void
}

const stderrLog = (level: 'info' | 'warn' | 'error', message: string) =>
  process.stderr.write(`${JSON.stringify({ time: new Date().toISOString(), level, message })}\n`)

export class Cluster {
  readonly transactions = new TransactionChanges()
  private sync: CacheSync | null = null

  private constructor(
    private readonly commands: RedisLink,
    private readonly subscriber: RedisLink,
    readonly bus: ChangeBus,
    private readonly prefix: string,
    private readonly log: (level: 'info' | 'warn' | 'error', message: string) => void,
  ) {}

  /** Connects to Redis and waits until the change bus is heard; rejects (closing everything) when Redis cannot be used. */
  static async start(options: ClusterOptions): Promise<Cluster> {
    const log = options.log ?? stderrLog
    const prefix = options.prefix ?? 'latch:'
    const commandTimeoutMs = options.commandTimeoutMs ?? 1_000
    const commands = new RedisLink(options.redisUrl, { name: 'commands', commandTimeoutMs, log })
    const subscriber = new RedisLink(options.redisUrl, { name: 'changes', commandTimeoutMs, log })
    const bus = new ChangeBus(commands, subscriber, { channel: `${prefix}changes`, log })
    const cluster = new Cluster(commands, subscriber, bus, prefix, log)
    try {
      await Promise.all([commands.start(), subscriber.start()])
      await bus.start(options.startTimeoutMs ?? 10_000)
    } catch (error) {
      cluster.close()
      throw new Error(`cannot use Redis at ${redactUrl(options.redisUrl)}: ${error instanceof Error ? error.message : String(error)}`)
    }
    return cluster
  }

  /** Ratelimit counters shared by every node. */
  limiter(clock: Clock): Limiter {
    return new RedisLimiter(this.commands, clock, `${this.prefix}rl:`)
  }

  /** Credit balances spent on the shared database. */
  credits(stores: Pick<Stores, 'keys'>): SharedBalances {
    return new SharedCredits(stores)
  }

  /**
   * `stores` whose transactions announce the invalidations made inside them
   * once committed, and which refuse to start a change (503) while Redis cannot
   * take its announcement: the other nodes would keep serving what it changed.
   */
  trackTransactions(stores: Stores): Stores {
    return this.transactions.track(stores, {
      beforeStart: () => {
        if (!this.bus.canPublish) throw redisUnavailable('Redis is unreachable, so the other nodes could not be told of this change')
      },
      afterCommit: (changes) => this.sync?.afterCommit(changes) ?? Promise.resolve(),
    })
  }

  /** Keeps these caches in step with every node's changes (see caches.ts). */
  connectCaches(caches: SyncedCaches): void {
    this.sync = new CacheSync(this.bus, this.transactions, caches, this.log)
  }

  /** For readiness checks and logs: whether Redis answers and whether the change bus is heard. */
  health(): { redis: boolean; changeBus: boolean } {
    return { redis: this.commands.connected, changeBus: this.bus.live }
  }

  close(): void {
    this.sync?.stop()
    this.bus.stop()
    this.subscriber.close()
    this.commands.close()
  }
}
