/** Edge health judgement (DESIGN §4, issue 10): the only public entry of this folder. */
export type * from './types.js';
export { UNIT_NAME_RE, VERDICTS } from './types.js';
export { unitName, type JudgementUnit, type UnitDescriptor } from './unit.js';
export { SampleWindow, crosses, gradeOf, judgeSample, mean, yesNoOf } from './judge.js';
export { DEFAULT_RULE, combine, type CombinationRule } from './rule.js';
export { formatStatusString, parseStatusString, formatNumber, type ParsedEntry } from './status-string.js';
export { StateLibrary, stateOf, type StateLibraryOptions } from './library.js';
export { UnitRunner, SampleTimeoutError, type SampleOutcome, type UnitRunnerOptions } from './runner.js';
export {
  FileHealthStore,
  HealthStoreCorruptError,
  MemoryHealthStore,
  verdictRecordSchema,
  type HealthStore,
} from './store.js';
export {
  BUILTIN_UNITS,
  UNIT_DEFAULTS,
  healthConfigSchema,
  parseHealthConfig,
  resolveUnit,
  type BuiltinUnit,
  type HealthConfig,
  type HealthConfigInput,
  type UnitOverride,
  type UnitSettings,
} from './config.js';
export {
  SampleUnavailableError,
  cpuLoadSampler,
  diskUsageSampler,
  inodeUsageSampler,
  memoryAvailableSampler,
  pidPressureSampler,
  thermalSampler,
} from './samplers.js';
export {
  createBuiltinUnits,
  makeUnit,
  mapperUnit,
  type BuiltinDeps,
  type Probe,
  type UnitProbes,
} from './units.js';
export {
  CLEAN_SHUTDOWN_LOG_MESSAGE,
  CRASH_PATTERNS,
  SHUTDOWN_UNIT,
  appendCleanShutdownLine,
  findCrashMarker,
  markCleanShutdown,
  runStartupCheck,
  type StartupCheckOptions,
  type StartupReport,
} from './startup.js';
export { HealthMonitor, nodePressureConditions, type HealthMonitorDeps } from './monitor.js';
export {
  PRESSURE_CONDITIONS,
  PRESSURE_CONDITION_TYPES,
  PressureTracker,
  type NodeConditionReport,
  type NodeConditionStatus,
  type PressureConditionType,
} from './pressure.js';
export * from './probes.js';
