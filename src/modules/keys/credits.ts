// The credit ledger: the one place a key's credits change. Verifications
// spend in memory, synchronously, so that concurrent verifies of one key can
// never overspend it; then `commit` makes the spend durable before the answer
// goes out. Spends are written in group commits: one transaction (and one
// sync of the log) for every spend that arrived while the previous group was
// being written, so a crash never hands back a spend that was answered VALID,
// and throughput does not pay one disk sync per verification. A group that
// cannot be written hands its spends back and fails its requests with 503.
// Refills happen here too: on the verification that finds one due, on
// keys.updateCredits, and in the scheduled job.
//
// In cluster mode the balance in memory is not the balance: other nodes spend
// too. A key with credits is then spent through `SharedBalances`
// (src/cluster/credits.ts), which decides on the row as the database holds it,
// locked, by the same rules (`spendFrom`), and answers once that is committed.
import type { Clock } from '../../clock'
import type { Stores } from '../../db/stores'
import type { CreditBalance } from '../../db/stores/keys'
import { badRequest } from '../../errors'
import type { KeyCache } from './cache'
import { lastRefillBoundary, refillDue, refilledRemaining, refillView, type Refillable } from './refill'

type Balance = Omit<CreditBalance, 'keyId'>
type RefillInterval = 'daily' | 'monthly'

/** Credits as create, update and migrate take them; checked by validateCredits. */
export interface CreditsInput {
  remaining?: number | null
  refill?: { interval: RefillInterval; amount: number; refillDay?: number } | null
}

/** 400 unless the refill settings are complete and consistent. `field` is where they sit in the body. */
export function validateCredits(credits: CreditsInput, field: string): void {
  const refill = credits.refill
  if (!refill) return
  if (credits.remaining === null || credits.remaining === undefined) {
    throw badRequest('`credits.remaining` must be provided when `credits.refill` is set.', [
      { location: `body.${field}.remaining`, message: 'required when refill is set', fix: 'Set credits.remaining to the starting balance.' },
    ])
  }
  if (refill.interval === 'monthly' && refill.refillDay === undefined) {
    throw badRequest('`refillDay` must be provided when the refill interval is `monthly`.', [
      { location: `body.${field}.refill.refillDay`, message: 'required for a monthly refill' },
    ])
  }
  if (refill.interval === 'daily' && refill.refillDay !== undefined) {
    throw badRequest('`refillDay` must not be provided when the refill interval is `daily`.', [
      { location: `body.${field}.refill.refillDay`, message: 'not allowed for a daily refill' },
    ])
  }
}

/** A key whose credits the ledger can spend: its loaded balance is kept current by the ledger. */
export interface SpendableKey extends Refillable {
  id: string
}

export interface SpendResult {
  ok: boolean
  spent: number
  /** The balance moved (a spend or a refill) and is not yet durable: the answer must wait for `commit`. */
  changed: boolean
  /** Shared balances only: the key's balance right after this spend, as committed (the cached key shows it in the answer). */
  remaining?: number | null
}

/** Balances several nodes spend from (cluster mode): spends are decided and made durable in the shared database. */
export interface SharedBalances {
  /** Applies a due refill and spends `cost` credits if the balance allows; resolves once that is committed. */
  spend(keyId: string, cost: number, now: number): Promise<SpendResult>
}

/**
 * The rule of a spend, on any balance (a cached key, or a row locked in the
 * shared database): a due refill first, then `cost` credits if there are
 * enough. Changes `balance` in place.
 */
export function spendFrom(balance: Refillable, cost: number, now: number): SpendResult {
  let changed = false
  if (refillDue(balance, now)) {
    balance.remaining = refilledRemaining(balance)
    balance.lastRefillAt = now
    changed = true
  }
  if (balance.remaining === null) return { ok: true, spent: 0, changed }
  if (cost > 0 && balance.remaining < cost) return { ok: false, spent: 0, changed }
  if (cost > 0) {
    balance.remaining -= cost
    changed = true
  }
  return { ok: true, spent: cost, changed }
}

interface Group {
  spends: { key: SpendableKey; cost: number }[]
  written: Promise<void>
}

const ignore = () => {}

export class CreditLedger {
  /** Balances changed in memory and not yet written: keyId -> balance. */
  private readonly pending = new Map<string, Balance>()
  /** The group still taking spends (its write has not started), if any. */
  private open: Group | null = null
  /** Settles when the last group started has been written (or failed). */
  private lastGroup: Promise<void> = Promise.resolve()
  /** The last write of balances, which the next one waits for (see `flush`). */
  private flushed: Promise<void> = Promise.resolve()

  constructor(
    private readonly stores: Pick<Stores, 'keys' | 'transaction'>,
    private readonly clock: Clock,
    private readonly cache: KeyCache<{ id: string; workspaceId: string; hash: string }>,
    /** Cluster mode: where keys with credits are spent (null: here, in memory, with group commits). */
    private readonly shared: SharedBalances | null = null,
  ) {}

  /** The unwritten balance of a key, which is newer than the stored one. */
  pendingBalance(keyId: string): Balance | undefined {
    return this.pending.get(keyId)
  }

  /**
   * Applies a due refill and spends `cost` credits if the balance allows.
   * Synchronous: nothing can interleave between the check and the decrement.
   * `changed` says whether the balance moved, i.e. whether the answer must
   * wait for `commit`. With shared balances (cluster mode) a key that has
   * credits is answered later, once its spend is committed.
   */
  spend(key: SpendableKey, cost: number, now: number): SpendResult | Promise<SpendResult> {
    if (this.shared && (key.remaining !== null || key.refillAmount !== null)) return this.shared.spend(key.id, cost, now)
    const result = spendFrom(key, cost, now)
    if (result.changed) this.pending.set(key.id, { remaining: key.remaining, lastRefillAt: key.lastRefillAt })
    return result
  }

