/**
 * The one comparison of a manifest with what is stored for it: `manifest up` applies its steps
 * and `manifest diff` shows them, so the two can never disagree.
 */
import { isDeepStrictEqual } from "node:util";
import type {
  ContainerPlan,
  FieldChange,
  Manifest,
  ManifestContainer,
  ManifestPlan,
  NormalizedSpec,
  ParsedSpec,
  Placement,
} from "../api/schemas.ts";
import { instanceName, instanceSpec } from "../manifest/schema.ts";
import { canonicalForm, type Json } from "../manifest/hash.ts";
import type { ContainerRow } from "./store/store.ts";

/** Where a placed instance comes from: its spec's name, and where it may go. */
export interface Placed {
  template: string;
  placement: Placement;
}

/**
 * What `up` does to one container, with what it needs to do it. A placed instance carries
 * `placed`; its host is "" until placement chooses one, and stays "" with `pending` saying why
 * when none fits.
 */
export type Step =
  | ({ action: "create"; placed?: Placed; pending?: string } & ParsedSpec)
  | ({
    action: "recreate" | "update" | "unchanged";
    row: ContainerRow;
    changes: FieldChange[];
    placed?: Placed;
    pending?: string;
  } & ParsedSpec)
  | { action: "remove"; row: ContainerRow };

/** A path of keys as written in a field line: `environment.MODE`, `labels["a.b"]`. */
function fieldName(path: string[]): string {
  return path.reduce(
    (name, key) =>
      /^[A-Za-z_][A-Za-z0-9_-]*$/.test(key)
        ? name === "" ? key : `${name}.${key}`
        : `${name}[${JSON.stringify(key)}]`,
    "",
  );
}

