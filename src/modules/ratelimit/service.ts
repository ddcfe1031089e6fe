// Ratelimit namespaces, overrides and limit decisions (being built).
import type { Database } from '../../db/database'
import type { Clock } from '../../clock'

export class RatelimitService {
  constructor(
    readonly db: Database,
    readonly clock: Clock,
  ) {}
}
