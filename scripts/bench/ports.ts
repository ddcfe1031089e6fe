// Port helpers of the benchmark's servers: the `--port P` flag of
// echo-server.ts and elysia-reference.ts. Free loopback ports come from
// scripts/smoke.ts's freePort, which the benchmark reuses.

/** The value of `--port`, which must be a port number (1-65535). */
export function parsePort(args: string[]): number {
  const port = Number(args[args.indexOf('--port') + 1])
  if (!args.includes('--port') || !Number.isInteger(port) || port < 1 || port > 65535) {
    console.error('usage: --port <1-65535>')
    process.exit(2)
  }
  return port
}
