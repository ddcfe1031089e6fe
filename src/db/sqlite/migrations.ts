// Numbered schema migrations, applied in order at start. Kept as TypeScript so
// they are bundled into the compiled binary. Never edit a released migration:
// add a new one.
export type { Migration } from './migrations/migration'
import type { Migration } from './migrations/migration'

import { initialSchema } from './migrations/initial'
import { reliabilitySchema } from './migrations/reliability'
import { auditAnalyticsSchema } from './migrations/audit-analytics'
import { rootKeyVersionSchema } from './migrations/root-key-version'
import { leanEventsSchema } from './migrations/lean-events'

/** Every migration, in order. */
export const migrations: Migration[] = [...initialSchema, ...reliabilitySchema, ...auditAnalyticsSchema, ...rootKeyVersionSchema, ...leanEventsSchema]
