// The hashes of every stored root key, held by a server that is the only
// node on its store, so that a request carrying a root key nobody issued is
// refused without a read. Such a request used to read the store and then go
// through the whole Elysia route: about 63 µs of the request thread, more
// than twice a request without any key. Root keys are few; past `max` the
// set is not kept and every unknown hash is read as before.
//
// The set is loaded on first use and forgotten whenever root keys change
// elsewhere (RootKeyService drops its cache then); a key issued here is added
// before it is stored, and a load that was under way is discarded, since it
// may have read the table before that key.
export class KnownRootKeyHashes {
  private hashes: Set<string> | null = null
  private generation = 0
  private loading: Promise<void> | null = null

  constructor(
    private readonly list: (limit: number) => Promise<string[]>,
    private readonly max = 100_000,
  ) {}

  /** False only when no stored root key has this hash; true when one may, or the set is not loaded yet (it starts loading). */
  mayHold(hash: string): boolean {
    if (this.hashes) return this.hashes.has(hash)
    this.load()
    return true
  }

  /** Before a root key with this hash is stored here. */
  add(hash: string): void {
    this.hashes?.add(hash)
    this.generation++
  }

  /** Root keys changed where this process cannot see which: load the set again on next use. */
  forget(): void {
    this.hashes = null
    this.generation++
  }

  private load(): void {
    if (this.loading) return
    const generation = this.generation
    this.loading = this.list(this.max + 1)
      .then(
        (hashes) => {
          if (generation === this.generation && hashes.length <= this.max) this.hashes = new Set(hashes)
        },
        // Unread now: every unknown hash is read from the store meanwhile, and the next miss tries again.
        () => {},
      )
      .finally(() => {
        this.loading = null
      })
  }
}
