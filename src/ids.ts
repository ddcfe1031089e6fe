// The one id generator: `<prefix>_<base58>`, e.g. `api_3xYz…`, `req_…`.
import { randomBase58 } from './crypto'

export type IdPrefix = 'ws' | 'api' | 'key' | 'id' | 'rl' | 'rlns' | 'rlor' | 'perm' | 'role' | 'req' | 'rk' | 'mig' | 'audit'

export function newId(prefix: IdPrefix): string {
  return `${prefix}_${randomBase58(12)}`
}
