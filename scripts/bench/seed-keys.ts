// Seeds the benchmark's database through the public surface only: a root key
// from `latch seed --json`, then an API and N keys over HTTP, never through
// src/ (whose internal APIs change under us). Keys come in four groups, one per
// verify scenario, and each group is written to a file that rpc.lua reads.
import { join } from 'node:path'
import { cleanEnv, rpc } from '../smoke'

export const KEY_GROUPS = ['plain', 'credits', 'ratelimit', 'permissions'] as const
export type KeyGroup = (typeof KEY_GROUPS)[number]

/** The createKey body of each group, besides `apiId`. */
const GROUP_BODIES: Record<KeyGroup, Record<string, unknown>> = {
  plain: {},
  credits: { credits: { remaining: 1_000_000_000 } },
  ratelimit: { ratelimits: [{ name: 'bench', limit: 1_000_000_000, duration: 60_000, autoApply: true }] },
  permissions: { permissions: ['read', 'write'] },
}

export interface SeededData {
  rootKey: string
  apiId: string
  /** Files of one value per line: the keys of each group, and every key id. */
  files: Record<KeyGroup | 'keyIds', string>
  /** One key of each group and one key id, for the pre-flight request of each scenario. */
  samples: Record<KeyGroup | 'keyIds', string>
  keys: number
  seconds: number
}

/** The development workspace's root key, from `latch seed --json` on `db` (run before the server starts). */
export async function seedRootKey(binary: string, db: string, cwd: string): Promise<string> {
  const proc = Bun.spawn([binary, 'seed', '--json', '--db', db], { cwd, env: cleanEnv(), stdout: 'pipe', stderr: 'pipe', stdin: 'ignore' })
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited])
  if (code !== 0) throw new Error(`latch seed --json exited with ${code}: ${stderr}`)
  const key = JSON.parse(stdout)?.development?.key
  if (typeof key !== 'string') throw new Error(`latch seed --json printed no development key (was the database seeded before?): ${stdout}`)
  return key
}

/** Creates an API and `count` keys over HTTP, `concurrency` requests in flight, and writes the key files into `dir`. */
export async function seedKeys(url: string, rootKey: string, count: number, dir: string, concurrency = 32): Promise<SeededData> {
  const started = performance.now()
  const api = await rpc(url, '/v2/apis.createApi', { name: 'bench' }, rootKey)
  if (api.status !== 200) throw new Error(`apis.createApi answered ${api.status}: ${JSON.stringify(api.body)}`)
  const apiId: string = api.body.data.apiId

  const keys: Record<KeyGroup, string[]> = { plain: [], credits: [], ratelimit: [], permissions: [] }
  const keyIds: string[] = []
  let next = 0
  const worker = async () => {
    for (let i = next++; i < count; i = next++) {
      const group = KEY_GROUPS[i % KEY_GROUPS.length]!
      const created = await rpc(url, '/v2/keys.createKey', { apiId, ...GROUP_BODIES[group] }, rootKey)
      if (created.status !== 200) throw new Error(`keys.createKey (${group}) answered ${created.status}: ${JSON.stringify(created.body)}`)
      keys[group].push(created.body.data.key)
      keyIds.push(created.body.data.keyId)
    }
  }
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker))

  const files = {} as SeededData['files']
  const samples = {} as SeededData['samples']
  for (const [name, values] of [...Object.entries(keys), ['keyIds', keyIds]] as [KeyGroup | 'keyIds', string[]][]) {
    if (values.length === 0) throw new Error(`no ${name} were created; use --keys 4 or more`)
    files[name] = join(dir, `${name}.txt`)
    samples[name] = values[0]!
    await Bun.write(files[name], values.join('\n') + '\n')
  }
  return { rootKey, apiId, files, samples, keys: count, seconds: (performance.now() - started) / 1000 }
}
