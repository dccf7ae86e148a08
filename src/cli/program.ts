// The whole `tether` program: the core commands (program-core.ts) and the registrars of
// commands/*.ts. Tests walk buildProgram(); main.ts loads this module only for commands outside
// the core, so `tether edge run` never imports the cloud's code (issue 12 footprint).
import type { Command } from 'commander';
import { buildCoreProgram, runProgram } from './program-core.js';
import { registerConfig } from './commands/config.js';
import { registerEdgeHealth } from './commands/edge-health.js';
import { registerEdgeJoin } from './commands/join.js';
import { registerMapper } from './commands/mapper.js';
import { registerNode } from './commands/node.js';
import { registerStatus } from './commands/status.js';
import { registerToken } from './commands/token.js';

export function buildProgram(): Command {
  const { program, edge } = buildCoreProgram();
  registerEdgeJoin(edge);
  registerEdgeHealth(edge);
  registerToken(program);
  registerNode(program);
  registerStatus(program);
  registerConfig(program);
  registerMapper(program);
  return program;
}

export function main(argv: readonly string[]): Promise<number> {
  return runProgram(buildProgram(), argv);
}
