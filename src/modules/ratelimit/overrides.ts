// Matching an identifier against a namespace's overrides: an exact
// identifier first, then `*` patterns, most specific first (more literal
// characters; then fewer wildcards; then by text), the precedence described
// at the top of ./service.ts. Kept apart from the service, which caches one
// OverrideSet per namespace.
import type { RatelimitOverride } from '../../db/stores/ratelimitNamespaces'

/** A `*` pattern split into its literal parts: `a*b*` → ['a', 'b', '']. */
interface Wildcard {
  override: RatelimitOverride
  parts: string[]
}

/** True when `identifier` matches the pattern whose literal parts are `parts` (at least two). */
function matchesWildcard(parts: string[], identifier: string): boolean {
  const first = parts[0]!
  const last = parts[parts.length - 1]!
  if (identifier.length < first.length + last.length) return false
  if (!identifier.startsWith(first) || !identifier.endsWith(last)) return false
  // Leftmost placement of each middle part is optimal when `*` is the only operator.
  let at = first.length
  const end = identifier.length - last.length
  for (let i = 1; i < parts.length - 1; i++) {
    const part = parts[i]!
    const found = identifier.indexOf(part, at)
    if (found === -1 || found + part.length > end) return false
    at = found + part.length
  }
  return true
}

/** Sorts wildcard overrides most specific first (see the precedence rule at the top). */
function bySpecificity(a: Wildcard, b: Wildcard): number {
  const literalsA = a.override.identifier.length - (a.parts.length - 1)
  const literalsB = b.override.identifier.length - (b.parts.length - 1)
  if (literalsA !== literalsB) return literalsB - literalsA
  if (a.parts.length !== b.parts.length) return a.parts.length - b.parts.length
  return a.override.identifier < b.override.identifier ? -1 : a.override.identifier > b.override.identifier ? 1 : 0
}

/** The overrides of one namespace, prepared for matching. */
export class OverrideSet {
  private readonly exact = new Map<string, RatelimitOverride>()
  private readonly wildcards: Wildcard[] = []

  constructor(overrides: RatelimitOverride[]) {
    for (const o of overrides) {
      // A pattern is also an exact identifier: an override `a*` applies first to the identifier `a*` itself.
      this.exact.set(o.identifier, o)
      if (o.identifier.includes('*')) this.wildcards.push({ override: o, parts: o.identifier.split('*') })
    }
    this.wildcards.sort(bySpecificity)
  }

  /** The override that applies to `identifier`, if any. */
  match(identifier: string): RatelimitOverride | undefined {
    const exact = this.exact.get(identifier)
    if (exact) return exact
    for (const w of this.wildcards) {
      if (matchesWildcard(w.parts, identifier)) return w.override
    }
    return undefined
  }
}
