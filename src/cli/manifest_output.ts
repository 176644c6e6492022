/** How `manifest up`, `diff` and `ls` (and `run`) show their answers to people. */
import type { ManifestPlan, ManifestSummary, PlanAction, UpResult } from "../api/schemas.ts";
import { age, table } from "./output.ts";

/** What `manifest up` did: `shop: created web; unchanged api; removed worker`. */
export function upText(result: UpResult): string {
  const part = (label: string, names: string[]) =>
    names.length ? [`${label} ${names.join(", ")}`] : [];
  const parts = [
    ...part("created", result.created),
    ...part("updated", result.updated),
    ...part("unchanged", result.unchanged),
    ...part("removed", result.removed),
  ];
  return `${result.manifest}: ${parts.join("; ") || "no containers"}`;
}

/** The mark and word of each plan line, as `terraform plan` marks them. */
const MARKS: Record<PlanAction, string> = {
  create: "+ create",
  recreate: "~ recreate",
  update: "~ update",
  unchanged: "= unchanged",
  remove: "- remove",
};

/** How the summary line counts each action. */
const COUNTED: [PlanAction, string][] = [
  ["create", "to create"],
  ["recreate", "to recreate"],
  ["update", "to update"],
  ["remove", "to remove"],
  ["unchanged", "unchanged"],
];

/** A field's value in a plan line: plain words bare, anything else as JSON, absent as (none). */
export function valueText(value: unknown): string {
  if (value === undefined) return "(none)";
  if (typeof value === "string" && /^[^\s"'\\]+$/.test(value)) return value;
  return JSON.stringify(value);
}

/**
 * The plan of `manifest diff`: a summary line, then one line per container (`+ create`,
 * `~ recreate` and `~ update` with a line per changed field, `- remove`, `= unchanged`).
 */
export function planText(plan: ManifestPlan): string {
  const counts = COUNTED.map(([action, label]) => {
    const n = plan.containers.filter((c) => c.action === action).length;
    return n > 0 ? `${n} ${label}` : "";
  }).filter(Boolean);
  const head = `${plan.manifest}: ${plan.changed ? "" : "no changes; "}${
    counts.join(", ") || "no containers"
  }`;
  const width = Math.max(...Object.values(MARKS).map((m) => m.length));
  const lines = [head];
  for (const c of plan.containers) {
    lines.push(`${MARKS[c.action].padEnd(width)}  ${c.name} on ${c.host}`);
    for (const change of c.changes) {
      lines.push(`    ${change.field}: ${valueText(change.from)} -> ${valueText(change.to)}`);
    }
  }
  return lines.join("\n");
}

/** The states `manifest ls` gives a column of their own; the rest are counted as OTHER. */
const COLUMNS = ["running", "exited", "failed", "pending"] as const;

/** The `manifest ls` table. */
export function manifestsTable(list: ManifestSummary[], now = Date.now()): string {
  const header = ["NAME", "CONTAINERS", ...COLUMNS.map((s) => s.toUpperCase()), "OTHER", "AGE"];
  const rows = list.map((m) => {
    const counted = COLUMNS.map((state) => m.states[state] ?? 0);
    const other = m.containers - counted.reduce((a, b) => a + b, 0);
    return [
      m.name,
      String(m.containers),
      ...counted.map(String),
      String(other),
      age(m.createdAt, now),
    ];
  });
  return table(header, rows);
}
