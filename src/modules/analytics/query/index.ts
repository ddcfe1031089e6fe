// What the analytics routes and the storage side use of the query core: the
// route compiles the caller's query (compileAnalyticsQuery), has the storage
// run `sql` with `params` through `.values()` under a deadline, and renders the
// rows (decodeRows); the storage side supplies one AnalyticsSource per alias.
export type { AnalyticsRoute, AnalyticsSource, AnalyticsSources, Kind, RatelimitTable, SourceScope, TableAlias, VerificationTable } from './catalog'
export { RATELIMIT_TABLES, ROUTE_TABLES, SCOPE_COLUMN, TABLE_COLUMNS, VERIFICATION_TABLES } from './catalog'
export type { CompiledQuery, CompileOptions, OutputColumn, QueryLimits } from './compile'
export { compileAnalyticsQuery, DEFAULT_LIMITS, decodeRows } from './compile'
export { executionTimeout, memoryLimitExceeded, queryFailed, rowsLimitExceeded } from './errors'
