// The latch executable (`bun src/index.ts`, or dist/latch once compiled):
// `latch [serve|seed|root-keys ...]`. See src/cli/run.ts.
import { runCli } from './cli/run'

process.exitCode = await runCli(process.argv.slice(2))
