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

  test('a whole write hands its events over maxBuffered at a time, what is kept beside them with the last', async () => {
    const calls: { events: number[]; early: boolean }[] = []
    let hang = true
    let release = () => {}
    const buffer = new EventBuffer<number>(
      'test events',
      (events, early) => {
        calls.push({ events, early })
        return hang ? new Promise<void>((resolve) => (release = resolve)) : Promise.resolve()
      },
      { maxBuffered: 3, writeAt: 3 },
      () => true,
    )
    // An early write of the first three hangs; ten more pile up behind it, and a flush() waits.
    for (let i = 0; i < 13; i++) buffer.push(i)
    const flushed = buffer.flush()
    hang = false
    release()
    await flushed
    expect(calls).toEqual([
      { events: [0, 1, 2], early: true },
      { events: [3, 4, 5], early: true },
      { events: [6, 7, 8], early: true },
      { events: [9, 10, 11], early: true },
      { events: [12], early: false },
    ])
    expect(buffer.buffered).toBe(0)
  })

  test('room() counts the events a whole write has yet to hand over, and waits for one part only', async () => {
    let release = () => {}
    const buffer = new EventBuffer<number>('test events', () => new Promise<void>((resolve) => (release = resolve)), { maxBuffered: 3, writeAt: 3 })
    for (let i = 0; i < 32; i++) buffer.push(i)
    // The early write took three; 29 wait, fewer than ten buffers (30).
    expect(buffer.room()).toBeNull()
    const flushed = buffer.flush()
    release()
    await sleep(0)
    // The whole write's first part has 3 of the 29; 26 are in its hand, and four more arrive.
    for (let i = 0; i < 4; i++) buffer.push(i)
    expect(buffer.buffered).toBe(30)
    const room = buffer.room()
    expect(room).toBeInstanceOf(Promise)
    let roomy = false
    room!.then(() => (roomy = true))
    await sleep(0)
    expect(roomy).toBe(false)
    // Released when that part is written, not the whole write.
    release()
    await sleep(0)
    expect(roomy).toBe(true)
    expect(buffer.buffered).toBe(27)
    expect(buffer.room()).toBeNull()
    for (let i = 0; i < 20; i++) {
      release()
      await sleep(0)
    }
    await flushed
  })

  test('a part that fails puts back what it and the parts after it did not write, and only that', async () => {
    const written: number[] = []
    let calls = 0
    const buffer = new EventBuffer<number>(
      'test events',
      async (events) => {
        // The third call is the whole write's second part (after an early write and a first part).
        if (++calls === 3) {
          written.push(events[0]!)
          throw new PartialBatchError('disk full', 1)
        }
        written.push(...events)
      },
      { maxBuffered: 3, writeAt: 3, onError: () => {} },
    )
    for (let i = 0; i < 11; i++) buffer.push(i)
    await expect(buffer.flush()).rejects.toThrow('disk full')
    expect(written).toEqual([0, 1, 2, 3, 4, 5, 6])
    expect(buffer.buffered).toBe(4)
    await buffer.flush()
    expect(written).toEqual(Array.from({ length: 11 }, (_, i) => i))
  })

  test('a flush() during a write writes what arrived after that write began (shutdown loses nothing)', async () => {
    const written: number[] = []
    let release = () => {}
    const buffer = new EventBuffer<number>(
      'test events',
      (events) => {
        written.push(...events)
        return new Promise<void>((resolve) => (release = resolve))
      },
      { maxBuffered: 100, writeAt: 100 },
    )
    for (let i = 0; i < 5; i++) buffer.push(i)
    // The timer's whole write takes the first five, and hangs; five more arrive.
    const timer = buffer.flush()
    for (let i = 5; i < 10; i++) buffer.push(i)
    let done = false
    const last = buffer.flush().then(() => (done = true))
    release()
    await timer
    await sleep(0)
    expect(done).toBe(false)
    release()
    await last
    expect(written).toEqual(Array.from({ length: 10 }, (_, i) => i))
    expect(buffer.buffered).toBe(0)
  })
})
