// APIs: list (paginated), create, rename, delete protection on and off, and
// delete after a confirmation naming the API and saying its keys go with it.
import { call } from '../api.js'
import { destroyButton, errorBox, formatTime, h, link, openDialog, pageHeader, pagedTable, replace } from '../dom.js'
import { field, form, input, value } from '../forms.js'

/** @param {HTMLElement} main */
export async function apisPage(main) {
  const list = h('section', { 'aria-label': 'APIs' })
  const notice = h('div', { role: 'status', class: 'notice' })
  const reload = () => {
    const table = pagedTable({
      caption: 'APIs',
      empty: 'No APIs yet. Create one above.',
      load: (cursor) => call('apis.listApis', { limit: 25, ...(cursor ? { cursor } : {}) }),
      columns: [
        { label: 'Name', cell: (api) => link(`/apis/${api.id}`, api.name) },
        { label: 'Id', cell: (api) => h('code', { text: api.id }) },
        { label: 'Delete protection', cell: (api) => protectionToggle(api, notice) },
        { label: 'Created', cell: (api) => formatTime(api.createdAt) },
        {
          label: 'Actions',
          class: 'row-actions',
          cell: (api) => [
            renameButton(api, reload),
            destroyButton({
              what: `API ${api.name}`,
              consequence: `API ${api.name} (${api.id}) and every key issued for it will stop working.`,
              action: async () => {
                await call('apis.deleteApi', { apiId: api.id })
                notice.textContent = `Deleted API ${api.name}.`
                await reload()
              },
            }),
          ],
        },
      ],
    })
    replace(list, table.el)
    return table.ready
  }
  const create = form({
    label: 'Create API',
    submit: 'Create API',
    class: 'inline',
    fields: [field('Name', input('name', { maxLength: 256 }), { loc: 'name', required: true, hint: '3 to 256 characters' })],
    onSubmit: async (el) => {
      const name = String(value(el, 'name'))
      const { data } = await call('apis.createApi', { name })
      el.reset()
      notice.textContent = `Created API ${name} (${data.apiId}).`
      await reload()
    },
  })
  main.append(pageHeader('APIs'), h('section', { class: 'card', 'aria-label': 'Create API' }, h('h2', { text: 'Create an API' }), create), notice, list)
  await reload()
}

/** @param {any} api @param {HTMLElement} notice */
function protectionToggle(api, notice) {
  const button = h('button', {
    type: 'button',
    class: 'toggle',
    'aria-pressed': String(api.deleteProtection),
    'aria-label': `Delete protection for ${api.name}`,
    text: api.deleteProtection ? 'On' : 'Off',
  })
  const error = h('div')
  button.addEventListener('click', async () => {
    button.disabled = true
    try {
      const { data } = await call('apis.updateApi', { apiId: api.id, deleteProtection: !api.deleteProtection })
      api.deleteProtection = data.deleteProtection
      button.setAttribute('aria-pressed', String(api.deleteProtection))
      button.textContent = api.deleteProtection ? 'On' : 'Off'
      notice.textContent = `Delete protection for ${api.name} is ${api.deleteProtection ? 'on' : 'off'}.`
      replace(error)
    } catch (e) {
      replace(error, errorBox(e))
    } finally {
      button.disabled = false
    }
  })
  return [button, error]
}

/** @param {any} api @param {() => Promise<void>} reload */
function renameButton(api, reload) {
  return h('button', {
    type: 'button',
    class: 'secondary',
    text: 'Rename',
    'aria-label': `Rename ${api.name}`,
    on: {
      click: () =>
        openDialog(`Rename ${api.name}`, (close) =>
          form({
            label: `Rename ${api.name}`,
            submit: 'Rename',
            fields: [field('New name', input('name', { value: api.name, maxLength: 256 }), { loc: 'name', required: true })],
            onSubmit: async (el) => {
              await call('apis.updateApi', { apiId: api.id, name: value(el, 'name') })
              close()
              await reload()
            },
          }),
        ),
    },
  })
}
