export {
  type LocalClusterOptions,
  type LocalIsland,
  LocalCluster,
  startLocalCluster,
} from "./local-cluster.js";
export { type NodeConnection, type NodeRole, type NodeStatus, LocalNode } from "./local-node.js";
export { PostgresBinariesNotFoundError, findPostgresBinaries } from "./postgres-binaries.js";
export { registryRoot, sweepStaleClusters } from "./cluster-registry.js";
export { CommandFailedError } from "./internal/run-command.js";
