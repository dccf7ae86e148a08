export {
  NodeReporter,
  NodeReporterConfigSchema,
  type NodeReporterConfig,
  type NodeReporterDeps,
  type NodeOutbox,
  type ConditionSource,
} from './reporter.js';
