import type { Command } from 'commander';
import { silentLogger } from '../../common/index.js';
import { Revocations } from '../../cloud/bootstrap/index.js';
import { adminKube, kubeconfigOption, nodeNameArg } from './token.js';

/** `tether node revoke X` (issue 5): every certificate of X issued until now stops working. */
export function registerNode(program: Command): void {
  const node = program.command('node').description('edge node identity commands');
  node
    .command('revoke')
    .description(
      'revoke every certificate of an edge node issued until now; its live session is closed within seconds',
    )
    .argument('<name>', 'the node name', nodeNameArg)
    .addOption(kubeconfigOption())
    .addHelpText(
      'after',
      '\nThe node can come back only by joining again, with a token bound to it:\n  tether token create --node NAME\n\nExample:\n  tether node revoke edge-7',
    )
    .action(async (name: string, opts: { kubeconfig?: string }) => {
      const at = await new Revocations(adminKube(opts.kubeconfig), silentLogger()).revokeNode(name);
      console.log(
        `node ${name}: every certificate issued up to ${at.toISOString()} is revoked; ` +
          `to let it back, create a token bound to it (tether token create --node ${name}) and join again`,
      );
    });
}
