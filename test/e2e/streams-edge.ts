/**
 * `tether edge run` in-process for test/e2e/streams.test.ts: startEdge serves streams itself
 * (EdgeStreams is wired in src/cli/edge.ts); this runner only fails loudly if it does not.
 * Run as `node --import tsx test/e2e/streams-edge.ts <config.yaml>` (inside the edge's netns).
 */
import { EdgeConfigSchema, loadConfig } from '../../src/cli/config.js';
import { startEdge } from '../../src/cli/edge.js';

const cfg = loadConfig(process.argv[2] ?? '', EdgeConfigSchema, 'edge');
const edge = await startEdge(cfg);
if (cfg.pods.enabled && edge.streams === undefined) {
  await edge.stop();
  throw new Error('startEdge did not start EdgeStreams although pods are enabled');
}
let stopping = false;
const stop = async (): Promise<void> => {
  if (stopping) return;
  stopping = true;
  await edge.stop();
  process.exit(0);
};
process.on('SIGTERM', () => void stop());
process.on('SIGINT', () => void stop());
