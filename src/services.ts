// The one wiring point: builds every service, cache, limiter and background
// job of latch over a set of stores, and connects the listeners through which
// one module reacts to another's changes. No HTTP here (no Elysia import):
// src/app.ts mounts routes over these services, and the CLI uses them directly.
import { systemClock, type Clock } from './clock'
import type { Cluster } from './cluster'
import { DEFAULT_TUNABLES, type Tunables } from './config'
import type { Stores } from './db/stores'
import { ApiService } from './modules/apis/service'
import { AnalyticsService } from './modules/analytics/service'
import { AuditLog } from './modules/audit/service'
import { IdentityService } from './modules/identities/service'
import { KeyAccessService } from './modules/keys/access'
import { KeyCache } from './modules/keys/cache'
import { CreditLedger } from './modules/keys/credits'
import { VerificationLog } from './modules/keys/events'
import { loadedKeyCodec } from './modules/keys/loaded-key-codec'
import { KeyLoader, type LoadedKey } from './modules/keys/loader'
import { KeyMigrationService } from './modules/keys/migrations'
import { keyRatelimitStep } from './modules/keys/ratelimits'
import { KeyService } from './modules/keys/service'
import { Vault, type MasterKeySource } from './modules/keys/vault'
import { KeyVerifier } from './modules/keys/verifier'
import { PermissionService } from './modules/permissions/service'
import { RatelimitDefinitionService } from './modules/ratelimit/definitions'
import { RatelimitLog } from './modules/ratelimit/events'
import { SlidingWindowLimiter } from './modules/ratelimit/limiter'
import { RatelimitService } from './modules/ratelimit/service'
import { RootKeyService } from './modules/rootkeys/service'
import { WorkspaceService } from './modules/workspaces/service'

export interface ServiceOptions {
  stores: Stores
  clock?: Clock
  /** Master key for recoverable keys (none: recoverable keys are refused with 412). */
  masterKey?: MasterKeySource
  tunables?: Partial<Tunables>
  /** Cluster mode (src/cluster/): ratelimits and credits shared by the nodes, caches kept in step with their changes. */
  cluster?: Cluster
  /**
   * Hold every root key's hash, so that an unknown root key is refused without a read
   * (src/modules/rootkeys/known-hashes.ts): for the one server of a SQLite file, which
   * sees every change of root keys at once (its own, and the CLI's through the file).
   */
  knownRootKeyHashes?: boolean
}

