/**
 * ControlPlaneControllers: every controller of the embedded control plane (DESIGN §7) from one
 * kubeconfig, sharing one set of informers — what `tether up` runs beside the embedded API
 * server. Each controller is also a Component on its own.
 */
import { KubeConfig } from '@kubernetes/client-node';
import { z } from 'zod';
import { ConfigError, type Component, type Logger, type Registry } from '../common/index.js';
import type { Controller, ControllerDeps } from './controller.js';
import { DaemonSetController } from './daemonset.js';
import { DeploymentController } from './deployment.js';
import { GarbageCollector } from './gc.js';
import { InformerFactory, Kube } from './kube.js';
import { NamespaceController } from './namespace.js';
import { NodeLifecycleController } from './nodelifecycle.js';
import { ReplicaSetController } from './replicaset.js';
import { Scheduler } from './scheduler.js';

export const CONTROLLER_NAMES = [
  'scheduler',
  'replicaset',
  'deployment',
  'daemonset',
  'garbagecollector',
  'namespace',
  'nodelifecycle',
] as const;
export type ControllerName = (typeof CONTROLLER_NAMES)[number];

export const ControlPlaneConfigSchema = z
  .object({
    /** Path of the kubeconfig to use (or pass a KubeConfig in the deps). */
    kubeconfigPath: z.string().min(1).optional(),
    /** Which controllers run (default: all). */
    controllers: z.array(z.enum(CONTROLLER_NAMES)).default([...CONTROLLER_NAMES]),
    nodeLifecycle: z
      .object({
        gracePeriodSeconds: z.number().positive().default(40),
        monitorPeriodSeconds: z.number().positive().default(5),
        defaultTolerationSeconds: z.number().int().nonnegative().default(300),
      })
      .prefault({}),
    workers: z
      .object({
        replicaset: z.number().int().positive().default(4),
        deployment: z.number().int().positive().default(2),
        daemonset: z.number().int().positive().default(2),
        garbagecollector: z.number().int().positive().default(4),
        namespace: z.number().int().positive().default(2),
      })
      .prefault({}),
  })
  .strict();
export type ControlPlaneConfigInput = z.input<typeof ControlPlaneConfigSchema>;
export type ControlPlaneConfig = z.output<typeof ControlPlaneConfigSchema>;

export interface ControlPlaneDeps {
  logger: Logger;
  registry: Registry;
  /** A ready KubeConfig instead of `kubeconfigPath`. */
  kubeConfig?: KubeConfig;
}

export class ControlPlaneControllers implements Component {
  readonly name = 'controllers';
  readonly config: ControlPlaneConfig;
  private controllers: Controller[] = [];
  private informers: InformerFactory | undefined;

  constructor(
    config: ControlPlaneConfigInput,
    private readonly deps: ControlPlaneDeps,
  ) {
    const parsed = ControlPlaneConfigSchema.safeParse(config);
    if (!parsed.success)
      throw new ConfigError(
        'invalid controllers configuration',
        parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`),
      );
    if (parsed.data.kubeconfigPath === undefined && deps.kubeConfig === undefined)
      throw new ConfigError('controllers need a kubeconfigPath or a KubeConfig', [
        'kubeconfigPath: required',
      ]);
    this.config = Object.freeze(parsed.data);
  }

  async start(): Promise<void> {
    const c = this.config;
    let kc = this.deps.kubeConfig;
    if (kc === undefined) {
      kc = new KubeConfig();
      kc.loadFromFile(c.kubeconfigPath as string);
    }
    const kube = new Kube(kc);
    const log = this.deps.logger.child({ component: 'controllers' });
    const informers = new InformerFactory(kube, log);
    this.informers = informers;
    const d = (name: string): ControllerDeps => ({
      kube,
      informers,
      logger: log.child({ controller: name }),
      registry: this.deps.registry,
    });
    const make: Record<ControllerName, () => Controller> = {
      scheduler: () => new Scheduler(d('scheduler')),
      replicaset: () => new ReplicaSetController(d('replicaset'), { workers: c.workers.replicaset }),
      deployment: () => new DeploymentController(d('deployment'), { workers: c.workers.deployment }),
      daemonset: () => new DaemonSetController(d('daemonset'), { workers: c.workers.daemonset }),
      garbagecollector: () =>
        new GarbageCollector(d('garbagecollector'), { workers: c.workers.garbagecollector }),
      namespace: () => new NamespaceController(d('namespace'), { workers: c.workers.namespace }),
      nodelifecycle: () =>
        new NodeLifecycleController(d('nodelifecycle'), {
          gracePeriodMs: c.nodeLifecycle.gracePeriodSeconds * 1000,
          monitorPeriodMs: c.nodeLifecycle.monitorPeriodSeconds * 1000,
          defaultTolerationSeconds: c.nodeLifecycle.defaultTolerationSeconds,
        }),
    };
    try {
      for (const name of CONTROLLER_NAMES) {
        if (!c.controllers.includes(name)) continue;
        const ctl = make[name]();
        await ctl.start();
        this.controllers.push(ctl);
      }
    } catch (e) {
      await this.stop();
      throw e;
    }
  }

  async stop(): Promise<void> {
    for (const ctl of this.controllers.splice(0).reverse()) await ctl.stop();
    await this.informers?.stop();
    this.informers = undefined;
  }
}
