// Holds back the announcement of a change until its transaction has committed.
//
// Services invalidate caches where they make a change, sometimes inside the
// change's transaction. On one SQLite node that is safe (other requests wait
// for the transaction), but over PostgreSQL another node told of the change
// before the commit could reload the old row and keep it. So in cluster mode
// `stores.transaction` is wrapped: invalidations made while a transaction runs
// (the caller's whole async context, whichever service) are collected, applied
// here again once it has committed (a load that raced the commit is dropped),
// and published before the transaction's caller goes on, so before the change
// is acknowledged. An invalidation made outside any transaction follows a
// commit already and is published at once.
import { AsyncLocalStorage } from 'node:async_hooks'
import type { Stores } from '../db/stores'
import type { ClusterChange } from './bus'

export interface TransactionHooks {
  /** Runs before an outermost transaction begins; may throw to refuse it (nothing is written then). */
  beforeStart(): void
  /** Runs after an outermost transaction committed with the invalidations made inside it. */
  afterCommit(changes: ClusterChange[]): Promise<void>
}

export class TransactionChanges {
  private readonly context = new AsyncLocalStorage<ClusterChange[]>()

  /** The changes collected by the transaction running in this async context, or undefined outside one. */
  current(): ClusterChange[] | undefined {
    return this.context.getStore()
  }

  /** `stores` whose transactions collect changes (everything else passes through untouched). */
  track(stores: Stores, hooks: TransactionHooks): Stores {
    const transaction = <T>(work: () => Promise<T>): Promise<T> => {
      // A nested transaction joins the outer one, and so does its collection.
      if (this.context.getStore()) return stores.transaction(work)
      hooks.beforeStart()
      const changes: ClusterChange[] = []
      return this.context.run(changes, async () => {
        const result = await stores.transaction(work)
        if (changes.length > 0) await hooks.afterCommit(changes)
        return result
      })
    }
    return new Proxy(stores, {
      get(target, property) {
        if (property === 'transaction') return transaction
        const value = Reflect.get(target, property, target)
        return typeof value === 'function' ? value.bind(target) : value
      },
    })
  }
}
