// EventBuffer (src/modules/analytics/event-buffer.ts) on its own, with a
// write function whose speed the test sets: the rules about when writes start
// and who waits, which the HTTP tests (verifyKey.backlog) see only through a
// real database. A stream of early writes must never keep a flush() (the
// timer's whole write, which carries the last-used times) waiting, and a write
// that hangs must not hold anyone past maxWaitMs.
import { describe, expect, test } from 'bun:test'
import { EventBuffer } from '../../../src/modules/analytics/event-buffer'

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

describe('EventBuffer', () => {
  test('a flush() resolves while events keep arriving faster than early writes clear them, and its write is a whole one', async () => {
    const writes: boolean[] = []
    const buffer = new EventBuffer<number>(
      'test events',
      async (_events, early) => {
        writes.push(early)
        await sleep(20)
      },
      { maxBuffered: 5_000, writeAt: 50 },
      () => true,
    )
    const producer = setInterval(() => {
      for (let i = 0; i < 100; i++) buffer.push(i)
    }, 2)
    try {
      await sleep(50)
      let flushed = false
      const flush = buffer.flush().then(() => (flushed = true))
      const deadline = Date.now() + 3_000
      while (!flushed && Date.now() < deadline) await sleep(20)
      expect(flushed).toBe(true)
      await flush
      expect(writes.includes(false)).toBe(true)
    } finally {
      clearInterval(producer)
    }
    await buffer.flush()
  })

  test('past ten buffers behind a write, room() waits for that write; never past maxWaitMs for one that hangs', async () => {
    let release = () => {}
    const buffer = new EventBuffer<number>('test events', () => new Promise<void>((resolve) => (release = resolve)), {
      maxBuffered: 2,
      writeAt: 2,
      maxWaitMs: 200,
    })
    buffer.push(1)
    buffer.push(2)
    // The first write (events 1 and 2) hangs; until ten buffers' worth wait behind it, nobody waits.
    for (let i = 0; i < 19; i++) buffer.push(i)
    expect(buffer.room()).toBeNull()
    buffer.push(19)
    const room = buffer.room()
    expect(room).toBeInstanceOf(Promise)
    const started = performance.now()
    await room
    // Released by the time limit, not by the write.
    expect(performance.now() - started).toBeGreaterThanOrEqual(150)
    expect(buffer.room()).toBeNull()
    release()
    await sleep(0)
    // The write settled and the next one took the 20 events that waited.
    expect(buffer.buffered).toBe(0)
    release()
    await buffer.flush()
  })
})
