/**
 * The one comparison of a manifest with what is stored for it: `manifest up` applies its steps
 * and `manifest diff` shows them, so the two can never disagree.
 */
import { isDeepStrictEqual } from "node:util";
import type {
  ContainerPlan,
  FieldChange,
  Manifest,
  ManifestPlan,
  NormalizedSpec,
  ParsedSpec,
} from "../api/schemas.ts";
import { canonicalForm, type Json } from "../manifest/hash.ts";
import { ManifestError } from "../manifest/manifest_error.ts";
import type { ContainerRow } from "./store/store.ts";

/** What `up` does to one container, with what it needs to do it. */
export type Step =
  | ({ action: "create" } & ParsedSpec)
  | ({
    action: "recreate" | "update" | "unchanged";
    row: ContainerRow;
    changes: FieldChange[];
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

/**
 * Compares a manifest with its stored containers (by name): a new name is created, a changed
 * spec or host recreated, an unchanged one not desired `running` updated, a stored name the
 * manifest dropped removed (once: containers already desired `removed` are left out).
 */
export function planSteps(manifest: Manifest, stored: ContainerRow[]): Step[] {
  const byName = new Map(stored.map((row) => [row.name, row]));
  const steps: Step[] = [];
  for (const [index, parsed] of manifest.containers.entries()) {
    const { spec, normalized, hash } = parsed;
    // A placed spec's host is "" until a scheduler chooses one: until there is one, refuse it.
    if (parsed.placement !== undefined) {
      throw new ManifestError([{
        path: `containers[${index}].host`,
        message: `container ${spec.name} names no host, and this server does not place ` +
          `containers yet: give it a host`,
      }]);
    }
    const row = byName.get(spec.name);
    byName.delete(spec.name);
    if (row === undefined) {
      steps.push({ action: "create", ...parsed });
    } else if (row.spec_hash !== hash || row.host !== normalized.host) {
      const changes = [...specChanges(row, parsed), ...desiredChanges(row)];
      steps.push({ action: "recreate", ...parsed, row, changes });
    } else if (row.desired !== "running") {
      steps.push({ action: "update", ...parsed, row, changes: desiredChanges(row) });
    } else {
      steps.push({ action: "unchanged", ...parsed, row, changes: [] });
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
  return { name: step.spec.name, host: step.normalized.host, action: step.action, changes };
}

/** The steps of one manifest as the API shows them. */
export function manifestPlan(name: string, steps: Step[]): ManifestPlan {
  return {
    manifest: name,
    changed: steps.some((step) => step.action !== "unchanged"),
    containers: steps.map(stepPlan),
  };
}
