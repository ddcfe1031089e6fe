// The id generator (src/ids.ts): one format, unique, and ordered by creation
// time, so that new rows append to the indexes that hold ids.
import { describe, expect, setSystemTime, test } from 'bun:test'
import { base58Digits } from '../src/crypto'
import { newId } from '../src/ids'

const FORMAT = /^key_[1-9A-HJ-NP-Za-km-z]{20}$/

describe('newId', () => {
  test('is the prefix, 8 base58 digits of the time in ms and 12 random ones', () => {
    setSystemTime(new Date(Date.UTC(2026, 10, 28, 12, 0, 0, 123)))
    try {
      const id = newId('key')
      expect(id).toMatch(FORMAT)
      expect(id.slice(4, 12)).toBe(base58Digits(Date.UTC(2026, 10, 28, 12, 0, 0, 123), 8))
    } finally {
      setSystemTime()
    }
  })

  test('sorts by creation time as plain strings (SQLite BINARY order), and never repeats', () => {
    const ids: string[] = []
    const times = [0, 1, 57, 58, 3_363, Date.UTC(2026, 0, 1), Date.UTC(2026, 0, 1) + 1, Date.UTC(2100, 0, 1)]
    try {
      for (const time of times) {
        setSystemTime(new Date(time))
        for (let i = 0; i < 3; i++) ids.push(newId('key'))
      }
    } finally {
      setSystemTime()
    }
    const times8 = ids.map((id) => id.slice(4, 12))
    expect([...times8].sort()).toEqual(times8)
    expect(new Set(times8).size).toBe(times.length)
    const many = Array.from({ length: 50_000 }, () => newId('req'))
    expect(new Set(many).size).toBe(many.length)
  })

  test('base58Digits pads to its width and keeps numeric order', () => {
    expect(base58Digits(0, 8)).toBe('11111111')
    expect(base58Digits(57, 2)).toBe('1z')
    expect(base58Digits(58, 2)).toBe('21')
    expect(base58Digits(58 ** 8 - 1, 8)).toBe('zzzzzzzz')
  })
})
