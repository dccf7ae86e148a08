#!/usr/bin/env node
// The `tether` entry (bin/tether). The long-running commands (`edge run`, `cloud`, `up`, `down`)
// and `version` load only program-core.ts; everything else (and any help of the root or of a
// group) loads the whole program. The edge agent thereby never imports the cloud's bootstrap,
// the Kubernetes client or the config docs (issue 12: edge footprint ≤ 60 MB).

/** Whether argv (node, script, ...args) names a command defined in program-core.ts. */
function isCoreInvocation(argv: readonly string[]): boolean {
  const [first, second] = argv.slice(2);
  if (first === 'edge') return second === 'run';
  return first === 'cloud' || first === 'up' || first === 'down' || first === 'version';
}

async function run(argv: readonly string[]): Promise<number> {
  if (isCoreInvocation(argv)) {
    const { buildCoreProgram, runProgram } = await import('./program-core.js');
    return runProgram(buildCoreProgram().program, argv);
  }
  const { main } = await import('./program.js');
  return main(argv);
}

const code = await run(process.argv);
// a command may set process.exitCode (status: 3 when some node is offline) and still let daemons run
if (code !== 0) process.exit(code);
