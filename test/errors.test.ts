// The error envelope's text (src/errors.ts): `bodyText` keeps each error's own
// JSON once and must stay exactly what serialising `toBody` gives.
import { describe, expect, test } from 'bun:test'
import { badRequest, bodyUnreadable, notFound, unauthorized } from '../src/errors'

describe('ApiError.bodyText', () => {
  test.each([
    ['a 400 with field errors', badRequest('The body is invalid.', [{ location: 'body.apiId', message: 'is required', fix: 'send one' }])],
    ['a 400 without field errors', bodyUnreadable('The request body is missing or is not valid JSON.')],
    ['a 401', unauthorized('The provided root key is invalid or has been revoked')],
    ['a 404 whose detail needs escaping', notFound('key', 'No key "a\\b" \u2028 here.')],
  ])('%s: the same text as JSON.stringify(toBody), for every request id', (_, error) => {
    for (const id of ['req_1', 'req_2B3c4D5e6F7g8H9iJkLmNoPq']) {
      expect(error.bodyText(id)).toBe(JSON.stringify(error.toBody(id)))
      expect(JSON.parse(error.bodyText(id)).meta).toEqual({ requestId: id })
    }
  })
})
