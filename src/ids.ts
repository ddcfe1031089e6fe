// The one id generator: `<prefix>_<16 base58 characters>` (about 94 random
// bits), e.g. `api_3xYz…`, `req_…`.
import { randomBase58Chars } from './crypto'

export type IdPrefix = 'ws' | 'api' | 'key' | 'id' | 'rl' | 'rlns' | 'rlor' | 'perm' | 'role' | 'req' | 'rk' | 'mig' | 'audit'

export function newId(prefix: IdPrefix): string {
  return `${prefix}_${randomBase58Chars(16)}`
}
