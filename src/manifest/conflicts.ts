/**
 * Settings a spec gives twice, once as a field and once as an option (`restart` and
 * `--restart=always`): an error at the door, never a silent winner.
 */
import { optionUses } from "./options.ts";

/** One setting given both as a field and as an option. */
export interface Conflict {
  /** The field's path inside the spec, such as `["labels", "tier"]`. */
  field: string[];
  /** How a message names the field: `restart`, `label "tier"`, `resources.memory`. */
  subject: string;
  /** The options element that holds the flag. */
  optionIndex: number;
  /** The option as written, its value included: `--restart=always`, `-v /a:/a`. */
  option: string;
}

/** Fields and the flag that sets the same thing. */
const SAME_AS: { field: string[]; flag: string }[] = [
  { field: ["restart"], flag: "--restart" },
  { field: ["volumes"], flag: "--volume" },
  { field: ["resources", "memory"], flag: "--memory" },
  { field: ["resources", "cpus"], flag: "--cpus" },
];

/**
 * Finds the settings a spec gives both as a field and as an option. Takes the spec before
 * validation: values of the wrong type are the schema's to report, and are skipped here.
 */
export function specConflicts(spec: Record<string, unknown>): Conflict[] {
  const { options } = spec;
  if (!Array.isArray(options) || !options.every((o) => typeof o === "string")) return [];
  let uses;
  try {
    uses = optionUses(options);
  } catch {
    return [];
  }
  const shown = (index: number, value: string) =>
    options[index].endsWith(value) ? options[index] : `${options[index]} ${value}`;
  const conflicts: Conflict[] = [];
  for (const { field, flag } of SAME_AS) {
    if (valueAt(spec, field) === undefined) continue;
    const use = uses.find((u) => u.name === flag);
    if (!use) continue;
    conflicts.push({
      field,
      subject: field.join("."),
      optionIndex: use.index,
      option: shown(use.index, use.value),
    });
  }
  const { labels } = spec;
  if (labels !== null && typeof labels === "object" && !Array.isArray(labels)) {
    for (const key of Object.keys(labels)) {
      const use = uses.find((u) => u.name === "--label" && labelKey(u.value) === key);
      if (!use) continue;
      conflicts.push({
        field: ["labels", key],
        subject: `label ${JSON.stringify(key)}`,
        optionIndex: use.index,
        option: shown(use.index, use.value),
      });
    }
  }
  return conflicts;
}

function valueAt(value: unknown, path: string[]): unknown {
  for (const key of path) {
    if (value === null || typeof value !== "object" || Array.isArray(value)) return undefined;
    value = (value as Record<string, unknown>)[key];
  }
  return value ?? undefined;
}

function labelKey(value: string): string {
  const equals = value.indexOf("=");
  return equals < 0 ? value : value.slice(0, equals);
}