function isMap(value: Json | undefined): value is { [key: string]: Json } {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

/** A field that differs between two specs as written: its path and both values. */
interface RawChange {
  path: string[];
  from?: Json;
  to?: Json;
}

/** Collects the fields that differ, descending into maps; lists count as one value. */
function rawChanges(
  path: string[],
  from: Json | undefined,
  to: Json | undefined,
  out: RawChange[],
) {
  if (isMap(from) && isMap(to)) {
    // The new spec's order first, so the lines read like the manifest being applied.
    const keys = [...Object.keys(to), ...Object.keys(from).filter((key) => !(key in to))];
    for (const key of keys) rawChanges([...path, key], from[key], to[key], out);
    return;
  }
  if (isDeepStrictEqual(from, to)) return;
  const change: RawChange = { path };
  if (from !== undefined) change.from = from;
  if (to !== undefined) change.to = to;
  out.push(change);
}

/** Fields whose keys the normalized form keeps, so that a change inside one is judged alone. */
const KEYED = new Set(["environment", "labels", "resources"]);

/**
 * The normalized value a change of the written spec at `path` lands in: the same key at the top
 * level, and one key deeper in maps whose keys stay (`environment.MODE`).
 */
function normalizedAt(form: { [key: string]: Json }, path: string[]): Json | undefined {
  const [field, key] = path;
  const value = form[field];
  if (!KEYED.has(field) || key === undefined) return value;
  return isMap(value) ? value[key] : undefined;
}

/**
 * The fields that differ between a stored container and a new spec, with the values as written.
 * A difference of spelling only (`cmd` as a string or a list, ports in another order) is left
 * out: it does not change the normalized form, which both sides carry already parsed.
 */
function specChanges(row: ContainerRow, parsed: ParsedSpec): FieldChange[] {
  const stored = JSON.parse(row.spec) as Json;
  const all: RawChange[] = [];
  rawChanges([], stored, parsed.spec as unknown as Json, all);
  const before = canonicalForm(JSON.parse(row.normalized) as NormalizedSpec);
  const after = canonicalForm(parsed.normalized);
  const meaningful = all.filter((change) =>
    !isDeepStrictEqual(normalizedAt(before, change.path), normalizedAt(after, change.path))
  );
  const shown = meaningful.length > 0 ? meaningful : all;
  const changes = shown.map(({ path, ...values }) => ({ field: fieldName(path), ...values }));
  // The hash may also move with no field changed (a spec hashed by an older version).
  if (changes.length === 0) {
    changes.push({ field: "specHash", from: row.spec_hash, to: parsed.hash });
  }
  return changes;
}

/** The change of desired state `up` makes to a stored container, if any. */
function desiredChanges(row: ContainerRow): FieldChange[] {
  return row.desired === "running" ? [] : [{ field: "desired", from: row.desired, to: "running" }];
}

/** The step of one desired container against its stored row (if any). */
function compare(parsed: ParsedSpec, row: ContainerRow | undefined, placed?: Placed): Step {
  const extra = placed === undefined ? {} : { placed };
  if (row === undefined) return { action: "create", ...parsed, ...extra };
  if (row.spec_hash !== parsed.hash || row.host !== parsed.normalized.host) {
    const changes = [...specChanges(row, parsed), ...desiredChanges(row)];
    return { action: "recreate", ...parsed, row, changes, ...extra };
  }
  const changes = desiredChanges(row);
  if (placed !== undefined && row.placement !== JSON.stringify(placed.placement)) {
    const from = row.placement === "" ? undefined : JSON.parse(row.placement);
    changes.push({ field: "placement", from, to: placed.placement });
  }
  if (changes.length > 0) return { action: "update", ...parsed, row, changes, ...extra };
  return { action: "unchanged", ...parsed, row, changes: [], ...extra };
}

/** The replica number of an instance name (`web.3` is 3 of `web`), or 0 when it is not one. */
export function replicaNumber(name: string, template: string): number {
  const prefix = `${template}.`;
  return name.startsWith(prefix) ? Number(name.slice(prefix.length)) || 0 : 0;
}

/**
 * The steps of one placed spec: its live instances up to `replicas` compared with it (lowest
 * numbers kept), the highest numbered beyond that removed, and missing ones created under the
 * lowest numbers no stored row of the manifest holds.
 */
function placedSteps(
  container: ManifestContainer,
  stored: ContainerRow[],
  taken: Set<string>,
): Step[] {
  const template = container.spec.name;
  const placed: Placed = { template, placement: container.placement ?? DEFAULT_PLACEMENT };
  const live = stored
    .filter((row) => row.template === template && row.desired !== "removed")
    .sort((a, b) => replicaNumber(a.name, template) - replicaNumber(b.name, template));
  const replicas = container.replicas ?? 1;
  const steps: Step[] = live.slice(0, replicas).map((row) =>
    compare(instanceSpec(container, row.name, row.host), row, placed)
  );
  for (const row of live.slice(replicas)) steps.push({ action: "remove", row });
  for (let n = 1, missing = replicas - live.length; missing > 0; n++) {
    const name = instanceName(template, n);
    if (taken.has(name)) continue;
    taken.add(name);
    steps.push(compare(instanceSpec(container, name, ""), undefined, placed));
    missing--;
  }
  return steps;
}

/** The placement of a placed spec that sets none: any host, spread. */
const DEFAULT_PLACEMENT: Placement = { labels: {}, hosts: [], strategy: "spread" };

/**
 * Compares a manifest with its stored containers: a pinned spec by name (a new name is created,
 * a changed spec or host recreated, an unchanged one not desired `running` updated), a placed
 * spec by its instances (see placedSteps), and a stored container the manifest no longer has
 * removed (once: containers already desired `removed` are left out).
 */
export function planSteps(manifest: Manifest, stored: ContainerRow[]): Step[] {
  const pinned = new Map(
    stored.filter((row) => row.template === "").map((row) => [row.name, row]),
  );
  const taken = new Set(stored.map((row) => row.name));
  const templates = new Set<string>();
  const steps: Step[] = [];
  for (const container of manifest.containers) {
    if (container.placement !== undefined) {
      templates.add(container.spec.name);
      steps.push(...placedSteps(container, stored, taken));
      continue;
    }
    const row = pinned.get(container.spec.name);
    pinned.delete(container.spec.name);
    steps.push(compare(container, row));
  }
  for (const row of pinned.values()) {
    if (row.desired !== "removed") steps.push({ action: "remove", row });
  }
  for (const row of stored) {
    if (row.template !== "" && !templates.has(row.template) && row.desired !== "removed") {
      steps.push({ action: "remove", row });
    }
  }
  return steps;
}

/** One step as the API shows it. */
export function stepPlan(step: Step): ContainerPlan {
  if (step.action === "remove") {
    return { name: step.row.name, host: step.row.host, action: "remove", changes: [] };
  }
  const changes = step.action === "create" ? [] : step.changes;
  const plan: ContainerPlan = {
    name: step.spec.name,
    host: step.normalized.host,
    action: step.action,
    changes,
  };
  if (step.pending !== undefined) plan.pending = step.pending;
  return plan;
}

/** The steps of one manifest as the API shows them. */
export function manifestPlan(name: string, steps: Step[]): ManifestPlan {
  return {
    manifest: name,
    changed: steps.some((step) => step.action !== "unchanged"),
    containers: steps.map(stepPlan),
  };
}
