// A real edge-like process for the SIGKILL test: starts a HealthMonitor, says "ready", then waits to be killed.
import { FileHealthStore, HealthMonitor, makeUnit, resolveUnit } from '../../../src/edge/health/index.js';

const [root = '/', storePath = '', markerPath = ''] = process.argv.slice(2);
const monitor = new HealthMonitor({
  config: { root },
  store: new FileHealthStore(storePath),
  replaceBuiltins: true,
  units: [makeUnit('runtime', resolveUnit('runtime', undefined), () => Promise.resolve(1))],
  markerPath,
});
await monitor.start();
process.stdout.write('ready\n');
setInterval(() => undefined, 1000);
