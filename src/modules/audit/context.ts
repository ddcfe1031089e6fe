// Who is making the current change, and from where: set once around a unit
// of work (an HTTP handler's service call, a CLI command) and read by
// AuditLog.record deep inside the services, so that no service signature
// has to carry the caller. AsyncLocalStorage.run scopes it to that call and
// everything it awaits; nothing outside sees it (enterWith would leak it into
// whatever runs next on the same async resource).
import { AsyncLocalStorage } from 'node:async_hooks'
import type { AuditActor } from '../../db/stores/audit'

export type { AuditActor }

export interface AuditContext {
  actor: AuditActor
  requestId?: string
  remoteAddr?: string
  userAgent?: string
}

const storage = new AsyncLocalStorage<AuditContext>()

/** Runs `work` with `context` as the current actor (for `work` and everything it awaits). */
export function withActor<T>(context: AuditContext, work: () => T): T {
  return storage.run(context, work)
}

/** The context set by the nearest enclosing `withActor`, if any. */
export function currentAudit(): AuditContext | undefined {
  return storage.getStore()
}
