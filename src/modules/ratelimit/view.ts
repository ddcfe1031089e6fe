// How ratelimit records are shown in responses: a key's or identity's named
// ratelimits, namespaces and their overrides.
import type { RatelimitDefinition } from '../../db/stores/ratelimitDefinitions'
import type { RatelimitNamespaceSummary, RatelimitOverride } from '../../db/stores/ratelimitNamespaces'

export const ratelimitView = (d: RatelimitDefinition) => ({ id: d.id, name: d.name, limit: d.limit, duration: d.duration, autoApply: d.autoApply })

export const overrideView = (o: RatelimitOverride) => ({
  overrideId: o.id,
  duration: o.duration,
  identifier: o.identifier,
  limit: o.limit,
})

export const namespaceView = (n: RatelimitNamespaceSummary) => ({ id: n.id, name: n.name, createdAt: n.createdAt, overrideCount: n.overrideCount })
