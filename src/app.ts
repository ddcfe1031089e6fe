// Builds the latch HTTP application from its modules. No listen(): tests drive
// it with app.handle(new Request(...)); src/server.ts serves it.
import { Elysia, t } from 'elysia'
import type { Database } from './db/database'
import { systemClock, type Clock } from './clock'
import { authPlugin, assertRoutesProtected, principalFromHeader } from './http/auth'
import { errorHandler } from './http/error-handler'
import { requestContext, ok, type Logger } from './http/request-context'
import { docs } from './http/openapi'
import { envelope } from './http/schemas'
import { RootKeyService } from './modules/rootkeys/service'
import { ApiService } from './modules/apis/service'
import { apisRoutes } from './modules/apis/routes'
import { IdentityService } from './modules/identities/service'
import { RbacService } from './modules/permissions/service'
import { KeyService } from './modules/keys/service'
import { KeyVerifier } from './modules/keys/verify'
import { keyRatelimitStep } from './modules/keys/ratelimits'
import { SlidingWindowLimiter } from './modules/ratelimit/limiter'
import { permissionsQuerySyntaxError } from './http/errors'
import { evaluatePermissionQuery, parsePermissionQuery, PermissionQuerySyntaxError } from './modules/permissions/query'
import { Vault, type MasterKeySource } from './modules/keys/vault'
import { keysRoutes } from './modules/keys/routes'
import { identitiesRoutes } from './modules/identities/routes'
import { permissionsRoutes } from './modules/permissions/routes'
import { ratelimitRoutes } from './modules/ratelimit/routes'
import { RatelimitService } from './modules/ratelimit/service'

export const VERSION = '0.1.0'

export interface AppOptions {
  db: Database
  clock?: Clock
  /** Request log sink; null disables request logging. */
  log?: Logger | null
  /** Where unexpected errors are reported (with the request id). */
  logError?: (requestId: string, error: unknown) => void
  /** Master key for recoverable keys (none: recoverable keys are refused with 412). */
  masterKey?: MasterKeySource
}

export function createServices(db: Database, clock: Clock, masterKey: MasterKeySource = {}) {
  const rootKeys = new RootKeyService(db, clock)
  const apis = new ApiService(db, clock)
  const identities = new IdentityService(db, clock)
  const rbac = new RbacService(db, clock)
  const keys = new KeyService(db, clock, { apis, identities, rbac, vault: new Vault(masterKey) })
  const ratelimit = new RatelimitService(db, clock)
  const verifier = new KeyVerifier(keys, clock, {
    permissionQuery: (input) => {
      try {
        const query = parsePermissionQuery(input)
        return (has) => evaluatePermissionQuery(query, has)
      } catch (error) {
        if (error instanceof PermissionQuerySyntaxError) throw permissionsQuerySyntaxError(error.message)
        throw error
      }
    },
    // Key and identity limits have their own counters, apart from ratelimit namespaces.
    ratelimits: keyRatelimitStep(new SlidingWindowLimiter(clock)),
  })
  // Identity and RBAC changes can alter how any key of the workspace verifies.
  identities.onChange((workspaceId) => keys.cache.invalidateWorkspace(workspaceId))
  rbac.onChange((workspaceId) => keys.cache.invalidateWorkspace(workspaceId))
  return {
    db,
    clock,
    rootKeys,
    apis,
    identities,
    rbac,
    keys,
    verifier,
    ratelimit,
    auth: authPlugin(rootKeys),
    /** Writes everything batched in memory (usage times, credits, events). Safe to call any time. */
    flush() {
      rootKeys.flushUsage()
      keys.flush()
    },
    /** Runs scheduled jobs now (refills); also run at start so that work missed while down happens. */
    runScheduledJobs() {
      keys.runRefills()
    },
    /** Starts periodic background work; returns a function that stops it. */
    startBackground(): () => void {
      this.runScheduledJobs()
      const flushTimer = setInterval(() => this.flush(), 1_000)
      const jobTimer = setInterval(() => this.runScheduledJobs(), 60_000)
      return () => {
        clearInterval(flushTimer)
        clearInterval(jobTimer)
      }
    },
  }
}

export type AppServices = ReturnType<typeof createServices>

const defaultLogError = (requestId: string, error: unknown) => {
  const e = error as Error
  process.stderr.write(
    JSON.stringify({ time: new Date().toISOString(), level: 'error', requestId, error: e?.name, message: e?.message, stack: e?.stack }) + '\n',
  )
}

export function createApp(options: AppOptions) {
  const services = createServices(options.db, options.clock ?? systemClock, options.masterKey)
  const authenticate = (request: Request) => {
    principalFromHeader(services.rootKeys, request.headers.get('authorization'))
  }
  // normalize: false so that unknown body fields are a 400 instead of being dropped.
  const app = new Elysia({ normalize: false })
    .use(requestContext(options.log ?? null))
    .use(errorHandler(options.logError ?? defaultLogError, authenticate))
    .use(docs(VERSION))
    .get('/v2/liveness', ({ request }) => ok(request, { message: "we're cooking" }), {
      response: { 200: envelope(t.Object({ message: t.String() })) },
      detail: { summary: 'Liveness', description: 'Answers 200 while the server is up. No authentication.', tags: ['health'] },
    })
    .get('/v1/liveness', ({ request }) => ok(request, { message: "we're cooking" }))
  for (const prefix of ['/v2', '/v1']) {
    app.use(apisRoutes(services, prefix))
    app.use(keysRoutes(services, prefix))
    app.use(identitiesRoutes(services, prefix))
    app.use(permissionsRoutes(services, prefix))
    app.use(ratelimitRoutes(services, prefix))
  }
  assertRoutesProtected(app.routes)
  return { app, services }
}

export type App = ReturnType<typeof createApp>['app']
