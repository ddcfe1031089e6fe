// Builds the latch HTTP application: request context, error envelope, docs,
// liveness, and each module's routes handed exactly the services they use.
// No listen(): tests drive it with app.handle(new Request(...)); src/server.ts
// serves it.
import { Elysia, t } from 'elysia'
import { dispatcher, type RouteTable } from './runtime/runtime'
import { assertRoutesProtected, authPlugin, isProtected, principalFromHeader } from './http/auth'
import { errorHandler } from './http/error-handler'
import { type HotRoute, hotRoute, refusingRoute } from './http/hot-route'
import { consoleRoutes } from './http/console'
import { docs } from './http/openapi'
import { ok, requestContext, requestIdOf, type Logger } from './http/request-context'
import { envelope } from './http/schemas'
import { analyticsRoutes } from './modules/analytics/routes'
import { apisRoutes } from './modules/apis/routes'
import { auditRoutes } from './modules/audit/routes'
import { identitiesRoutes } from './modules/identities/routes'
import { keyAccessRoutes } from './modules/keys/access-routes'
import { keysRoutes, verifyKeyHotRoute } from './modules/keys/routes'
import { permissionsRoutes } from './modules/permissions/routes'
import { limitHotRoute, ratelimitRoutes } from './modules/ratelimit/routes'
import { rootKeysRoutes } from './modules/rootkeys/routes'
import type { Services } from './services'
import { VERSION } from './version'

export interface AppOptions {
  /** Request log sink; null disables request logging. */
  log?: Logger | null
  /** Where unexpected errors are reported (with the request id). */
  logError?: (requestId: string, error: unknown) => void
}

const defaultLogError = (requestId: string, error: unknown) => {
  const e = error as Error
  process.stderr.write(
    `${JSON.stringify({ time: new Date().toISOString(), level: 'error', requestId, error: e?.name, message: e?.message, stack: e?.stack })}\n`,
  )
}

/** Liveness answer. The routes call it from an inline arrow: Elysia reads a handler's source to learn what it uses. */
const liveness = (request: Request, set: { headers: Record<string, unknown> }) => {
  set.headers['x-request-id'] = requestIdOf(request)
  return ok(request, { message: "we're cooking" })
}

export function createApp(services: Services, options: AppOptions = {}) {
  const { rootKeys } = services
  const auth = authPlugin(rootKeys, services.tunables)
  const authenticate = async (request: Request) => {
    await principalFromHeader(rootKeys, request.headers.get('authorization'))
  }
  const logError = options.logError ?? defaultLogError
  // The hot routes (src/http/hot-route.ts), in front of their Elysia routes: Bun.serve answers them from
  // its route table, and `handler` below does the same for app.handle and Deno.
  const hot = (route: HotRoute) =>
    hotRoute(route, {
      rootKeys,
      limits: services.tunables,
      log: options.log ?? null,
      logError,
      server: () => app.server,
      elysia: (request) => app.handle(request),
    })
  const routes: RouteTable = {}
  for (const [path, route] of [
    ['/keys.verifyKey', hot(verifyKeyHotRoute(services.verifier))],
    ['/ratelimit.limit', hot(limitHotRoute(services.ratelimit))],
  ] as const) {
    for (const prefix of ['/v2', '/v1']) routes[`${prefix}${path}`] = { POST: route(`${prefix}${path}`) }
  }
  // normalize: false so that unknown body fields are a 400 instead of being dropped. standardHostname:
  // false, because Elysia otherwise looks for the path from the URL's twelfth character on (past
  // "http://" and a host of four or more), and a shorter Host ("api", a service behind a proxy) missed
  // every route that a hot or refusing route hands on.
  const app = new Elysia({ normalize: false, handler: { standardHostname: false }, serve: { routes } as never })
    .use(requestContext(options.log ?? null))
    .use(errorHandler(logError, authenticate))
    .use(docs(VERSION))
    .use(consoleRoutes())
    .get('/v2/liveness', ({ request, set }) => liveness(request, set), {
      response: { 200: envelope(t.Object({ message: t.String() })) },
      detail: { summary: 'Liveness', description: 'Answers 200 while the server is up. No authentication.', tags: ['health'] },
    })
    .get('/v1/liveness', ({ request, set }) => liveness(request, set))
  const { apis, identities, permissions, ratelimit, keys, keyMigrations, keyLoader, keyAccess, verifier, audit, analytics } = services
  for (const prefix of ['/v2', '/v1']) {
    app.use(apisRoutes({ apis, auth }, prefix))
    app.use(keysRoutes({ keys, keyMigrations, keyLoader, verifier, auth }, prefix))
    app.use(keyAccessRoutes({ keys, keyAccess, permissions, auth }, prefix))
    app.use(identitiesRoutes({ identities, auth }, prefix))
    app.use(permissionsRoutes({ permissions, auth }, prefix))
    app.use(ratelimitRoutes({ ratelimit, auth }, prefix))
    app.use(analyticsRoutes({ analytics, auth }, prefix))
    app.use(auditRoutes({ audit, auth }, prefix))
    app.use(rootKeysRoutes({ rootKeys, clock: services.clock, auth }, prefix))
  }
  assertRoutesProtected(app.routes)
  // Every other protected route refuses a request without a valid root key before Elysia sees it.
  const refusing = refusingRoute({ rootKeys, log: options.log ?? null, elysia: (request) => app.handle(request) })
  for (const route of app.routes) {
    if (route.method === 'POST' && !routes[route.path] && isProtected(route)) routes[route.path] = { POST: refusing(route.path) }
  }
  return app
}

export type App = ReturnType<typeof createApp>

/** The app as its listener runs it: `serve.routes` first (see src/runtime/runtime.ts), then Elysia. For tests and scripts in place of `app.handle`. */
export function handler(app: App): (request: Request) => Response | Promise<Response> {
  return dispatcher(app, (request) => app.handle(request))
}
