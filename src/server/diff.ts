/**
 * The one comparison of a manifest with what is stored for it: `manifest up` applies its steps
 * and `manifest diff` shows them, so the two can never disagree.
 */
import { isDeepStrictEqual } from "node:util";
import type { ContainerPlan, FieldChange, Manifest, ManifestPlan, Spec } from "../api/schemas.ts";
import { type Json, normalizeSpec, specHash } from "../manifest/hash.ts";
import type { ContainerRow } from "./store/store.ts";

/** What `up` does to one container, with what it needs to do it. */
export type Step =
  | { action: "create"; spec: Spec; hash: string }
  | {
    action: "recreate" | "update" | "unchanged";
    spec: Spec;
    hash: string;
    row: ContainerRow;
    changes: FieldChange[];
  }
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

/** A copy of `spec` with the field at `path` set to `value` (or removed when undefined). */
function withField(spec: Json, path: string[], value: Json | undefined): Json {
  const [key, ...rest] = path;
  const copy = isMap(spec) ? { ...spec } : {};
  const next = rest.length === 0 ? value : withField(copy[key] ?? {}, rest, value);
  if (next === undefined) delete copy[key];
  else copy[key] = next;
  return copy;
}

/**
 * The fields that differ between a stored container and a new spec, with the values as written.
 * A difference of spelling only (`cmd` as a string or a list, ports in another order) is left
 * out when it does not change the normalized form the hash is taken over.
 */
function specChanges(row: ContainerRow, spec: Spec, hash: string): FieldChange[] {
  const stored = JSON.parse(row.spec) as Json;
  const all: RawChange[] = [];
  rawChanges([], stored, spec as unknown as Json, all);
  let normal: Json | undefined;
  try {
    normal = normalizeSpec(stored as unknown as Spec);
  } catch {
    // A spec stored by an older version may use a spelling this one rejects: show every field.
  }
  const meaningful = all.filter((change) => {
    if (normal === undefined) return true;
    try {
      const changed = withField(stored, change.path, change.to) as unknown as Spec;
      return !isDeepStrictEqual(normalizeSpec(changed), normal);
    } catch {
      return true;
    }
  });
  const shown = meaningful.length > 0 ? meaningful : all;
  const changes = shown.map(({ path, ...values }) => ({ field: fieldName(path), ...values }));
  // The hash may also move with no field changed (a spec hashed by an older version).
  if (changes.length === 0) changes.push({ field: "specHash", from: row.spec_hash, to: hash });
  return changes;
}

/** The change of desired state `up` makes to a stored container, if any. */
function desiredChanges(row: ContainerRow): FieldChange[] {
  return row.desired === "running" ? [] : [{ field: "desired", from: row.desired, to: "running" }];
}

/**
 * Compares a manifest with its stored containers (by name): a new name is created, a changed
 * spec or host recreated, an unchanged one not desired `running` updated, a stored name the
 * manifest dropped removed (once: containers already desired `removed` are left out).
 */
export function planSteps(manifest: Manifest, stored: ContainerRow[]): Step[] {
  const byName = new Map(stored.map((row) => [row.name, row]));
  const steps: Step[] = [];
  for (const spec of manifest.containers) {
    const hash = specHash(spec);
    const row = byName.get(spec.name);
    byName.delete(spec.name);
    if (row === undefined) {
      steps.push({ action: "create", spec, hash });
    } else if (row.spec_hash !== hash || row.host !== spec.host) {
      const changes = [...specChanges(row, spec, hash), ...desiredChanges(row)];
      steps.push({ action: "recreate", spec, hash, row, changes });
    } else if (row.desired !== "running") {
      steps.push({ action: "update", spec, hash, row, changes: desiredChanges(row) });
    } else {
      steps.push({ action: "unchanged", spec, hash, row, changes: [] });
    }
  }
  for (const row of byName.values()) {
    if (row.desired !== "removed") steps.push({ action: "remove", row });
  }
  return steps;
}

/** One step as the API shows it. */
export function stepPlan(step: Step): ContainerPlan {
  if (step.action === "remove") {
    return { name: step.row.name, host: step.row.host, action: "remove", changes: [] };
  }
  const changes = step.action === "create" ? [] : step.changes;
  return { name: step.spec.name, host: step.spec.host, action: step.action, changes };
}

/** The steps of one manifest as the API shows them. */
export function manifestPlan(name: string, steps: Step[]): ManifestPlan {
  return {
    manifest: name,
    changed: steps.some((step) => step.action !== "unchanged"),
    containers: steps.map(stepPlan),
  };
}
