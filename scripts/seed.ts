// `bun scripts/seed.ts [flags]` runs `latch seed [flags]`: development,
// staging and production workspaces with one `*` root key each. The logic
// lives in src/modules/rootkeys/seed.ts; this file only forwards argv.
import { runCli } from '../src/cli/run'

process.exitCode = await runCli(['seed', ...process.argv.slice(2)])
