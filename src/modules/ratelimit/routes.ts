// HTTP controller for the ratelimit.* routes (being built; see the issue tracker).
import { Elysia } from 'elysia'
import type { AppServices } from '../../app'

export function ratelimitRoutes(services: AppServices, prefix: string) {
  return new Elysia({ name: `ratelimit${prefix}`, prefix } as never).use(services.auth)
}
