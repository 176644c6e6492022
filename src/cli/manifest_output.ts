/** How `manifest up`, `diff`, `ls`, `history`, `rollback` and `run` show their answers to people. */
import type {
  ManifestHistory,
  ManifestPlan,
  ManifestSummary,
  PlanAction,
  RollbackResult,
  Rollout,
  UpResult,
} from "../api/schemas.ts";
import { age, table } from "./output.ts";

/** The mark and word of each plan line, as `terraform plan` marks them. */
const MARKS: Record<PlanAction, string> = {
  create: "+ create",
  recreate: "~ recreate",
  update: "~ update",
  unchanged: "= unchanged",
  remove: "- remove",
};

/** Whether a value is a variable's reference to a secret, `{ secret: NAME }`. */
function isSecretReference(value: unknown): value is { secret: string } {
  return value !== null && typeof value === "object" && !Array.isArray(value) &&
    Object.keys(value).length === 1 && typeof (value as { secret?: unknown }).secret === "string";
}

/** How the summary line counts each action. */
const COUNTED: [PlanAction, string][] = [
  ["create", "to create"],
  ["recreate", "to recreate"],
  ["update", "to update"],
  ["remove", "to remove"],
  ["unchanged", "unchanged"],
];

/**
 * A field's value in a plan line: plain words bare, anything else as JSON, absent as (none), a
 * variable's secret as `(secret NAME)`.
 */
export function valueText(value: unknown): string {
  if (value === undefined) return "(none)";
  if (isSecretReference(value)) return `(secret ${value.secret})`;
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
    const where = c.host === ""
      ? `waiting for a host (${c.pending ?? "none fits"})`
      : `on ${c.host}`;
    lines.push(`${MARKS[c.action].padEnd(width)}  ${c.name} ${where}`);
    for (const change of c.changes) {
      lines.push(`    ${change.field}: ${valueText(change.from)} -> ${valueText(change.to)}`);
    }
  }
  return lines.join("\n");
}

/** The states `manifest ls` gives a column of their own; the rest are counted as OTHER. */
const COLUMNS = ["running", "exited", "failed", "pending"] as const;

/** A rollout in a word or two: `batch 2/3` while it runs, else how it ended. */
export function rolloutText(rollout: Rollout | undefined): string {
  if (rollout === undefined) return "-";
  return rollout.status === "running"
    ? `batch ${rollout.batch}/${rollout.batches}`
    : rollout.status;
}

/** The line `manifest ps` adds under its table for a rollout in progress or one that failed. */
export function rolloutLine(manifest: string, rollout: Rollout): string {
  const head = `${manifest}: rollout ${rolloutText(rollout)}, ` +
    `${rollout.done} of ${rollout.containers} replaced`;
  return rollout.error === undefined ? head : `${head}: ${rollout.error}`;
}

/** The `manifest ls` table. */
export function manifestsTable(list: ManifestSummary[], now = Date.now()): string {
  const header = [
    "NAME",
    "CONTAINERS",
    ...COLUMNS.map((s) => s.toUpperCase()),
    "OTHER",
    "ROLLOUT",
    "AGE",
  ];
  const rows = list.map((m) => {
    const counted = COLUMNS.map((state) => m.states[state] ?? 0);
    const other = m.containers - counted.reduce((a, b) => a + b, 0);
    return [
      m.name,
      String(m.containers),
      ...counted.map(String),
      String(other),
      rolloutText(m.rollout),
      age(m.createdAt, now),
    ];
  });
  return table(header, rows);
}

/** What an up did, in one line: `shop: created web; unchanged db` (`no containers` for none). */
function changesLine(result: UpResult): string {
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

/** What `manifest up` prints: what changed and, when something did, the revision it stored. */
export function upText(result: UpResult): string {
  const lines = [changesLine(result)];
  if (result.revision !== undefined) {
    lines.push(`${result.manifest}: stored as revision ${result.revision}`);
  }
  if (result.rollout) {
    lines.push(`${result.manifest}: rolling out ${result.updated.join(", ")} in batches`);
  }
  return lines.join("\n");
}

/** What `manifest rollback` prints: what changed, and which revision became which. */
export function rollbackText(result: RollbackResult): string {
  return `${changesLine(result)}\n` +
    `${result.manifest}: rolled back to revision ${result.to} as revision ${result.revision}`;
}

/** The `manifest history` table, newest first, the current revision marked. */
export function historyTable(history: ManifestHistory): string {
  const rows = history.revisions.map((r) => [
    r.current ? `${r.number} (current)` : String(r.number),
    r.at,
    r.actor,
  ]);
  return table(["REVISION", "WHEN", "WHO"], rows);
}
