// The error types of the two analytics routes (analytics.getVerifications,
// analytics.getRatelimits), as ApiErrors the HTTP layer already renders into
// the Unkey envelope. Each names the offending table, function or clause in
// `detail`; the query core throws only these, never a raw parser or SQLite error.
import { ApiError } from '../../../errors'

const USER = 'https://unkey.com/docs/errors/user/'

const badRequest = (type: string) => (detail: string) => new ApiError(400, 'Bad Request', `${USER}bad_request/${type}`, detail, [])
const unprocessable = (type: string) => (detail: string) => new ApiError(422, 'Unprocessable Entity', `${USER}unprocessable_entity/${type}`, detail)

/** Syntax, more than one statement, too long or complex, or an error while running it. */
export const invalidQuery = badRequest('invalid_analytics_query')
/** A table other than the route's five aliases, or a CTE that shadows one. */
export const invalidTable = badRequest('invalid_analytics_table')
/** A function (or table function) that is not on the allow-list. */
export const invalidFunction = badRequest('invalid_analytics_function')
/** Anything but a SELECT. */
export const invalidQueryType = badRequest('invalid_analytics_query_type')
/** An explicit lower time bound older than the table's retention. */
export const rangeExceedsRetention = badRequest('query_range_exceeds_retention')

/** The caller's execution deadline passed. */
export const executionTimeout = unprocessable('query_execution_timeout')
/** The encoded response would be too large. */
export const memoryLimitExceeded = unprocessable('query_memory_limit_exceeded')
/** More result rows than the cap. */
export const rowsLimitExceeded = unprocessable('query_rows_limit_exceeded')

/**
 * SQLite refused or failed the translated query (a misplaced aggregate, an
 * ambiguous column): like every error while running it, a 400 and never a 500.
 * SQLite's message speaks of latch's generated names (t0, c1), never of rows.
 */
export const queryFailed = (error: unknown) => invalidQuery(`The query could not be run: ${error instanceof Error ? error.message : String(error)}.`)
