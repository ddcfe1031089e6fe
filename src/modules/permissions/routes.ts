// HTTP controller for the permissions.* routes (being built; see the issue tracker).
import { Elysia } from 'elysia'
import type { AppServices } from '../../app'

export function permissionsRoutes(services: AppServices, prefix: string) {
  return new Elysia({ name: `permissions${prefix}`, prefix } as never).use(services.auth)
}
