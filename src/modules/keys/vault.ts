// The master key that encrypts recoverable keys (AES-256-GCM). It comes from
// LATCH_MASTER_KEY (32 bytes as base64 or hex) or from a key file beside the
// database, created with mode 0600 the first time a key is encrypted. With
// neither configured, recoverable keys are refused with 412.
//
// A master key belongs to a database: the database keeps its fingerprint
// (never the key), written the first time a key is encrypted. A configured key
// with another fingerprint, or a missing key file while a fingerprint exists,
// is refused with 412 naming the cause, and no new key file is ever created
// then: a second master key would leave every existing recoverable key
// undecryptable.
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { createHash, randomBytes } from 'node:crypto'
import { dirname } from 'node:path'
import { decryptSecret, encryptSecret } from '../../crypto'
import type { Stores } from '../../db/stores'
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

/** What the database stores to recognise its master key: a one-way digest, never the key. */
export function masterKeyFingerprint(key: Uint8Array): string {
  return createHash('sha256').update('latch-master-key-fingerprint').update(key).digest('base64')
}

/** The settings entry holding the fingerprint. */
export const FINGERPRINT_SETTING = 'master_key_fingerprint'
/** Set by migration 8 when keys were encrypted before fingerprints were kept. */
const UNKNOWN = 'unknown'

export const noVault = () =>
  preconditionFailed(
    'Recoverable keys need a master key, and none is configured. Set LATCH_MASTER_KEY (32 bytes, base64 or hex) or run latch with a data directory.',
  )

const missingKey = () =>
  preconditionFailed(
    "Recoverable keys are unavailable: the master key is missing. This database's recoverable keys are encrypted with a master key that is not configured; restore master.key beside the database or set LATCH_MASTER_KEY to it.",
  )

const wrongKey = () =>
  preconditionFailed(
    "Recoverable keys are unavailable: the configured master key is not the one this database's recoverable keys are encrypted with. Configure the original key (LATCH_MASTER_KEY or master.key beside the database).",
  )

export class Vault {
  private key: Uint8Array | null
  /** True once the key in use is known to be the database's (its fingerprint is stored). */
  private confirmed = false

  constructor(
    private readonly source: MasterKeySource,
    private readonly stores: Pick<Stores, 'settings'>,
  ) {
    this.key = source.key ? parseMasterKey(source.key) : null
  }

  get configured(): boolean {
    return this.key !== null || this.source.file !== undefined
  }

  /** The configured key: from the environment, or the key file if it exists. */
  private existingKey(): Uint8Array | null {
    const file = this.source.file
    if (!this.key && file && existsSync(file)) this.key = parseMasterKey(readFileSync(file, 'utf8'))
    return this.key
  }

  private createKeyFile(file: string): Uint8Array {
    mkdirSync(dirname(file), { recursive: true })
    const key = randomBytes(32)
    writeFileSync(file, `${key.toString('base64')}\n`, { mode: 0o600, flag: 'wx' })
    chmodSync(file, 0o600)
    this.key = key
    return key
  }

  /** The key to encrypt with, checked against (and, the first time, recorded as) the database's. */
  private async encryptionKey(): Promise<Uint8Array> {
    if (this.confirmed && this.key) return this.key
    const stored = await this.stores.settings.get(FINGERPRINT_SETTING)
    let key = this.existingKey()
    if (!key) {
      if (!this.source.file) throw noVault()
      if (stored !== null) throw missingKey()
      key = this.createKeyFile(this.source.file)
    }
    const fingerprint = masterKeyFingerprint(key)
    if (stored !== null && stored !== UNKNOWN && stored !== fingerprint) throw wrongKey()
    if (stored !== fingerprint && (await this.stores.settings.replace(FINGERPRINT_SETTING, stored, fingerprint)) !== fingerprint) throw wrongKey()
    this.confirmed = true
    return key
  }

  async encrypt(plaintext: string): Promise<string> {
    return encryptSecret(await this.encryptionKey(), plaintext)
  }

  /** Synchronous: a sealed key exists, so a missing key is missing, and a key that does not open it is the wrong one. */
  decrypt(sealed: string): string {
    const key = this.existingKey()
    if (!key) throw this.source.file ? missingKey() : noVault()
    try {
      return decryptSecret(key, sealed)
    } catch {
      throw wrongKey()
    }
  }

  /**
   * Why recoverable keys cannot be used with this database, or null: for the
   * warning logged at start. Creates nothing.
   */
  async problem(): Promise<string | null> {
    const stored = await this.stores.settings.get(FINGERPRINT_SETTING)
    if (stored === null) return null
    const key = this.existingKey()
    const where = this.source.key ? 'LATCH_MASTER_KEY' : `the master key file ${this.source.file}`
    if (!key) {
      return this.source.file
        ? `the master key file ${this.source.file} is missing, but this database holds recoverable keys encrypted with a master key; restore it or set LATCH_MASTER_KEY (latch will not create a new one)`
        : 'this database holds recoverable keys, but no master key is configured'
    }
    if (stored !== UNKNOWN && stored !== masterKeyFingerprint(key)) {
      return `${where} is not the master key this database's recoverable keys are encrypted with; recoverable keys answer 412 until the original key is configured`
    }
    return null
  }
}
