// Numbered PostgreSQL schema migrations, applied in order at start (src/db/postgres/migrate.ts).
// Kept as TypeScript so they are bundled into the compiled binary. Never edit
// a released migration: add a new one. Numbered apart from SQLite's.
import { initialSchema } from './initial'
import { leanEventsSchema } from './lean-events'
import { rollupTagsKeySchema } from './rollup-tags-key'
import type { Migration } from './migration'

export type { Migration } from './migration'

/** Every migration, in order. */
export const migrations: Migration[] = [...initialSchema, ...leanEventsSchema, ...rollupTagsKeySchema]
