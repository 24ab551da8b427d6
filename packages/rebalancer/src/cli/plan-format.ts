/** The dry-run plan as text (printed by `plan`, and before a rebalance or drain starts). */
import type { RebalancePlan } from "../plan/plan-rebalance.js";
import { formatBytes, formatRatio, table } from "./text-format.js";

export function formatPlan(plan: RebalancePlan): string {
  const lines = [
    `imbalance ${formatRatio(plan.before.imbalance)} → ${formatRatio(plan.after.imbalance)}; ` +
      `${plan.moves.length} move(s), ${formatBytes(plan.moves.reduce((n, m) => n + m.bytes, 0))}` +
      (plan.reachable ? "" : " (balance not fully reachable)"),
  ];
  if (plan.moves.length > 0) {
    lines.push(
      table(
        ["MICROSHARD", "FROM", "TO", "SIZE"],
        plan.moves.map((m) => [
          String(m.microshard),
          String(m.from),
          String(m.to),
          formatBytes(m.bytes),
        ]),
      ),
    );
  }
  lines.push(...plan.explanations.map((e) => `note: ${e}`));
  return lines.join("\n");
}
