// Key material: generation, hashing, constant-time comparison and the
// encryption of recoverable keys. Nothing here ever logs a secret.
import { runtime } from '#runtime'
import { createCipheriv, createDecipheriv, randomBytes, randomFillSync } from 'node:crypto'

const BASE58 = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz'

/** Bitcoin-alphabet base58; leading zero bytes become '1'. */
export function base58(bytes: Uint8Array): string {
  let zeros = 0
  while (zeros < bytes.length && bytes[zeros] === 0) zeros++
  const digits: number[] = []
  for (let i = zeros; i < bytes.length; i++) {
    let carry = bytes[i]!
    for (let j = 0; j < digits.length; j++) {
      carry += digits[j]! << 8
      digits[j] = carry % 58
      carry = (carry / 58) | 0
    }
    while (carry > 0) {
      digits.push(carry % 58)
      carry = (carry / 58) | 0
    }
  }
  let out = '1'.repeat(zeros)
  for (let i = digits.length - 1; i >= 0; i--) out += BASE58[digits[i]!]
  return out
}

// Random bytes are drawn from the system in blocks and handed out in slices: one
// system call per 4 KiB instead of one per id (request ids are made per request).
const pool = Buffer.allocUnsafe(4096)
let pooled = pool.length

/** `byteLength` fresh random bytes (a copy: callers may keep them). */
function randomSlice(byteLength: number): Uint8Array {
  if (byteLength > pool.length) return randomBytes(byteLength)
  if (pooled + byteLength > pool.length) {
    randomFillSync(pool)
    pooled = 0
  }
  const bytes = pool.subarray(pooled, pooled + byteLength)
  pooled += byteLength
  return Uint8Array.from(bytes)
}

export function randomBase58(byteLength: number): string {
  return base58(randomSlice(byteLength))
}

/**
 * `count` random base58 characters, one pooled byte each: a byte below 232
 * (4 × 58) picks a character without bias, others are skipped. Several times
 * cheaper than `randomBase58` (no big-number division, no copy), for ids made
 * per request; secrets keep using `randomBase58`.
 */
export function randomBase58Chars(count: number): string {
  let out = ''
  while (out.length < count) {
    if (pooled >= pool.length) {
      randomFillSync(pool)
      pooled = 0
    }
    const byte = pool[pooled++]!
    if (byte < 232) out += BASE58[byte % 58]
  }
  return out
}

/** `value` (a non-negative integer below 58^width) as exactly `width` base58 digits, most significant first. */
export function base58Digits(value: number, width: number): string {
  let out = ''
  for (let i = 0; i < width; i++) {
    out = BASE58[value % 58] + out
    value = Math.floor(value / 58)
  }
  return out
}

/** base64(SHA-256(utf8 key)), the only form in which a key is stored. */
export const hashKey: (key: string) => string = runtime.sha256Base64

/**
 * Compares two stored-form digests (`hashKey` output) in time that depends
 * only on their length: no early exit at the first differing character.
 */
export function digestsEqual(a: string, b: string): boolean {
  if (a.length !== b.length) return false
  let diff = 0
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i)
  return diff === 0
}

export interface GeneratedKey {
  key: string
  hash: string
  start: string
}

/** `prefix_` + base58(random bytes); `start` is the prefix plus the first characters. */
export function generateKey(prefix: string | undefined, byteLength: number): GeneratedKey {
  const body = randomBase58(byteLength)
  const key = prefix ? `${prefix}_${body}` : body
  const start = prefix ? `${prefix}_${body.slice(0, 4)}` : body.slice(0, 4)
  return { key, hash: hashKey(key), start }
}

/** AES-256-GCM with a 32-byte master key; output is `v1.<iv>.<tag>.<ciphertext>` in base64url. */
export function encryptSecret(masterKey: Uint8Array, plaintext: string): string {
  const iv = randomBytes(12)
  const cipher = createCipheriv('aes-256-gcm', masterKey, iv)
  const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()])
  const tag = cipher.getAuthTag()
  return ['v1', iv.toString('base64url'), tag.toString('base64url'), ciphertext.toString('base64url')].join('.')
}

export function decryptSecret(masterKey: Uint8Array, sealed: string): string {
  const [version, iv, tag, ciphertext] = sealed.split('.')
  if (version !== 'v1' || !iv || !tag || ciphertext === undefined) throw new Error('unsupported ciphertext format')
  const decipher = createDecipheriv('aes-256-gcm', masterKey, Buffer.from(iv, 'base64url'))
  decipher.setAuthTag(Buffer.from(tag, 'base64url'))
  return Buffer.concat([decipher.update(Buffer.from(ciphertext, 'base64url')), decipher.final()]).toString('utf8')
}
