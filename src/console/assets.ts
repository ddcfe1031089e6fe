// Every file of the web console, embedded in the compiled binary: each is
// imported `with { type: 'text' }`, which Bun and Deno both read when latch
// loads and embed in a compiled binary (dist/latch). Served by
// src/http/console.ts; scripts/build.ts checks each is answered by the binary.
// A new console file is listed here, or it is not served.
import apiJs from './api.js' with { type: 'text' }
import appJs from './app.js' with { type: 'text' }
import chartJs from './chart.js' with { type: 'text' }
import consoleCss from './console.css' with { type: 'text' }
import domJs from './dom.js' with { type: 'text' }
import faviconSvg from './favicon.svg' with { type: 'text' }
import formsJs from './forms.js' with { type: 'text' }
import indexHtml from './index.html' with { type: 'text' }
import apisJs from './pages/apis.js' with { type: 'text' }
import auditJs from './pages/audit.js' with { type: 'text' }
import identitiesJs from './pages/identities.js' with { type: 'text' }
import keyFormJs from './pages/key-form.js' with { type: 'text' }
import keyJs from './pages/key.js' with { type: 'text' }
import keysJs from './pages/keys.js' with { type: 'text' }
import overviewJs from './pages/overview.js' with { type: 'text' }
import permissionsJs from './pages/permissions.js' with { type: 'text' }
import ratelimitsJs from './pages/ratelimits.js' with { type: 'text' }
import rootKeysJs from './pages/root-keys.js' with { type: 'text' }

export interface ConsoleAsset {
  /** The URL path it is served at. */
  route: string
  /** Its content. */
  body: string
  /** Its Content-Type. */
  type: string
}

const JS = 'text/javascript; charset=utf-8'

export const CONSOLE_ASSETS: ConsoleAsset[] = [
  // Bun's types call an HTML import a bundle; `with { type: 'text' }` makes it text like the others.
  { route: '/console', body: indexHtml as unknown as string, type: 'text/html; charset=utf-8' },
  { route: '/console/console.css', body: consoleCss, type: 'text/css; charset=utf-8' },
  { route: '/console/favicon.svg', body: faviconSvg, type: 'image/svg+xml' },
  { route: '/console/app.js', body: appJs, type: JS },
  { route: '/console/api.js', body: apiJs, type: JS },
  { route: '/console/chart.js', body: chartJs, type: JS },
  { route: '/console/dom.js', body: domJs, type: JS },
  { route: '/console/forms.js', body: formsJs, type: JS },
  { route: '/console/pages/apis.js', body: apisJs, type: JS },
  { route: '/console/pages/audit.js', body: auditJs, type: JS },
  { route: '/console/pages/identities.js', body: identitiesJs, type: JS },
  { route: '/console/pages/key-form.js', body: keyFormJs, type: JS },
  { route: '/console/pages/key.js', body: keyJs, type: JS },
  { route: '/console/pages/keys.js', body: keysJs, type: JS },
  { route: '/console/pages/overview.js', body: overviewJs, type: JS },
  { route: '/console/pages/permissions.js', body: permissionsJs, type: JS },
  { route: '/console/pages/ratelimits.js', body: ratelimitsJs, type: JS },
  { route: '/console/pages/root-keys.js', body: rootKeysJs, type: JS },
]

/** The file under src/console that `route` serves (`/console` is index.html): for the checks of the build and the tests. */
export const consoleFileOf = (route: string): string => (route === '/console' ? 'index.html' : route.slice('/console/'.length))