  /**
   * Resolves once the balance `spend` left on `key` is durable. When the
   * write fails, the `spent` credits are handed back and the promise rejects
   * (503), so that the request is refused rather than acknowledged.
   */
  commit(key: SpendableKey, spent: number): Promise<void> {
    let group = this.open
    if (!group) {
      const created: Group = { spends: [], written: Promise.resolve() }
      // Groups are written one after another, so that a group that failed has handed its spends back before the next one reads the balances.
      created.written = this.lastGroup.then(() => this.write(created))
      this.lastGroup = created.written.catch(ignore)
      this.open = group = created
    }
    group.spends.push({ key, cost: spent })
    return group.written
  }

  private async write(group: Group): Promise<void> {
    if (this.open === group) this.open = null
    try {
      await this.flush()
    } catch (error) {
      for (const { key, cost } of group.spends) {
        if (cost === 0 || key.remaining === null) continue
        key.remaining += cost
        this.pending.set(key.id, { remaining: key.remaining, lastRefillAt: key.lastRefillAt })
      }
      throw error
    }
  }

  /**
   * Writes the balances spent in memory. A balance changed again while writing stays queued.
   * One write at a time, in order: two writes in flight (one waiting out a busy lock) could
   * land out of order, and an older, higher balance overwrite a newer one already acknowledged.
   */
  flush(): Promise<void> {
    const written = this.flushed.then(() => this.writePending())
    this.flushed = written.catch(ignore)
    return written
  }

  private async writePending(): Promise<void> {
    if (this.pending.size === 0) return
    const batch = [...this.pending]
    await this.stores.keys.setCredits(batch.map(([keyId, b]) => ({ keyId, ...b })))
    for (const [keyId, balance] of batch) if (this.pending.get(keyId) === balance) this.pending.delete(keyId)
  }

  /**
   * keys.updateCredits: sets, increments or decrements a key's balance (a due
   * refill happens first, so that increments add to the refilled balance).
   * The caller has flushed and loaded the key fresh.
   */
  async update(
    key: SpendableKey,
    operation: 'set' | 'increment' | 'decrement',
    value: number | null | undefined,
  ): Promise<{ remaining: number | null; refill?: NonNullable<ReturnType<typeof refillView>> }> {
    const now = this.clock.now()
    // Shared balances: the balance as the database holds it now, not as this node cached it.
    if (this.shared) Object.assign(key, await this.lockBalance(key.id))
    if (refillDue(key, now)) {
      key.remaining = refilledRemaining(key)
      key.lastRefillAt = now
    }
    let remaining: number | null
    let clearRefill = false
    if (operation === 'set') {
      remaining = value ?? null
      clearRefill = remaining === null
    } else {
      if (value === undefined || value === null) {
        throw badRequest('When specifying an increment or decrement operation, a value must be provided.', [
          { location: 'body.value', message: 'required for increment and decrement' },
        ])
      }
      if (key.remaining === null) {
        throw badRequest('You cannot increment or decrement a key with unlimited credits.', [
          { location: 'body.operation', message: 'the key has unlimited credits', fix: "Use operation 'set' to give it a balance." },
        ])
      }
      remaining = operation === 'increment' ? key.remaining + value : Math.max(0, key.remaining - value)
      if (remaining > Number.MAX_SAFE_INTEGER) {
        throw badRequest(`The balance would exceed ${Number.MAX_SAFE_INTEGER} credits.`, [
          { location: 'body.value', message: 'the resulting balance is too large' },
        ])
      }
    }
    await this.stores.keys.update(key.id, {
      remaining,
      updatedAt: now,
      lastRefillAt: key.lastRefillAt,
      ...(clearRefill ? { refillAmount: null, refillDay: null } : {}),
    })
    this.pending.delete(key.id)
    this.cache.invalidateKey(key.id)
    const refill = clearRefill ? undefined : refillView(key)
    return { remaining, ...(refill ? { refill } : {}) }
  }

  /** A key's balance as stored, its row locked until the caller's transaction ends (null: no such key). */
  private lockBalance(keyId: string) {
    return this.stores.keys.changeCredits(keyId, (state) => ({
      balance: null,
      result: state && { remaining: state.remaining, lastRefillAt: state.lastRefillAt },
    }))
  }

  /** Refills every due key (scheduled; verification also refills on its own). Returns how many. */
  async runRefills(): Promise<number> {
    await this.flush()
    const now = this.clock.now()
    const shared = this.shared
    const refilled = shared
      ? await this.refillShared(shared, now)
      : await this.stores.transaction(async () => {
          const balances = (await this.dueForRefill(now)).map((row) => ({ keyId: row.id, remaining: refilledRemaining(row), lastRefillAt: now }))
          await this.stores.keys.setCredits(balances)
          return balances.map((b) => b.keyId)
        })
    for (const keyId of refilled) this.cache.invalidateKey(keyId)
    return refilled.length
  }

  private async dueForRefill(now: number) {
    const due = [await this.stores.keys.dueForRefill(null, lastRefillBoundary(now, null))]
    for (let day = 1; day <= 31; day++) due.push(await this.stores.keys.dueForRefill(day, lastRefillBoundary(now, day)))
    return due.flat()
  }

  /** Shared balances: each due key is refilled under its row lock (another node may have done it meanwhile: then nothing changes). */
  private async refillShared(shared: SharedBalances, now: number): Promise<string[]> {
    const due = await this.dueForRefill(now)
    for (let i = 0; i < due.length; i += 32) await Promise.all(due.slice(i, i + 32).map((row) => shared.spend(row.id, 0, now)))
    return due.map((row) => row.id)
  }
}
