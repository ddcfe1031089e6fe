// The audit context of an HTTP call: the calling root key and the request's
// id, remote address (the socket's peer, as Bun reports it; no proxy header
// is trusted) and user agent. Mutating handlers run their service call inside
// `withActor(auditContextOf(auth, request, server), ...)`. The request facts
// are read only when an event is actually recorded, so wrapping a route that
// rarely writes (ratelimit.limit creating a namespace) costs next to nothing.
import type { AuditContext } from '../modules/audit/context'
import type { AuthContext } from '../rbac/requirements'
import { requestIdOf } from './request-context'

/** What the handler context's `server` offers (null under app.handle, as in tests). */
export interface PeerSource {
  requestIP(request: Request): { address: string } | null
}

export function auditContextOf(auth: Pick<AuthContext, 'rootKeyId'>, request: Request, server?: PeerSource | null): AuditContext {
  return {
    actor: { type: 'root_key', id: auth.rootKeyId },
    get requestId() {
      return requestIdOf(request)
    },
    get remoteAddr() {
      try {
        return server?.requestIP(request)?.address
      } catch {
        // A request that did not arrive through this server's socket has no peer to name.
        return undefined
      }
    },
    get userAgent() {
      return request.headers.get('user-agent') ?? undefined
    },
  }
}
