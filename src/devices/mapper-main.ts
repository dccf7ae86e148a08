// A protocol mapper as its own process on the node's bus (issue 9):
//   node --import tsx src/devices/mapper-main.ts --bus mqtt://127.0.0.1:1883 --node edge-1 --protocol modbusTCP
// Logs go to stderr as JSON; SIGTERM/SIGINT stop it cleanly.
import { parseArgs } from 'node:util';
import { createLogger, errorMessage } from '../common/index.js';
import { MapperRunner } from './runner.js';
import { PROTOCOLS, type ProtocolType } from './types.js';

const { values } = parseArgs({
  options: { bus: { type: 'string' }, node: { type: 'string' }, protocol: { type: 'string' } },
});
const log = createLogger({ name: 'mapper' });
const protocol = values.protocol as ProtocolType | undefined;
if (
  values.bus === undefined ||
  values.node === undefined ||
  protocol === undefined ||
  !PROTOCOLS.includes(protocol)
) {
  log.fatal(`usage: mapper --bus URL --node NODE --protocol ${PROTOCOLS.join('|')}`);
  process.exit(2);
}
const runner = new MapperRunner({ busUrl: values.bus, nodeName: values.node, protocol }, log);
try {
  await runner.start();
} catch (e) {
  log.fatal({ err: errorMessage(e) }, 'mapper failed to start');
  process.exit(1);
}
const stop = (): void => {
  void runner.stop().finally(() => process.exit(0));
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
