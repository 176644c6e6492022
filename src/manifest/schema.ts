/**
 * The manifest and spec schemas: the one definition of what a manifest may hold, shared by the
 * CLI, the API and the agent. Types are inferred from these schemas, never written by hand.
 */
import * as v from "valibot";
import { parsePort } from "./ports.ts";
import { parseCpus, parseOptions, parseRestartPolicy, parseSize, parseVolume } from "./options.ts";
import { splitCommand } from "./command.ts";
import { parseNanoseconds, parseStopTimeout } from "./durations.ts";
import { healthTest } from "./healthcheck.ts";
import { describe } from "./describe.ts";

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

/**
 * Runs a parser for its error only, turning a thrown message into a schema issue. `subject`
 * starts messages that are only a predicate ("has malformed value ...").
 */
function parsedBy<T>(parse: (input: T) => unknown, subject?: string) {
  return v.rawCheck<T>(({ dataset, addIssue }) => {
    if (!dataset.typed) return;
    try {
      parse(dataset.value);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      addIssue({ message: subject === undefined ? message : `${subject} ${message}` });
    }
  });
}

/** A command: a string split like a shell, or a list of words. */
const CommandSchema = v.pipe(
  v.union([v.string(), v.array(v.string())], "must be a string or a list of strings"),
  parsedBy(splitCommand),
);

const PortSchema = v.pipe(v.string('must be a string such as "8080:80"'), parsedBy(parsePort));

/** A mapping: valibot's record alone takes a list for a mapping with keys "0", "1"... */
function mapping<T extends v.GenericSchema<Record<string, unknown>>>(record: T) {
  return v.pipe(
    v.custom<unknown>((input) => !Array.isArray(input), "must be a mapping, not a list"),
    record,
  );
}

const EnvironmentSchema = v.record(
  v.pipe(v.string(), v.regex(/^[^=\s]+$/, "must be a variable name without '=' or spaces")),
  v.union([v.string(), v.number(), v.boolean()], "must be a string, number or boolean"),
);

/** A message saying what a value must be and what it is instead. */
function mustBe(expected: string) {
  return (issue: v.BaseIssue<unknown>) => `must be ${expected}, not ${describe(issue.input)}`;
}

/** A duration with units, such as `10s`, `1m30s` or `500ms`. */
function durationSchema(subject: string) {
  return v.pipe(
    v.string(mustBe("a duration such as 10s or 500ms")),
    parsedBy(parseNanoseconds, subject),
  );
}

/** The engine's own health check, with its timings. */
const HealthcheckSchema = v.strictObject({
  test: v.pipe(
    v.union([v.string(), v.array(v.string())], "must be a string or a list of strings"),
    parsedBy(healthTest, "test"),
  ),
  interval: v.optional(durationSchema("interval")),
  timeout: v.optional(durationSchema("timeout")),
  retries: v.optional(
    v.pipe(
      v.number(mustBe("a whole number of 0 or more")),
      v.integer(mustBe("a whole number of 0 or more")),
      v.minValue(0, mustBe("a whole number of 0 or more")),
      v.maxValue(2 ** 31 - 1, mustBe("at most 2147483647")),
    ),
  ),
  start_period: v.optional(durationSchema("start_period")),
});

const LabelsSchema = v.record(
  v.pipe(
    v.string(),
    v.regex(/^[^\s=]+$/, "must be a label key without '=' or spaces"),
    // Launcher's own labels identify the containers it manages; a spec must not forge them.
    v.check(
      (key) => !key.startsWith("launcher."),
      'is reserved: keys starting with "launcher." are launcher\'s',
    ),
  ),
  v.union([v.string(), v.number(), v.boolean()], "must be a string, number or boolean"),
);

const ResourcesSchema = v.strictObject({
  memory: v.optional(
    v.pipe(
      v.union([v.string(), v.number()], mustBe("a size such as 256m or 1g")),
      parsedBy((memory) => parseSize(String(memory)), "memory"),
    ),
  ),
  cpus: v.optional(
    v.pipe(
      v.union([v.number(), v.string()], mustBe("a number of CPUs such as 0.5 or 2")),
      parsedBy((cpus) => parseCpus(String(cpus)), "cpus"),
    ),
  ),
});

/** When an agent pulls a spec's image: only when absent (default), before every create, never. */
export const PULL_POLICIES = ["missing", "always", "never"] as const;

/** One container's configuration as written in a manifest. */
export const SpecSchema = v.strictObject({
  name: NameSchema,
  host: HostSchema,
  image: v.pipe(v.string(), v.nonEmpty("must not be empty")),
  entrypoint: v.optional(CommandSchema),
  cmd: v.optional(CommandSchema),
  ports: v.optional(v.array(PortSchema)),
  environment: v.optional(mapping(EnvironmentSchema)),
  options: v.optional(v.pipe(v.array(v.string()), parsedBy(parseOptions))),
  healthcheck: v.optional(HealthcheckSchema),
  restart: v.optional(
    v.pipe(
      v.string(mustBe("no, always, unless-stopped or on-failure[:N]")),
      parsedBy(parseRestartPolicy, "restart"),
    ),
  ),
  volumes: v.optional(
    v.array(
      v.pipe(
        v.string(mustBe('a string such as "/srv/data:/data:ro"')),
        parsedBy(parseVolume, "volume"),
      ),
    ),
  ),
  labels: v.optional(mapping(LabelsSchema)),
  resources: v.optional(ResourcesSchema),
  pull: v.optional(v.picklist(PULL_POLICIES, mustBe("missing, always or never"))),
  stop_timeout: v.optional(
    v.pipe(
      v.union(
        [v.number(), v.string()],
        mustBe("a number of seconds or a duration such as 30s"),
      ),
      parsedBy(parseStopTimeout, "stop_timeout"),
    ),
  ),
});

/** A named list of container specs. */
export const ManifestSchema = v.strictObject({
  name: NameSchema,
  containers: v.array(SpecSchema),
});

/** One container's configuration as written in a manifest. */
export type Spec = v.InferOutput<typeof SpecSchema>;
/** A spec's health check as written. */
export type Healthcheck = v.InferOutput<typeof HealthcheckSchema>;
/** A spec's pull policy. */
export type PullPolicy = typeof PULL_POLICIES[number];
/** A validated manifest. */
export type Manifest = v.InferOutput<typeof ManifestSchema>;
