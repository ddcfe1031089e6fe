// The latch executable (`bun src/index.ts`, or dist/latch once compiled):
// `latch [serve|seed|root-keys ...]`. See src/cli/run.ts.
import { runCli } from './cli/run'

const code = await runCli(process.argv.slice(2))
process.exitCode = code
// A failed command may leave timers behind (a server that could not bind its
// port has already started its background jobs): exit instead of waiting on them.
if (code !== 0) process.exit(code)
