// Permissions and roles granted to keys: create, search, delete, and the
// permissions a role holds.
import { call } from '../api.js'
import { destroyButton, h, openDialog, pageHeader, pagedTable, replace } from '../dom.js'
import { field, form, input, list, value } from '../forms.js'

/** @param {HTMLElement} main */
export async function permissionsPage(main) {
  const notice = h('div', { role: 'status', class: 'notice' })
  main.append(pageHeader('Permissions and roles'), notice)
  await Promise.all([permissionsSection(main, notice), rolesSection(main, notice)])
}

/**
 * A section with a create form, a search box and a paginated list that reloads after each change.
 * @param {{ title: string, create: (reload: () => Promise<void>) => HTMLElement, caption: string, route: string, columns: (reload: () => Promise<void>) => import('../dom.js').Column[] }} options
 */
function listSection({ title, create, caption, route, columns }) {
  const list = h('div')
  /** @type {string | undefined} */
  let search
  const reload = () => {
    const table = pagedTable({
      caption,
      empty: search ? `Nothing matches ${search}.` : 'None yet.',
      load: (cursor) => call(route, { limit: 25, ...(search ? { search } : {}), ...(cursor ? { cursor } : {}) }),
      columns: columns(reload),
    })
    replace(list, table.el)
    return table.ready
  }
  const searchForm = form({
    label: `Search ${caption.toLowerCase()}`,
    submit: 'Search',
    class: 'inline',
    fields: [field('Contains', input('search', { type: 'search' }), { loc: 'search' })],
    onSubmit: async (el) => {
      search = String(value(el, 'search')) || undefined
      await reload()
    },
  })
  const section = h(
    'section',
    { class: 'card', 'aria-label': title },
    h('h2', { text: title }),
    h('details', {}, h('summary', { text: `Create ${title.toLowerCase().replace(/s$/, '')}` }), create(reload)),
    searchForm,
    list,
  )
  return { section, reload }
}

/** @param {HTMLElement} main @param {HTMLElement} notice */
function permissionsSection(main, notice) {
  const { section, reload } = listSection({
    title: 'Permissions',
    caption: 'Permissions',
    route: 'permissions.listPermissions',
    create: (reload) =>
      form({
        label: 'Create permission',
        submit: 'Create permission',
        fields: [
          field('Name', input('name', { maxLength: 512 }), { loc: 'name', required: true }),
          field('Slug', input('slug', { maxLength: 128 }), { loc: 'slug', required: true, hint: 'What keys are checked for, e.g. documents.read' }),
          field('Description', input('description', { maxLength: 512 }), { loc: 'description' }),
        ],
        onSubmit: async (el) => {
          const description = String(value(el, 'description'))
          await call('permissions.createPermission', { name: value(el, 'name'), slug: value(el, 'slug'), ...(description ? { description } : {}) })
          notice.textContent = `Created permission ${value(el, 'slug')}.`
          el.reset()
          await reload()
        },
      }),
    columns: (reload) => [
      { label: 'Slug', cell: (p) => h('code', { text: p.slug }) },
      { label: 'Name', cell: (p) => p.name },
      { label: 'Description', cell: (p) => p.description ?? '—' },
      {
        label: 'Actions',
        class: 'row-actions',
        cell: (p) =>
          destroyButton({
            what: `permission ${p.slug}`,
            consequence: `Permission ${p.slug} is removed from every key and role that has it.`,
            action: async () => {
              await call('permissions.deletePermission', { permission: p.id })
              notice.textContent = `Deleted permission ${p.slug}.`
              await reload()
            },
          }),
      },
    ],
  })
  main.append(section)
  return reload()
}

/** @param {HTMLElement} main @param {HTMLElement} notice */
function rolesSection(main, notice) {
  const { section, reload } = listSection({
    title: 'Roles',
    caption: 'Roles',
    route: 'permissions.listRoles',
    create: (reload) =>
      form({
        label: 'Create role',
        submit: 'Create role',
        fields: [
          field('Name', input('name', { maxLength: 128 }), { loc: 'name', required: true }),
          field('Description', input('description', { maxLength: 512 }), { loc: 'description' }),
          field('Permissions', h('textarea', { name: 'permissions', rows: 2 }), { loc: 'permissions', hint: 'Slugs, one per line or comma separated.' }),
        ],
        onSubmit: async (el) => {
          const description = String(value(el, 'description'))
          const permissions = list(String(value(el, 'permissions')))
          await call('permissions.createRole', {
            name: value(el, 'name'),
            ...(description ? { description } : {}),
            ...(permissions.length ? { permissions } : {}),
          })
          notice.textContent = `Created role ${value(el, 'name')}.`
          el.reset()
          await reload()
        },
      }),
    columns: (reload) => [
      { label: 'Name', cell: (r) => r.name },
      { label: 'Description', cell: (r) => r.description ?? '—' },
      { label: 'Permissions', cell: (r) => r.permissions?.map((/** @type {any} */ p) => p.slug).join(', ') || '—' },
      {
        label: 'Actions',
        class: 'row-actions',
        cell: (r) => [
          h('button', {
            type: 'button',
            class: 'secondary',
            text: 'Edit permissions',
            'aria-label': `Edit permissions of role ${r.name}`,
            on: { click: () => editRolePermissions(r, reload) },
          }),
          destroyButton({
            what: `role ${r.name}`,
            consequence: `Role ${r.name} is removed from every key that has it.`,
            action: async () => {
              await call('permissions.deleteRole', { role: r.id })
              notice.textContent = `Deleted role ${r.name}.`
              await reload()
            },
          }),
        ],
      },
    ],
  })
  main.append(section)
  return reload()
}

/** @param {any} role @param {() => Promise<void>} reload */
function editRolePermissions(role, reload) {
  openDialog(`Permissions of role ${role.name}`, (close) =>
    form({
      label: `Permissions of role ${role.name}`,
      submit: 'Save permissions',
      fields: [
        field(
          'Permissions',
          h('textarea', { name: 'permissions', rows: 4, value: (role.permissions ?? []).map((/** @type {any} */ p) => p.slug).join('\n') }),
          { loc: 'permissions', hint: 'Slugs, one per line; replaces the role’s permissions.' },
        ),
      ],
      onSubmit: async (el) => {
        await call('permissions.setRolePermissions', { roleId: role.id, permissions: list(String(value(el, 'permissions'))) })
        close()
        await reload()
      },
    }),
  )
}
