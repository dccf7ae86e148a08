// Entry of the edge bundle (scripts/build-edge.ts → dist/bundle/tether-edge.mjs): only `tether edge
// run`, so the bundle holds the agent and nothing of the cloud. bin/tether runs it for `edge run`
// when the build is current; main.ts (which routes `edge run` to the same addEdgeRun) stays the
// entry of everything else and of the tests (issue 12: edge footprint ≤ 60 MB).
import { addEdgeRun, rootCommand, runProgram } from './program-core.js';

const program = rootCommand();
addEdgeRun(program.command('edge').description('edge node commands'));
const code = await runProgram(program, process.argv);
// as main.ts: a failed start exits non-zero; a running agent keeps the process alive on its own
if (code !== 0) process.exit(code);
