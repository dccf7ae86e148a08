import { Agent } from 'node:https';

/** The two KubeConfig methods that pick a request's agent (@kubernetes/client-node 1.x). */
export interface AgentChoosingConfig {
  applySecurityAuthentication(context: { getAgent(): unknown; setAgent(agent: Agent): void }): Promise<void>;
  applyToHTTPSOptions(opts: object): Promise<void>;
}

const PATCHED = Symbol('tether.keepAlive');
type Patched = AgentChoosingConfig & { [PATCHED]?: true };

/**
 * @kubernetes/client-node 1.x builds a new https.Agent for every request
 * (`applySecurityAuthentication` / `applyToHTTPSOptions` → `createAgent`), so every API call
 * opens a new TLS connection: measured 31 ms a write, 60 % of it the handshake
 * (test/cloud/channel-faults, issue 12). This swaps each fresh plain https.Agent for one
 * keep-alive agent per TLS identity (CA, client certificate, key, verification), so calls reuse
 * connections. Proxy agents are left alone; a rotated certificate gets a new agent. Idempotent.
 */
export function reuseConnections<T extends AgentChoosingConfig>(
  kc: T,
  opts: { maxSockets?: number } = {},
): T {
  const k: Patched = kc;
  if (k[PATCHED] === true) return kc;
  k[PATCHED] = true;
  const agents = new Map<string, Agent>();
  const shared = (fresh: unknown): Agent | undefined => {
    // exactly https.Agent: hpagent's proxy agents subclass it and must keep their proxy
    if (!(fresh instanceof Agent) || fresh.constructor !== Agent) return undefined;
    const o = fresh.options;
    const key = JSON.stringify(
      [o.ca, o.cert, o.key, o.pfx, o.passphrase, o.rejectUnauthorized, o.servername, o.timeout].map((v) =>
        Buffer.isBuffer(v) ? v.toString('base64') : v,
      ),
    );
    let agent = agents.get(key);
    if (agent === undefined) {
      // bounded: an old identity's agent goes when a rotation made it the oldest of many
      if (agents.size >= 8) {
        const [oldest, old] = agents.entries().next().value as [string, Agent];
        old.destroy();
        agents.delete(oldest);
      }
      agent = new Agent({
        ...o,
        keepAlive: true,
        scheduling: 'lifo',
        ...(opts.maxSockets === undefined ? {} : { maxSockets: opts.maxSockets }),
      });
      agents.set(key, agent);
    }
    fresh.destroy();
    return agent;
  };
  const applyAuth = kc.applySecurityAuthentication.bind(kc);
  kc.applySecurityAuthentication = async (context) => {
    await applyAuth(context);
    const agent = shared(context.getAgent());
    if (agent !== undefined) context.setAgent(agent);
  };
  const applyHttps = kc.applyToHTTPSOptions.bind(kc);
  kc.applyToHTTPSOptions = async (o) => {
    await applyHttps(o);
    const agent = shared((o as { agent?: unknown }).agent);
    if (agent !== undefined) (o as { agent?: unknown }).agent = agent;
  };
  return kc;
}
