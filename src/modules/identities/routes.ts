// HTTP controller for the identities.* routes (being built; see the issue tracker).
import { Elysia } from 'elysia'
import type { AppServices } from '../../app'

export function identitiesRoutes(services: AppServices, prefix: string) {
  return new Elysia({ name: `identities${prefix}`, prefix } as never).use(services.auth)
}
