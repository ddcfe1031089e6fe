// Exact credits across nodes: every spend of a key with credits is decided on
// the key's row in PostgreSQL, locked (SELECT … FOR UPDATE in a READ
// COMMITTED transaction, so a spend on another node is waited for, never
// retried), by the same rule as a single node (`spendFrom`), and answered
// only once its transaction has committed: durable before the answer, and N
// credits give exactly N VALID answers whatever nodes the verifications reach.
//
// Spends of one key that arrive on this node while its previous transaction
// runs are decided together in the next one (a group commit per key): one
// row lock and one commit for all of them, in arrival order. So a hot key
// costs one transaction per round trip on each node, not one per request.
// Measured against one conditional UPDATE per spend: see docs/deployment.md.
import type { Stores } from '../db/stores'
import type { CreditState } from '../db/stores/keys'
import { type SharedBalances, type SpendResult, spendFrom } from '../modules/keys/credits'

interface Spend {
  cost: number
  now: number
  resolve(result: SpendResult): void
  reject(error: unknown): void
}

export class SharedCredits implements SharedBalances {
  /** Per key: spends waiting for the key's next transaction. */
  private readonly waiting = new Map<string, Spend[]>()
  /** Keys whose transaction is running now. */
  private readonly running = new Set<string>()

  constructor(private readonly stores: Pick<Stores, 'keys'>) {}

  spend(keyId: string, cost: number, now: number): Promise<SpendResult> {
    return new Promise((resolve, reject) => {
      const queue = this.waiting.get(keyId)
      if (queue) queue.push({ cost, now, resolve, reject })
      else this.waiting.set(keyId, [{ cost, now, resolve, reject }])
      if (!this.running.has(keyId)) void this.drain(keyId)
    })
  }

  /** Runs the key's transactions until no spend waits (one at a time per key on this node). */
  private async drain(keyId: string): Promise<void> {
    this.running.add(keyId)
    try {
      for (let spends = this.take(keyId); spends; spends = this.take(keyId)) await this.commit(keyId, spends)
    } finally {
      this.running.delete(keyId)
    }
  }

  private take(keyId: string): Spend[] | undefined {
    const spends = this.waiting.get(keyId)
    this.waiting.delete(keyId)
    return spends
  }

  private async commit(keyId: string, spends: Spend[]): Promise<void> {
    let results: SpendResult[]
    try {
      results = await this.stores.keys.changeCredits(keyId, (state) => decide(state, spends))
    } catch (error) {
      // Nothing was committed: every spend of the group fails (503), none is acknowledged.
      for (const spend of spends) spend.reject(error)
      return
    }
    for (const [i, spend] of spends.entries()) spend.resolve(results[i]!)
  }
}

/** The group's spends in arrival order on the locked balance; the balance to write when it moved. */
function decide(state: CreditState | null, spends: Spend[]) {
  // A key deleted for good since it was cached: there is nothing left to spend.
  if (!state) return { balance: null, result: spends.map((): SpendResult => ({ ok: false, spent: 0, changed: false, remaining: 0 })) }
  let moved = false
  const result = spends.map((spend): SpendResult => {
    const { ok, spent, changed } = spendFrom(state, spend.cost, spend.now)
    moved ||= changed
    // Durable once the group commits, which is before anyone hears of it: nothing left to wait for.
    return { ok, spent, changed: false, remaining: state.remaining }
  })
  return { balance: moved ? { remaining: state.remaining, lastRefillAt: state.lastRefillAt } : null, result }
}
