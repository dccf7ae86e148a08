/**
 * Streams at the edge (issue 8, /work/briefs/streams-contract.md): `kubectl logs/exec/attach/
 * port-forward` served from CRI log files and containerd's streaming server, relayed over the
 * link with per-stream flow control. docs/kubelet.md "Streams at the edge" describes it.
 */
export {
  EdgeStreams,
  EdgeStreamsConfigSchema,
  StreamRefusedError,
  type EdgeStreamsConfig,
  type EdgeStreamsDeps,
  type StreamLink,
  type StreamRuntime,
  type StreamStore,
} from './streams.js';
export {
  CriLogReader,
  parseCriLine,
  parseTimestamp,
  tailStart,
  type CriLogLine,
  type LogChunk,
  type LogReadOptions,
} from './logs.js';
export {
  PortForwardConnection,
  RemoteCommand,
  SpdyConnection,
  StreamingError,
  parseStatus,
  type CommandResult,
  type RemoteCommandOptions,
} from './spdy.js';
export {
  collectResourceMetrics,
  containerUsage,
  parseMeminfo,
  parseProcStat,
  readNodeUsage,
  resourceMetricsText,
  type ContainerUsage,
  type NodeUsage,
  type ResourceRuntime,
  type ResourceSnapshot,
} from './metrics.js';