export function createServices(options: ServiceOptions) {
  const { cluster } = options
  // Cluster mode: a change is announced to the other nodes once committed, and refused while it could not be.
  const stores = cluster ? cluster.trackTransactions(options.stores) : options.stores
  const clock = options.clock ?? systemClock
  const tunables: Tunables = { ...DEFAULT_TUNABLES, ...options.tunables }

  // Every service that changes a workspace records the change here, inside the change's transaction.
  const audit = new AuditLog(stores, clock)
  const workspaces = new WorkspaceService(stores, clock, audit)
  const rootKeys = new RootKeyService(stores, clock, workspaces, audit, {
    cacheMaxEntries: tunables.rootKeyCacheMaxEntries,
    knownHashes: (options.knownRootKeyHashes ?? false) && !cluster,
  })
  const apis = new ApiService(stores, clock, audit)
  const ratelimitDefinitions = new RatelimitDefinitionService(stores, clock)
  const identities = new IdentityService(stores, clock, ratelimitDefinitions, audit)
  const permissions = new PermissionService(stores, clock, audit)
  // Ratelimit decisions (of namespaces and of key limits) are buffered like verification events.
  const ratelimitEvents = new RatelimitLog(stores, { maxBuffered: tunables.verificationEventBuffer })
  const namespaceLimiter = cluster?.limiter(clock) ?? new SlidingWindowLimiter(clock, { maxEntries: tunables.ratelimitMaxCounters })
  const ratelimit = new RatelimitService(stores, clock, namespaceLimiter, audit, ratelimitEvents)
  const analytics = new AnalyticsService(stores, clock, tunables)

  // Keys: the write service, the credit ledger, the cached loader and the verifier.
  const keyCache = new KeyCache<LoadedKey>(tunables.keyCacheMaxEntries, { codec: loadedKeyCodec, objects: tunables.keyCacheObjectEntries })
  // Its batches change nothing cached: written whether or not the change bus can be reached.
  const events = new VerificationLog(options.stores, { maxBuffered: tunables.verificationEventBuffer, maxTagChars: tunables.maxEventTagChars })
  const credits = new CreditLedger(stores, clock, keyCache, cluster?.credits(stores) ?? null)
  const keyAccess = new KeyAccessService(stores, permissions, audit)
  const keyLoader = new KeyLoader(stores, keyCache, { credits, events, keyAccess, identities, ratelimitDefinitions })
  const vault = new Vault(options.masterKey ?? {}, stores)
  const keys = new KeyService(stores, clock, { apis, identities, keyAccess, ratelimitDefinitions, loader: keyLoader, credits, vault, audit })
  const keyMigrations = new KeyMigrationService(stores, clock, { apis, keys, permissions, cache: keyCache, audit })
  // Key and identity limits have their own counters, apart from ratelimit namespaces.
  const keyLimiter = cluster?.limiter(clock) ?? new SlidingWindowLimiter(clock, { maxEntries: tunables.ratelimitMaxCounters })
  const verifier = new KeyVerifier(clock, {
    loader: keyLoader,
    keyMigrations,
    credits,
    events,
    ratelimits: keyRatelimitStep(keyLimiter, ratelimitEvents),
    eventRoom: () => events.room() ?? ratelimitEvents.room(),
  })

  // Changes that can alter how any key of a workspace verifies reload that workspace's keys.
  const invalidateWorkspace = (workspaceId: string) => keyCache.invalidateWorkspace(workspaceId)
  identities.onChange(invalidateWorkspace)
  permissions.onChange(invalidateWorkspace)
  apis.onDeleted((api) => invalidateWorkspace(api.workspaceId))
  keyAccess.onChange((keyId) => keyCache.invalidateKey(keyId))
  // ...and every node's changes reach every node's caches.
  cluster?.connectCaches({ keys: keyCache, rootKeys, ratelimits: ratelimit })

  /** Writes everything batched in memory (usage times, credits, events, held rollups). Safe to call any time. */
  async function flush(): Promise<void> {
    await flushBatches()
    await stores.eventWriter.settle()
  }

  /**
   * The timer's flush: everything but the rollups an event writer holds back, which it writes on
   * its own clock. Asking for them here too wrote each second's rollups in two halves, and a key
   * verified in both halves cost two upserts per grain (2.5-4 µs more of the writer's time per
   * verification over the benchmark's 2,500 keys).
   */
  async function flushBatches(): Promise<void> {
    await rootKeys.flushUsage()
    await credits.flush()
    await events.flush()
    await ratelimitEvents.flush()
  }

  const scheduledJobs = serialJob(async () => {
    await credits.runRefills()
    await events.prune(clock.now() - tunables.verificationRetentionDays * 86_400_000)
    await ratelimitEvents.prune(clock.now() - tunables.ratelimitEventRetentionDays * 86_400_000)
    await analytics.pruneRollups()
    await audit.prune(clock.now() - tunables.auditRetentionDays * 86_400_000)
  })

  /**
   * Runs scheduled jobs now (refills, event and audit log retention); also run at start so that work
   * missed while down happens. Never two runs at once: the prunes keep a cursor between slices.
   */
  function runScheduledJobs(): Promise<void> {
    return scheduledJobs.run()
  }

  /** Starts periodic background work (the server runs the scheduled jobs once itself before serving); returns a function that stops it. */
  function startBackground(): () => void {
    const report = (error: unknown) => process.stderr.write(`${JSON.stringify({ level: 'error', message: 'background job failed', error: String(error) })}\n`)
    const flushTimer = setInterval(() => flushBatches().catch(report), tunables.flushIntervalMs)
    const jobTimer = setInterval(() => scheduledJobs.tick()?.catch(report), tunables.jobIntervalMs)
    return () => {
      clearInterval(flushTimer)
      clearInterval(jobTimer)
    }
  }

  return {
    stores,
    clock,
    tunables,
    audit,
    workspaces,
    rootKeys,
    apis,
    identities,
    permissions,
    ratelimit,
    keyAccess,
    keyCache,
    keyLoader,
    credits,
    events,
    ratelimitEvents,
    analytics,
    keys,
    vault,
    keyMigrations,
    verifier,
    flush,
    runScheduledJobs,
    startBackground,
  }
}

export type Services = ReturnType<typeof createServices>

/**
 * A job that never runs twice at once. `run()` during a run gets the next
 * run, which starts when the current one ends (shared by every caller
 * meanwhile: each asked for a run that starts after its call). `tick()`, the
 * timer's, skips a turn while a run is in progress (null).
 */
export function serialJob(job: () => Promise<void>) {
  let current: Promise<void> | null = null
  let next: Promise<void> | null = null
  const start = (): Promise<void> => {
    const run = job().finally(() => {
      if (current === run) current = null
    })
    current = run
    return run
  }
  return {
    run(): Promise<void> {
      // `next` first: between the end of a run and the start of the one queued after it, `current` is null.
      if (next) return next
      if (current === null) return start()
      next = current.then(NOTHING, NOTHING).then(() => {
        next = null
        return start()
      })
      return next
    },
    tick(): Promise<void> | null {
      return current === null && next === null ? start() : null
    },
  }
}

const NOTHING = () => {}
