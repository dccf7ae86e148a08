#!/usr/bin/env node
// The `tether` entry (bin/tether): the program lives in program.ts so tests can walk its commands.
import { main } from './program.js';

const code = await main(process.argv);
// a command may set process.exitCode (status: 3 when some node is offline) and still let daemons run
if (code !== 0) process.exit(code);
