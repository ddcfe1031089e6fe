// EventBuffer (src/modules/analytics/event-buffer.ts) on its own, with a
// write function whose speed the test sets: the rules about when writes start
// and who waits, which the HTTP tests (verifyKey.backlog) see only through a
// real database. A stream of early writes must never keep a flush() (the
// timer's whole write, which carries the last-used times) waiting, and a write
// that hangs must not hold anyone past maxWaitMs.
import { describe, expect, test } from 'bun:test'
import { PartialBatchError } from '../../../src/db/stores/analytics'
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
    let hang = true
    const writes: number[][] = []
    const buffer = new EventBuffer<number>(
      'test events',
      (events) => {
        writes.push(events)
        return hang ? new Promise<void>((resolve) => (release = resolve)) : Promise.resolve()
      },
      { maxBuffered: 2, writeAt: 2, maxWaitMs: 200 },
    )
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
    // The write settled and the next one took the oldest two (maxBuffered) of the 20 that waited: a
    // write hands over no more than that at a time, so that room() never waits for more.
    expect(writes).toEqual([
      [1, 2],
      [0, 1],
    ])
    expect(buffer.buffered).toBe(18)
    hang = false
    release()
    await buffer.flush()
    expect(buffer.buffered).toBe(0)
    expect(writes.flat()).toEqual([1, 2, ...Array.from({ length: 19 }, (_, i) => i), 19])
    expect(writes.every((w) => w.length <= 2)).toBe(true)
  })

  test('a whole write hands its events over maxBuffered at a time, what is kept beside them with the last; room() waits for one of those', async () => {
    const calls: { events: number[]; early: boolean }[] = []
    let release = () => {}
    const buffer = new EventBuffer<number>(
      'test events',
      (events, early) => {
        calls.push({ events, early })
        return new Promise<void>((resolve) => (release = resolve))
      },
      { maxBuffered: 3, writeAt: 1_000 },
      () => true,
    )
    for (let i = 0; i < 35; i++) buffer.push(i)
    const flushed = buffer.flush()
    await sleep(0)
    expect(calls).toEqual([{ events: [0, 1, 2], early: true }])
    // 32 not handed over yet: past ten buffers (30), so room() waits, for this call only.
    expect(buffer.buffered).toBe(32)
    const room = buffer.room()
    expect(room).toBeInstanceOf(Promise)
    release()
    await room
    await sleep(0)
    expect(calls).toHaveLength(2)
    expect(buffer.room()).toBeNull()
    for (let n = 2; n <= 12; n++) {
      release()
      await sleep(0)
    }
    await flushed
    expect(calls.map((c) => c.events.length)).toEqual([3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 2])
    expect(calls.map((c) => c.early)).toEqual([...Array(11).fill(true), false])
    expect(calls.flatMap((c) => c.events)).toEqual(Array.from({ length: 35 }, (_, i) => i))
    expect(buffer.buffered).toBe(0)
  })

  test('a part that fails puts back what it and the parts after it did not write, and only that', async () => {
    const written: number[] = []
    let calls = 0
    const buffer = new EventBuffer<number>(
      'test events',
      async (events) => {
        if (++calls === 2) {
          written.push(events[0]!)
          throw new PartialBatchError('disk full', 1)
        }
        written.push(...events)
      },
      { maxBuffered: 3, writeAt: 1_000, onError: () => {} },
    )
    for (let i = 0; i < 8; i++) buffer.push(i)
    await expect(buffer.flush()).rejects.toThrow()
    expect(written).toEqual([0, 1, 2, 3])
    expect(buffer.buffered).toBe(4)
    await buffer.flush()
    expect(written).toEqual([0, 1, 2, 3, 4, 5, 6, 7])
  })
})
