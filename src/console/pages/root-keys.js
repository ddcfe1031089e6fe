// Root keys: create with a permission picker grouped by resource type (from
// the server's catalogue), the new key shown once; the list with last use;
// revoke and rotate (with a grace period), each asking first.
import { call, loadCatalogue } from '../api.js'
import { destroyButton, formatTime, h, openDialog, pageHeader, pagedTable, replace, secretPanel } from '../dom.js'
import { field, form, input, integer, list, select, value } from '../forms.js'

const DAY = 86_400_000

/** @param {HTMLElement} main */
export async function rootKeysPage(main) {
  const catalogue = await loadCatalogue()
  const secret = h('div')
  const notice = h('div', { role: 'status', class: 'notice' })
  const listSlot = h('section', { 'aria-label': 'Root keys' })
  const showSecret = (/** @type {{ key: string, rootKeyId: string }} */ created) =>
    replace(secret, secretPanel('New root key', created.key, `This is the only time root key ${created.rootKeyId} is shown. Store it now.`))
  const reload = () => {
    const table = pagedTable({
      caption: 'Root keys',
      empty: 'No root keys.',
      load: (cursor) => call('rootKeys.listRootKeys', { limit: 25, ...(cursor ? { cursor } : {}) }),
      columns: [
        { label: 'Name', cell: (k) => k.name },
        { label: 'Key', cell: (k) => [h('code', { text: `${k.start}…` }), h('br'), h('code', { class: 'muted', text: k.id })] },
        {
          label: 'Permissions',
          cell: (k) =>
            h(
              'ul',
              { class: 'grants' },
              k.permissions.map((/** @type {string} */ p) => h('li', {}, h('code', { text: p }))),
            ),
        },
        { label: 'Status', cell: (k) => (k.status === 'active' && k.expiresAt ? `active until ${formatTime(k.expiresAt)}` : k.status) },
        { label: 'Last used', cell: (k) => formatTime(k.lastUsedAt) },
        { label: 'Created', cell: (k) => formatTime(k.createdAt) },
        {
          label: 'Actions',
          class: 'row-actions',
          cell: (k) =>
            k.status !== 'active'
              ? '—'
              : [
                  h('button', {
                    type: 'button',
                    class: 'secondary',
                    text: 'Rotate',
                    'aria-label': `Rotate root key ${k.name}`,
                    on: { click: () => rotate(k, showSecret, reload) },
                  }),
                  destroyButton({
                    text: 'Revoke',
                    what: `root key ${k.name}`,
                    consequence: `Root key ${k.name} (${k.id}, starting ${k.start}) stops working with its next request.`,
                    action: async () => {
                      await call('rootKeys.revokeRootKey', { rootKeyId: k.id })
                      notice.textContent = `Revoked root key ${k.name}.`
                      await reload()
                    },
                  }),
                ],
        },
      ],
    })
    replace(listSlot, table.el)
    return table.ready
  }

  const picker = h(
    'fieldset',
    { class: 'picker' },
    h('legend', { text: 'Permissions' }),
    field('* (everything, including creating root keys)', h('input', { type: 'checkbox', name: 'grant', value: '*' })),
    Object.entries(catalogue.permissions).map(([type, actions]) =>
      h(
        'details',
        {},
        h('summary', { text: `${type} (${actions.length})` }),
        h(
          'div',
          { class: 'grid' },
          actions.map((action) => field(`${type}.*.${action}`, h('input', { type: 'checkbox', name: 'grant', value: `${type}.*.${action}` }))),
        ),
      ),
    ),
    field('Permissions on single resources', h('textarea', { name: 'more', rows: 2, placeholder: 'api.api_123.read_key' }), {
      loc: 'permissions',
      hint: 'One per line: resourceType.resourceId.action.',
    }),
  )
  const create = form({
    label: 'Create root key',
    submit: 'Create root key',
    fields: [
      field('Name', input('name', { maxLength: 255 }), { loc: 'name', required: true }),
      picker,
      field('Expires in (days)', input('days', { type: 'number', min: 1, inputMode: 'numeric' }), { loc: 'expiresIn', hint: 'Blank: never.' }),
    ],
    onSubmit: async (el) => {
      const checked = [...el.querySelectorAll('input[name=grant]:checked')].map((c) => /** @type {HTMLInputElement} */ (c).value)
      const days = integer(String(value(el, 'days')), 'expiresIn')
      const { data } = await call('rootKeys.createRootKey', {
        name: value(el, 'name'),
        permissions: [...checked, ...list(String(value(el, 'more')))],
        ...(days !== undefined ? { expiresIn: days * DAY } : {}),
      })
      el.reset()
      showSecret(data)
      await reload()
    },
  })
  main.append(
    pageHeader('Root keys'),
    h('p', { class: 'muted', text: 'A root key can grant only permissions it holds itself.' }),
    secret,
    h('details', { class: 'card' }, h('summary', { text: 'Create a root key' }), create),
    notice,
    listSlot,
  )
  await reload()
}

/**
 * @param {any} k
 * @param {(created: { key: string, rootKeyId: string }) => void} showSecret
 * @param {() => Promise<void>} reload
 */
function rotate(k, showSecret, reload) {
  openDialog(`Rotate root key ${k.name}`, (close) =>
    form({
      label: `Rotate root key ${k.name}`,
      submit: `Rotate ${k.name}`,
      fields: [
        h('p', { text: `A new key replaces ${k.name} (${k.start}…) with the same permissions and expiry.` }),
        field(
          'The old key keeps working for',
          select('grace', [
            ['0', 'No time: it stops now'],
            [String(3_600_000), '1 hour'],
            [String(DAY), '1 day'],
            [String(7 * DAY), '7 days'],
          ]),
          { loc: 'gracePeriodMs' },
        ),
      ],
      onSubmit: async (el) => {
        const { data } = await call('rootKeys.rotateRootKey', { rootKeyId: k.id, gracePeriodMs: Number(value(el, 'grace')) })
        close()
        showSecret(data)
        await reload()
      },
    }),
  )
}
