// The scenarios of `npm run bench`, as data: which server, which request, how
// the varying part is picked (see rpc.lua), and what a correct answer looks
// like. Before each load, one request of the same shape is sent with fetch and
// its status and body are checked, so that a scenario measuring an error page
// (a 400 from a changed schema, a NOT_FOUND from a wrong key) fails loudly.
import type { SeededData } from './seed-keys'

export type ServerName = 'echo' | 'elysia' | 'latch' | 'latchLogOff'

export interface Scenario {
  id: string
  label: string
  server: ServerName
  method: 'GET' | 'POST'
  path: string
  /** Send `Authorization: Bearer <root key>`; 'unknown': a fresh root key nobody issued, each request. */
  auth: boolean | 'unknown'
  /** The body, with one %s for the varying value; '-' for none. */
  template: string
  /** rpc.lua's SOURCE: file:PATH, int:N, random or none. */
  source: string
  /** The value the pre-flight request uses in place of %s. */
  sample?: string
  expectStatus: 200 | 401
  expectBody?: (body: any) => boolean
}

export type LogMode = 'on' | 'off' | 'both'

const VALID = (b: any) => b?.data?.valid === true && b.data.code === 'VALID'

/** Every scenario, in the order each round runs them; the baseline (echo) first. */
export function buildScenarios(seeded: SeededData, log: LogMode): Scenario[] {
  const { files, samples, apiId } = seeded
  const keyBody = '{"key":"%s"}'
  const verify = (id: string, label: string, group: 'plain' | 'credits' | 'ratelimit' | 'permissions', extra: Partial<Scenario> = {}): Scenario => ({
    id,
    label,
    server: 'latch',
    method: 'POST',
    path: '/v2/keys.verifyKey',
    auth: true,
    template: keyBody,
    source: `file:${files[group]}`,
    sample: samples[group],
    expectStatus: 200,
    expectBody: VALID,
    ...extra,
  })
  const logNote = log === 'off' ? ', log off' : ''
  return [
    {
      id: 'echo',
      label: 'baseline: Bun.serve JSON echo',
      server: 'echo',
      method: 'POST',
      path: '/',
      auth: true,
      template: keyBody,
      source: `file:${files.plain}`,
      sample: samples.plain,
      expectStatus: 200,
      expectBody: (b) => b?.key === samples.plain,
    },
    {
      id: 'elysia-reference',
      label: 'reference: minimal Elysia route',
      server: 'elysia',
      method: 'POST',
      path: '/v2/keys.verifyKey',
      auth: true,
      template: keyBody,
      source: `file:${files.plain}`,
      sample: samples.plain,
      expectStatus: 200,
      expectBody: VALID,
    },
    {
      id: 'liveness',
      label: `GET /v2/liveness${logNote}`,
      server: 'latch',
      method: 'GET',
      path: '/v2/liveness',
      auth: false,
      template: '-',
      source: 'none',
      expectStatus: 200,
    },
    {
      id: 'unauthorized',
      label: `apis.getApi without a root key (401)${logNote}`,
      server: 'latch',
      method: 'POST',
      path: '/v2/apis.getApi',
      auth: false,
      template: JSON.stringify({ apiId }),
      source: 'none',
      expectStatus: 401,
    },
    {
      id: 'unauthorized-unknown',
      label: `apis.getApi, unknown root key (401)${logNote}`,
      server: 'latch',
      method: 'POST',
      path: '/v2/apis.getApi',
      auth: 'unknown',
      template: JSON.stringify({ apiId }),
      source: 'none',
      expectStatus: 401,
    },
    verify('verify', `keys.verifyKey valid${logNote}`, 'plain'),
    ...(log === 'both' ? [verify('verify-log-off', 'keys.verifyKey valid, log off', 'plain', { server: 'latchLogOff' })] : []),
    verify('verify-credits', `verifyKey with credits${logNote}`, 'credits', {
      expectBody: (b) => VALID(b) && typeof b.data.credits === 'number',
    }),
    verify('verify-ratelimit', `verifyKey with auto ratelimit${logNote}`, 'ratelimit'),
    verify('verify-permissions', `verifyKey "read AND write"${logNote}`, 'permissions', {
      template: '{"key":"%s","permissions":"read AND write"}',
    }),
    verify('verify-unknown', `verifyKey unknown key${logNote}`, 'plain', {
      source: 'random',
      sample: 'unk_preflight0000000000',
      expectBody: (b) => b?.data?.valid === false && b.data.code === 'NOT_FOUND',
    }),
    {
      id: 'ratelimit-limit',
      label: `ratelimit.limit${logNote}`,
      server: 'latch',
      method: 'POST',
      path: '/v2/ratelimit.limit',
      auth: true,
      template: '{"namespace":"bench","identifier":"%s","limit":1000000000,"duration":60000}',
      source: `int:${seeded.keys}`,
      sample: 'bench_1',
      expectStatus: 200,
      expectBody: (b) => b?.data?.success === true,
    },
    {
      id: 'create-key',
      label: `keys.createKey${logNote}`,
      server: 'latch',
      method: 'POST',
      path: '/v2/keys.createKey',
      auth: true,
      template: JSON.stringify({ apiId }),
      source: 'none',
      expectStatus: 200,
      expectBody: (b) => typeof b?.data?.keyId === 'string',
    },
    {
      id: 'get-key',
      label: `keys.getKey${logNote}`,
      server: 'latch',
      method: 'POST',
      path: '/v2/keys.getKey',
      auth: true,
      template: '{"keyId":"%s"}',
      source: `file:${files.keyIds}`,
      sample: samples.keyIds,
      expectStatus: 200,
      expectBody: (b) => b?.data?.keyId === samples.keyIds,
    },
  ]
}

/** Sends one request of the scenario's shape with fetch; throws when its status or body is not the expected one. */
export async function preflight(url: string, scenario: Scenario, rootKey: string): Promise<void> {
  const headers: Record<string, string> = {}
  let body: string | undefined
  if (scenario.template !== '-') {
    headers['content-type'] = 'application/json'
    body = scenario.sample === undefined ? scenario.template : scenario.template.replace('%s', scenario.sample)
  }
  if (scenario.auth === 'unknown') headers.authorization = 'Bearer unkey_preflight0000000000000000'
  else if (scenario.auth) headers.authorization = `Bearer ${rootKey}`
  const res = await fetch(`${url}${scenario.path}`, { method: scenario.method, headers, body })
  const text = await res.text()
  let parsed: unknown = text
  try {
    parsed = JSON.parse(text)
  } catch {
    // keep the text for the message
  }
  if (res.status !== scenario.expectStatus || (scenario.expectBody && !scenario.expectBody(parsed))) {
    throw new Error(`${scenario.label}: pre-flight ${scenario.method} ${scenario.path} answered ${res.status} ${text.slice(0, 500)}`)
  }
}
