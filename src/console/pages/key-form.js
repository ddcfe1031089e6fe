// The create-key form, with every option keys.createKey has: name, prefix,
// length, identity (external id), meta, expiry, credits and refill,
// ratelimits, permissions and roles, enabled and recoverable.
import { call } from '../api.js'
import { h } from '../dom.js'
import { dateTime, field, form, input, integer, jsonObject, list, ratelimitRows, select, value } from '../forms.js'

/**
 * @param {string} apiId
 * @param {(created: { keyId: string, key: string }) => Promise<void>} onCreated
 */
export function createKeyForm(apiId, onCreated) {
  const ratelimits = ratelimitRows('Ratelimits')
  const refillDay = field('Refill day of month', input('refillDay', { type: 'number', min: 1, max: 31, inputMode: 'numeric' }), {
    loc: 'credits.refill.refillDay',
    hint: 'Monthly refills only; 1 to 31 (the last day in shorter months).',
  })
  const group = (/** @type {string} */ legend, /** @type {any[]} */ children) => h('fieldset', {}, h('legend', { text: legend }), children)
  return form({
    label: 'Create key',
    submit: 'Create key',
    fields: [
      h(
        'div',
        { class: 'grid' },
        field('Name', input('name', { maxLength: 255 }), { loc: 'name' }),
        field('Prefix', input('prefix', { maxLength: 16 }), { loc: 'prefix', hint: 'Letters, digits and _; the key starts with prefix_' }),
        field('Length in bytes', input('byteLength', { type: 'number', min: 16, max: 255, value: '16', inputMode: 'numeric' }), { loc: 'byteLength' }),
        field('Identity (external id)', input('externalId', { maxLength: 255 }), {
          loc: 'externalId',
          hint: 'Links the key to this identity, created if new.',
        }),
        field('Expires', input('expires', { type: 'datetime-local' }), { loc: 'expires', hint: 'Blank: never.' }),
      ),
      group('Credits', [
        h(
          'div',
          { class: 'grid' },
          field('Remaining credits', input('remaining', { type: 'number', min: 0, inputMode: 'numeric' }), {
            loc: 'credits.remaining',
            hint: 'Blank: unlimited.',
          }),
          field(
            'Refill',
            select('interval', [
              ['', 'Never'],
              ['daily', 'Daily'],
              ['monthly', 'Monthly'],
            ]),
            { loc: 'credits.refill.interval' },
          ),
          field('Refill amount', input('amount', { type: 'number', min: 1, inputMode: 'numeric' }), { loc: 'credits.refill.amount' }),
          refillDay,
        ),
      ]),
      ratelimits.el,
      group('Access', [
        h(
          'div',
          { class: 'grid' },
          field('Permissions', h('textarea', { name: 'permissions', rows: 2 }), { loc: 'permissions', hint: 'Slugs, one per line or comma separated.' }),
          field('Roles', h('textarea', { name: 'roles', rows: 2 }), { loc: 'roles', hint: 'Role names, one per line or comma separated.' }),
        ),
      ]),
      field('Meta (JSON object)', h('textarea', { name: 'meta', rows: 2, placeholder: '{"plan": "pro"}' }), { loc: 'meta' }),
      h(
        'div',
        { class: 'grid' },
        field('Enabled', input('enabled', { type: 'checkbox', checked: true }), { loc: 'enabled' }),
        field('Recoverable', input('recoverable', { type: 'checkbox' }), {
          loc: 'recoverable',
          hint: 'Stores the key encrypted so that it can be shown again.',
        }),
      ),
    ],
    onSubmit: async (el) => {
      const text = (/** @type {string} */ name) => String(value(el, name))
      /** @type {Record<string, any>} */
      const body = { apiId }
      if (text('name')) body.name = text('name')
      if (text('prefix')) body.prefix = text('prefix')
      const byteLength = integer(text('byteLength'), 'byteLength')
      if (byteLength !== undefined && byteLength !== 16) body.byteLength = byteLength
      if (text('externalId')) body.externalId = text('externalId')
      const meta = jsonObject(text('meta'), 'meta')
      if (meta) body.meta = meta
      const expires = dateTime(text('expires'))
      if (expires !== undefined) body.expires = expires
      const remaining = integer(text('remaining'), 'credits.remaining')
      const interval = text('interval')
      if (remaining !== undefined || interval) {
        body.credits = { remaining: remaining ?? null }
        if (interval) {
          body.credits.refill = { interval, amount: integer(text('amount'), 'credits.refill.amount') ?? 0 }
          const day = integer(text('refillDay'), 'credits.refill.refillDay')
          if (day !== undefined) body.credits.refill.refillDay = day
        }
      }
      const limits = ratelimits.value()
      if (limits.length) body.ratelimits = limits
      if (list(text('permissions')).length) body.permissions = list(text('permissions'))
      if (list(text('roles')).length) body.roles = list(text('roles'))
      if (!value(el, 'enabled')) body.enabled = false
      if (value(el, 'recoverable')) body.recoverable = true
      const { data } = await call('keys.createKey', body)
      el.reset()
      await onCreated(data)
    },
  })
}
