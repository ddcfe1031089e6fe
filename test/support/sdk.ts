// The official SDK (@unkey/api) against a real listening latch, shared by the SDK
// tests of every module: one fixture that serves a Harness for the whole file,
// and helpers that turn the SDK's parse failures into readable test failures.
import { afterAll, beforeAll, expect } from 'bun:test'
import { runtime } from '#runtime'
import { Unkey } from '@unkey/api'
import { ResponseValidationError, UnkeyError } from '@unkey/api/models/errors'
import type { Listener } from '../../src/runtime/runtime'
import { Harness, TEST_LISTEN } from './harness'

export interface SdkFixture {
  h: Harness
  /** A `*` root key of the fixture's workspace. */
  rootKey: string
  workspaceId: string
  /** Where the harness listens. */
  url: string
  /** An SDK client holding `rootKey`. */
  unkey: Unkey
  /** An SDK client holding another root key; like `unkey`, it never retries. */
  client: (rootKey: string) => Unkey
}

/**
 * For the whole file: a Harness served on a free port, a `*` root key of
 * `workspace` and an SDK client holding it, handed to `assign` before all
 * tests; the server is stopped and the harness closed after them.
 */
export function withSdk(assign: (fixture: SdkFixture) => unknown, workspace = 'acme'): void {
  let h: Harness | undefined
  let server: Listener | undefined
  beforeAll(async () => {
    const current = new Harness()
    h = current
    // latch's own listener (src/runtime/): Bun's server under Bun, Deno.serve under Deno.
    server = runtime.listen(current.app, TEST_LISTEN)
    const url = `http://127.0.0.1:${server.port}`
    const client = (rootKey: string) => new Unkey({ rootKey, serverURL: url, retryConfig: { strategy: 'none' } })
    const rootKey = await current.rootKey(workspace)
    await assign({ h: current, rootKey, workspaceId: await current.workspaceId(workspace), url, unkey: client(rootKey), client })
  })
  afterAll(async () => {
    await server?.stop()
    await h?.close()
  })
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
