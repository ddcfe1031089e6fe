// The id generator (src/ids.ts): one format, unique, and ordered by creation
// time, so that new rows append to the indexes that hold ids.
import { describe, expect, test } from 'bun:test'
import { base58Digits } from '../src/crypto'
import { newId } from '../src/ids'

const FORMAT = /^key_[1-9A-HJ-NP-Za-km-z]{20}$/
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

describe('newId', () => {
  test('is the prefix, 8 base58 digits of the time in ms and 12 random ones', () => {
    const before = base58Digits(Date.now(), 8)
    const id = newId('key')
    const after = base58Digits(Date.now(), 8)
    expect(id).toMatch(FORMAT)
    // Fixed-width digits in ASCII order: comparing the strings compares the times.
    expect(id.slice(4, 12) >= before && id.slice(4, 12) <= after).toBe(true)
  })

  test('sorts by creation time as plain strings (SQLite BINARY order), and never repeats', async () => {
    const ids: string[] = []
    for (let i = 0; i < 5; i++) {
      ids.push(newId('key'))
      await pause(2)
    }
    expect([...ids].sort()).toEqual(ids)
    const many = Array.from({ length: 50_000 }, () => newId('req'))
    expect(new Set(many).size).toBe(many.length)
  })

  test('base58Digits pads to its width and keeps numeric order', () => {
    expect(base58Digits(0, 8)).toBe('11111111')
    expect(base58Digits(57, 2)).toBe('1z')
    expect(base58Digits(58, 2)).toBe('21')
    expect(base58Digits(58 ** 8 - 1, 8)).toBe('zzzzzzzz')
    const times = [0, 1, 57, 58, 3_363, Date.UTC(2026, 0, 1), Date.UTC(2026, 0, 1) + 1, Date.UTC(2100, 0, 1)]
    const digits = times.map((t) => base58Digits(t, 8))
    expect([...digits].sort()).toEqual(digits)
  })
})
