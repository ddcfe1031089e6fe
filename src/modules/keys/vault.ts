// The master key that encrypts recoverable keys (AES-256-GCM). It comes from
// LATCH_MASTER_KEY (32 bytes as base64 or hex) or from a key file in the data
// directory, created with mode 0600 the first time a key is encrypted. With
// neither configured, recoverable keys are refused with 412.
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { dirname } from 'node:path'
import { randomBytes } from 'node:crypto'
import { decryptSecret, encryptSecret } from '../../crypto'
import { preconditionFailed } from '../../errors'

export interface MasterKeySource {
  /** 32 bytes, base64 or hex. */
  key?: string
  /** Path of a key file holding 32 bytes as base64; created on first use. */
  file?: string
}

export function parseMasterKey(value: string): Uint8Array {
  const trimmed = value.trim()
  const bytes = /^[0-9a-fA-F]{64}$/.test(trimmed) ? Buffer.from(trimmed, 'hex') : Buffer.from(trimmed, 'base64')
  if (bytes.length !== 32) throw new Error('the master key must be 32 bytes, given as 64 hex characters or base64')
  return bytes
}

export const noVault = () =>
  preconditionFailed(
    'Recoverable keys need a master key, and none is configured. Set LATCH_MASTER_KEY (32 bytes, base64 or hex) or run latch with a data directory.',
  )

export class Vault {
  private key: Uint8Array | null

  constructor(private readonly source: MasterKeySource) {
    this.key = source.key ? parseMasterKey(source.key) : null
  }

  get configured(): boolean {
    return this.key !== null || this.source.file !== undefined
  }

  private masterKey(create: boolean): Uint8Array {
    if (this.key) return this.key
    const file = this.source.file
    if (!file) throw noVault()
    if (existsSync(file)) {
      this.key = parseMasterKey(readFileSync(file, 'utf8'))
    } else {
      if (!create) throw noVault()
      mkdirSync(dirname(file), { recursive: true })
      const key = randomBytes(32)
      writeFileSync(file, key.toString('base64') + '\n', { mode: 0o600, flag: 'wx' })
      chmodSync(file, 0o600)
      this.key = key
    }
    return this.key
  }

  encrypt(plaintext: string): string {
    return encryptSecret(this.masterKey(true), plaintext)
  }

  decrypt(sealed: string): string {
    return decryptSecret(this.masterKey(false), sealed)
  }
}
