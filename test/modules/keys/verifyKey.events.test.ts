// What verification events cost: bounded per event, never kept for unknown
// keys' tags, kept (within a bound) while the database cannot be written, and
// pruned after the retention period.
import { describe, expect, test } from 'bun:test'
import type { Harness } from '../../support/harness'
import { type KeysFixture, withKeys } from '../../support/keys'

let h: Harness
let create: KeysFixture['create']
let verify: KeysFixture['verify']
withKeys((f) => ({ h, create, verify } = f))

const storedTags = () => (h.db.query('SELECT tags FROM verification_events ORDER BY id').all() as { tags: string | null }[]).map((r) => r.tags)
const eventCount = () => (h.db.query('SELECT COUNT(*) AS n FROM verification_events').get() as { n: number }).n

describe('verification events', () => {
  test('tags of an unknown key are not stored; the event is', async () => {
    const tags = Array.from({ length: 20 }, (_, i) => `${i}`.padEnd(512, 'x'))
    await verify({ key: 'unknown_1234567890', tags })
    await h.services.flush()
    expect(storedTags()).toEqual([null])
  })

  test('one event keeps whole tags up to 1024 characters', async () => {
    const { key } = await create({})
    const tags = Array.from({ length: 20 }, (_, i) => `${i}`.padEnd(300, 'x'))
    await verify({ key, tags })
    await verify({ key, tags: ['route=/checkout', 'region=eu'] })
    await h.services.flush()
    expect(storedTags()).toEqual([JSON.stringify(tags.slice(0, 3)), '["route=/checkout","region=eu"]'])
  })

  test('events that could not be written stay buffered and are written by the next flush', async () => {
    const { key } = await create({})
    await verify({ key })
    const store = h.stores.verificationEvents as any
    const insertMany = store.insertMany
    store.insertMany = async () => {
      throw new Error('disk full')
    }
    await expect(h.services.events.flush()).rejects.toThrow('disk full')
    await verify({ key })
    store.insertMany = insertMany
    expect(h.services.events.buffered).toBe(2)
    await h.services.flush()
    expect(eventCount()).toBe(2)
  })

  test('the scheduled job deletes events older than the retention period (30 days)', async () => {
    const { key } = await create({})
    await verify({ key })
    await h.services.flush()
    h.clock.advance(29 * 86_400_000)
    await verify({ key })
    await h.services.flush()
    await h.services.runScheduledJobs()
    expect(eventCount()).toBe(2)
    h.clock.advance(2 * 86_400_000)
    await h.services.runScheduledJobs()
    expect(eventCount()).toBe(1)
  })
})
