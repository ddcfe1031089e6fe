// HTTP controller for keys.* and apis.listKeys.
import { Elysia } from 'elysia'
import type { AppServices } from '../../app'

export function keysRoutes(services: AppServices, prefix: string) {
  return new Elysia({ name: `keys${prefix}`, prefix, detail: { tags: ['keys'] } } as never).use(services.auth)
}
