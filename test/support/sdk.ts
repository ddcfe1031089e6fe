// The official SDK (@unkey/api) against a real listening latch, shared by the SDK
// tests of every module.
import { expect } from 'bun:test'
import { Unkey } from '@unkey/api'
import { ResponseValidationError, UnkeyError } from '@unkey/api/models/errors'
import type { Harness } from './harness'

/** Serves `h.app` on a free port; `client(key)` talks to it without retries. */
export function serveForSdk(h: Harness) {
  const server = Bun.serve({ port: 0, fetch: (req) => h.app.handle(req) })
  return {
    client: (rootKey: string) => new Unkey({ rootKey, serverURL: `http://127.0.0.1:${server.port}`, retryConfig: { strategy: 'none' } }),
    stop: () => server.stop(true),
  }
}

/** Awaits an SDK call that must succeed; a ResponseValidationError fails with the zod issues. */
export async function parsed<T>(call: Promise<T>): Promise<T> {
  try {
    return await call
  } catch (error) {
    if (error instanceof ResponseValidationError) throw new Error(`the SDK could not parse the response: ${error.pretty()}`)
    throw error
  }
}

/** Awaits an SDK call that must fail and returns the error. */
export async function failure(call: Promise<unknown>): Promise<UnkeyError> {
  try {
    await call
  } catch (error) {
    if (error instanceof ResponseValidationError) throw new Error(`the SDK could not parse the error: ${error.pretty()}`)
    expect(error).toBeInstanceOf(UnkeyError)
    return error as UnkeyError
  }
  throw new Error('expected the SDK call to fail')
}

/** Every page the SDK's iterator yields; fails if it does not end within `maxPages` (a cursor that never ends). */
export async function allPages<P>(first: AsyncIterable<P>, maxPages = 10): Promise<P[]> {
  const pages: P[] = []
  for await (const page of first) {
    pages.push(page)
    if (pages.length > maxPages) throw new Error('the SDK page iterator does not end')
  }
  return pages
}
