import { Option, type Command } from 'commander';
import { createLogger, errorMessage } from '../../common/index.js';
import { MapperRunner, PROTOCOLS, type ProtocolType } from '../../devices/index.js';
import { untilSignal } from '../signals.js';
import { nodeNameArg } from './token.js';

const LEVELS = ['trace', 'debug', 'info', 'warn', 'error'] as const;

/**
 * `tether mapper` (issue 9): a protocol mapper as its own process on the node's MQTT bus, like a
 * KubeEdge mapper. It learns its devices from the bus (membership), so it needs no Kubernetes
 * access and no files; the edge must list the protocol in `devices.externalProtocols` so the
 * built-in manager leaves those devices to it.
 */
export function registerMapper(program: Command): void {
  program
    .command('mapper')
    .description("run a device mapper for one protocol as its own process on the node's MQTT bus")
    .addOption(
      new Option('--protocol <protocol>', 'the protocol this mapper serves')
        .choices(PROTOCOLS)
        .makeOptionMandatory(),
    )
    .addOption(
      new Option('--node <name>', 'the edge node whose devices it serves')
        .argParser(nodeNameArg)
        .makeOptionMandatory(),
    )
    .option('--bus <url>', "the node's MQTT bus", 'mqtt://127.0.0.1:1883')
    .addOption(
      new Option('--log-level <level>', 'log level (JSON lines on stderr)').choices(LEVELS).default('info'),
    )
    .addHelpText(
      'after',
      `
The edge must leave the protocol to this process: in its configuration set
  devices: { externalProtocols: [modbusTCP] }
SIGTERM or Ctrl-C stops it cleanly.

Examples:
  tether mapper --protocol modbusTCP --node edge-1
  tether mapper --protocol simulated --node edge-local --bus mqtt://127.0.0.1:1883 --log-level debug`,
    )
    .action(
      async (opts: {
        protocol: ProtocolType;
        node: string;
        bus: string;
        logLevel: (typeof LEVELS)[number];
      }) => {
        if (!/^(mqtt|mqtts|tcp|ws|wss):\/\//.test(opts.bus))
          throw new Error(`--bus must be an MQTT URL such as mqtt://127.0.0.1:1883, got ${opts.bus}`);
        const log = createLogger({ level: opts.logLevel, name: 'mapper' });
        const runner = new MapperRunner(
          { busUrl: opts.bus, nodeName: opts.node, protocol: opts.protocol },
          log,
        );
        try {
          await runner.start();
        } catch (e) {
          throw new Error(
            `the ${opts.protocol} mapper could not start on ${opts.bus}: ${errorMessage(e)} (is the edge running with its bus there?)`,
            { cause: e },
          );
        }
        console.error(`tether mapper: serving ${opts.protocol} devices of node ${opts.node} on ${opts.bus}`);
        untilSignal(() => runner.stop());
      },
    );
}
