// A faithful fake of WeCom's upstream/downstream (上下游) API, for tests, the demo, the benchmark and
// `wecom-chain-sync simulate`. Independent of the client in src/wecom: it speaks the wire format only.
export type { ListPosition } from './corp-index.ts';
export {
  DEFAULT_RANDOM_KINDS,
  type Fault,
  type FaultMatch,
  type FaultRule,
  Faults,
  type RandomFaults,
} from './faults.ts';
export {
  corpKeyOf,
  MAX_DEPTH,
  type NetworkSpec,
  PENDING_PREFIX,
  type QualificationStatus,
  ROOT_GROUP_ID,
  type SimChain,
  type SimCorp,
  type SimGroup,
} from './model.ts';
export { type NetworkStats, SimNetwork } from './network.ts';
export { type CallCounts, type Simulator, type SimulatorOptions, startSimulator } from './server.ts';
export { ERRCODE, SIM_ENDPOINT_NAMES, SIM_ENDPOINTS, type SimEndpoint } from './wire.ts';
