/**
 * The manifest and spec schemas: the one definition of what a manifest may hold, shared by the
 * CLI, the API and the agent. Types are inferred from these schemas, never written by hand.
 */
import * as v from "valibot";
import { parsePort } from "./ports.ts";
import { parseOptions } from "./options.ts";
import { splitCommand } from "./command.ts";

/** Names of manifests and containers: `[a-z0-9][a-z0-9-]{0,62}`. */
export const NameSchema = v.pipe(
  v.string(),
  v.regex(/^[a-z0-9][a-z0-9-]{0,62}$/, "must match [a-z0-9][a-z0-9-]{0,62}"),
);

/** Host names as agents announce them (OS host names may hold dots and capitals). */
export const HostSchema = v.pipe(
  v.string(),
  v.regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,252}$/, "must be a host name ([A-Za-z0-9._-], up to 253)"),
);

/** Runs a parser for its error only, turning a thrown message into a schema issue. */
function parsedBy<T>(parse: (input: T) => unknown) {
  return v.rawCheck<T>(({ dataset, addIssue }) => {
    if (!dataset.typed) return;
    try {
      parse(dataset.value);
    } catch (error) {
      addIssue({ message: error instanceof Error ? error.message : String(error) });
    }
  });
}

/** A command: a string split like a shell, or a list of words. */
const CommandSchema = v.pipe(
  v.union([v.string(), v.array(v.string())], "must be a string or a list of strings"),
  parsedBy(splitCommand),
);

const PortSchema = v.pipe(v.string('must be a string such as "8080:80"'), parsedBy(parsePort));

const EnvironmentSchema = v.record(
  v.pipe(v.string(), v.regex(/^[^=\s]+$/, "must be a variable name without '=' or spaces")),
  v.union([v.string(), v.number(), v.boolean()], "must be a string, number or boolean"),
);

/** One container's configuration as written in a manifest. */
export const SpecSchema = v.strictObject({
  name: NameSchema,
  host: HostSchema,
  image: v.pipe(v.string(), v.nonEmpty("must not be empty")),
  entrypoint: v.optional(CommandSchema),
  cmd: v.optional(CommandSchema),
  ports: v.optional(v.array(PortSchema)),
  environment: v.optional(EnvironmentSchema),
  options: v.optional(v.pipe(v.array(v.string()), parsedBy(parseOptions))),
});

/** A named list of container specs. */
export const ManifestSchema = v.strictObject({
  name: NameSchema,
  containers: v.array(SpecSchema),
});

/** One container's configuration as written in a manifest. */
export type Spec = v.InferOutput<typeof SpecSchema>;
/** A validated manifest. */
export type Manifest = v.InferOutput<typeof ManifestSchema>;
