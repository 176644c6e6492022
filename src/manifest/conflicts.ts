/**
 * Settings a spec gives twice, once as a field and once as an option (`restart` and
 * `--restart=always`): an error at the door, never a silent winner.
 */
import { quote } from "./describe.ts";
import type { ParsedOptions } from "./options.ts";
import { Parsed } from "./parsed.ts";

/** One setting given both as a field and as an option. */
export class Conflict {
  constructor(
    /** The field's path inside the spec, such as `["labels", "tier"]`. */
    readonly field: string[],
    /** How a message names the field: `restart`, `label "tier"`, `resources.memory`. */
    readonly subject: string,
    /** The options element that holds the flag. */
    readonly optionIndex: number,
    /** The option as written, its value included: `--restart=always`, `-v /a:/a`. */
    readonly option: string,
  ) {}

  /** The message, given where the option is (`containers[0].options[1], line 7`). */
  message(where: string): string {
    const plural = this.subject === "volumes";
    return `${this.subject} ${plural ? "are" : "is"} also set by option ${
      quote(this.option)
    } (${where}): set ${plural ? "them" : "it"} in one place`;
  }
}

/** Fields and the flag that sets the same thing. */
const SAME_AS: { field: string[]; flag: string }[] = [
  { field: ["restart"], flag: "--restart" },
  { field: ["volumes"], flag: "--volume" },
  { field: ["resources", "memory"], flag: "--memory" },
  { field: ["resources", "cpus"], flag: "--cpus" },
];

/**
 * Finds the settings a spec gives both as a field and as an option. Takes the spec as the schema
 * left it, valid or not: options that did not parse are the schema's to report, and are skipped.
 */
export function specConflicts(spec: unknown): Conflict[] {
  if (spec === null || typeof spec !== "object" || Array.isArray(spec)) return [];
  const { options, labels } = spec as Record<string, unknown>;
  if (!(options instanceof Parsed)) return [];
  const written = options.written as string[];
  const { uses } = options.value as ParsedOptions;
  const shown = (index: number, value: string) =>
    written[index].endsWith(value) ? written[index] : `${written[index]} ${value}`;
  const conflicts: Conflict[] = [];
  for (const { field, flag } of SAME_AS) {
    if (valueAt(spec, field) === undefined) continue;
    const use = uses.find((u) => u.name === flag);
    if (!use) continue;
    conflicts.push(new Conflict(field, field.join("."), use.index, shown(use.index, use.value)));
  }
  if (labels !== null && typeof labels === "object" && !Array.isArray(labels)) {
    for (const key of Object.keys(labels)) {
      const use = uses.find((u) => u.name === "--label" && labelKey(u.value) === key);
      if (!use) continue;
      conflicts.push(
        new Conflict(
          ["labels", key],
          `label ${quote(key)}`,
          use.index,
          shown(use.index, use.value),
        ),
      );
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
