export { registryRoot, sweepStaleClusters } from "./cluster-registry.js";
export { clusterStatus, type NodeStatusReport } from "./cluster-status.js";
export {
  ContainerCluster,
  type ContainerClusterOptions,
  type ContainerIsland,
  startContainerCluster,
} from "./container-cluster.js";
export { ContainerNode } from "./container-node.js";
export { type DestroyedCluster, destroyLocalCluster } from "./destroy-local-cluster.js";
export { dockerAvailable } from "./docker-available.js";
export {
  ClusterDirNotAccessibleError,
  ClusterDirNotEmptyError,
  DockerUnavailableError,
  InvalidBackendError,
  NoClusterError,
  NoSuchNodeError,
  UnsupportedOperationError,
  WaitTimeoutError,
} from "./errors.js";
// Low-level pieces for custom setups and benchmarks that start servers by hand.
export { freePort, freePorts } from "./free-port.js";
export { CommandFailedError, runAsServerUser } from "./internal/run-command.js";
export { LocalCluster, type LocalIsland } from "./local-cluster.js";
export {
  CLUSTER_CONFIG_FILE,
  clusterConfigPath,
  readClusterConfigFile,
} from "./local-cluster-files.js";
export { LocalNode } from "./local-node.js";
export { openLocalCluster } from "./open-local-cluster.js";
export { findPostgresBinaries, PostgresBinariesNotFoundError } from "./postgres-binaries.js";
export {
  handToServerUser,
  NoPostgresUserError,
  type ProcessUser,
  serverProcessUser,
} from "./process-user.js";
export { type LocalClusterOptions, startLocalCluster } from "./start-local-cluster.js";
export {
  resolveBackend,
  startTestCluster,
  TEST_CLUSTER_BACKENDS,
  type TestClusterOptions,
} from "./start-test-cluster.js";
export type {
  NodeConnection,
  NodeRole,
  NodeStatus,
  TestCluster,
  TestClusterBackend,
  TestClusterShape,
  TestIsland,
  TestNode,
} from "./test-cluster.js";
