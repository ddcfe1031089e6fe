// Verification events for tests that hand them to a store or an event writer
// directly: every field an event has, with plain defaults a test overrides.
import type { VerificationEvent } from '../../src/db/stores/analytics'

/** A VALID verification of key_1 (api_1, ws_1) at `time` 0 with no tags; `fields` replace any of that. */
export function verificationEvent(fields: Partial<VerificationEvent> = {}): VerificationEvent {
  return {
    requestId: 'req_1',
    time: 0,
    workspaceId: 'ws_1',
    apiId: 'api_1',
    keyId: 'key_1',
    identityId: null,
    externalId: null,
    outcome: 'VALID',
    tags: [],
    creditsSpent: 0,
    latency: 0.1,
    ...fields,
  }
}
