/** Node lookups shared by both backends; they read the roles and statuses the handle tracks. */
import { NoSuchNodeError } from "../errors.js";
import type { TestIsland, TestNode } from "../test-cluster.js";

export function findIsland<Node extends TestNode>(
  islands: readonly TestIsland<Node>[],
  island: number,
): TestIsland<Node> {
  const found = islands.find((i) => i.island === island);
  if (!found) throw new NoSuchNodeError(island, undefined, "no such island in this cluster");
  return found;
}

export function findNode<Node extends TestNode>(
  islands: readonly TestIsland<Node>[],
  island: number,
  index: number,
): Node {
  const node = findIsland(islands, island).nodes[index];
  if (!node) throw new NoSuchNodeError(island, index, "no such node");
  return node;
}

/** A running master wins; a stopped one is still the master (a test may be about to restart it). */
export function findMaster<Node extends TestNode>(
  islands: readonly TestIsland<Node>[],
  island: number,
): Node {
  const nodes = findIsland(islands, island).nodes;
  const node =
    nodes.find((n) => n.role === "master" && n.status === "running") ??
    nodes.find((n) => n.role === "master");
  if (!node) throw new NoSuchNodeError(island, undefined, "has no master");
  return node;
}

export function findReplicas<Node extends TestNode>(
  islands: readonly TestIsland<Node>[],
  island: number,
): Node[] {
  return findIsland(islands, island).nodes.filter((n) => n.role === "replica");
}
