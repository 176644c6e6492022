/**
 * The manifest and spec schemas: the one definition of what a manifest may hold. Validating a spec
 * also parses it, once: every value that has a syntax (ports, options, commands, durations, sizes)
 * is parsed by the schema itself, and a valid spec comes out as written, normalized and hashed.
 */
import * as v from "valibot";
import { DURATION_EXAMPLES } from "../duration.ts";
import { LauncherError } from "../errors.ts";
import { normalizedHash } from "./canonical.ts";
import { splitCommand } from "./command.ts";
import { specConflicts } from "./conflicts.ts";
import { describe, quote } from "./describe.ts";
import {
  healthNanoseconds,
  positiveMilliseconds,
  stopTimeoutSeconds,
  wholeMilliseconds,
} from "./durations.ts";
import { healthTest } from "./healthcheck.ts";
import { checkImageReference } from "./image.ts";
import type { EnvValue, NormalizedHealthcheck, NormalizedSpec, SecretRef } from "./normalized.ts";
import { OptionError, readOptions } from "./options.ts";
import { parseCpus, parseRestartPolicy, parseSize, parseVolume } from "./option_values.ts";
import { Parsed, writtenForm } from "./parsed.ts";
import { formatPort, parsePort, type PortBinding } from "./ports.ts";

/** Names of manifests and containers: `[a-z0-9][a-z0-9-]{0,62}`. */
export const NameSchema = v.pipe(
  v.string(),
  v.regex(/^[a-z0-9][a-z0-9-]{0,62}$/, "must match [a-z0-9][a-z0-9-]{0,62}"),
);

/**
 * Names of container instances as the server stores them: a container's name, and for a replica
 * of a placed spec its number after a dot (`web.1`). The dot is outside the name charset, so an
 * instance name never equals another container's name.
 */
export const InstanceNameSchema = v.pipe(
  v.string(),
  v.regex(
    /^[a-z0-9][a-z0-9-]{0,62}(\.[1-9][0-9]{0,5})?$/,
    "must be a container name, [a-z0-9][a-z0-9-]{0,62}, optionally followed by .N (N from 1)",
  ),
);

/** The name of a placed spec's `n`th instance (from 1): `web.1`. */
export function instanceName(spec: string, n: number): string {
  return `${spec}.${n}`;
}

/** Host names as agents announce them (OS host names may hold dots and capitals). */
export const HostSchema = v.pipe(
  v.string(),
  v.regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,252}$/, "must be a host name ([A-Za-z0-9._-], up to 253)"),
);

/** The message of a parser's error, completed with what holds the value when it is a predicate. */
function messageOf(error: unknown, subject: string | undefined): string {
  // Only launcher's own errors describe a value; anything else is a bug and must not pass as one.
  if (!(error instanceof LauncherError)) throw error;
  return subject === undefined ? error.message : `${subject} ${error.message}`;
}

/** Parses a value once, keeping what was written beside what it parses to. */
function parsed<W, P>(parse: (input: W) => P, subject?: string) {
  return v.rawTransform<W, Parsed<W, P>>(({ dataset, addIssue, NEVER }) => {
    try {
      return new Parsed(dataset.value, parse(dataset.value));
    } catch (error) {
      addIssue({ message: messageOf(error, subject) });
      return NEVER;
    }
  });
}

/** Checks a value that stays as written, such as a volume or an image reference. */
function checked<T>(check: (input: T) => unknown, subject: string) {
  return v.rawCheck<T>(({ dataset, addIssue }) => {
    if (!dataset.typed || dataset.issues) return;
    try {
      check(dataset.value);
    } catch (error) {
      addIssue({ message: messageOf(error, subject) });
    }
  });
}

/** A message saying what a value must be and what it is instead. */
function mustBe(expected: string) {
  return (issue: v.BaseIssue<unknown>) => `must be ${expected}, not ${describe(issue.input)}`;
}

/** A whole number from `min`, up to `max` (named by `tooLarge`, when `expected` does not). */
function wholeNumber(min: number, max: number, expected: string, tooLarge = expected) {
  return v.pipe(
    v.number(mustBe(expected)),
    v.integer(mustBe(expected)),
    v.minValue(min, mustBe(expected)),
    v.maxValue(max, mustBe(tooLarge)),
  );
}

/** A mapping: valibot's objects and records alone take a list for a mapping with keys "0"... */
function mapping<T extends v.GenericSchema>(schema: T) {
  return v.pipe(
    v.custom<v.InferInput<T>>((input) => !Array.isArray(input), "must be a mapping, not a list"),
    schema,
  );
}

/** A command: a string split like a shell, or a list of words. */
const CommandSchema = v.pipe(
  v.union([v.string(), v.array(v.string())], "must be a string or a list of strings"),
  parsed(splitCommand),
);

const PortSchema = v.pipe(v.string('must be a string such as "8080:80"'), parsed(parsePort));

/** A secret's name: the charset of other names. */
export const SecretNameSchema = v.pipe(
  v.string(mustBe("a secret name such as db-password")),
  v.regex(/^[a-z0-9][a-z0-9-]{0,62}$/, "must be a secret name: [a-z0-9][a-z0-9-]{0,62}"),
);

/** A reference to a secret kept by the server: `{ secret: db-password }`, and no other key. */
const SecretRefSchema = v.pipe(
  v.custom<Record<string, unknown>>(isMap),
  v.rawCheck<Record<string, unknown>>(({ dataset, addIssue }) => {
    if (!dataset.typed) return;
    for (const key of Object.keys(dataset.value)) {
      if (key === "secret") continue;
      addIssue({
        message: `unknown key ${quote(key)} (a secret reference has only the key "secret")`,
        path: [keyOf(dataset.value, key)],
      });
    }
  }),
  v.object({ secret: SecretNameSchema }, "is required: write { secret: NAME }"),
);

const ENV_VALUE_MESSAGE = "must be a string, number, boolean or { secret: NAME }";

/**
 * A variable's value: a plain value, or a mapping naming a secret. A mapping is judged as a
 * secret reference alone, so that its messages say what is wrong inside it.
 */
const EnvValueSchema = v.lazy((input) =>
  isMap(input) ? SecretRefSchema : v.union([v.string(), v.number(), v.boolean()], ENV_VALUE_MESSAGE)
);

const EnvironmentSchema = mapping(v.record(
  v.pipe(v.string(), v.regex(/^[^=\s]+$/, "must be a variable name without '=' or spaces")),
  EnvValueSchema,
));

/** Options, read once; an error points at the list element at fault. */
const OptionsSchema = v.pipe(
  v.array(v.string()),
  v.rawTransform(({ dataset, addIssue, NEVER }) => {
    const list = dataset.value;
    try {
      return new Parsed(list, readOptions(list));
    } catch (error) {
      if (!(error instanceof OptionError)) throw error;
      const at = { type: "array", origin: "value", input: list, key: error.index } as const;
      addIssue({ message: error.message, path: [{ ...at, value: list[error.index] }] });
      return NEVER;
    }
  }),
);

/** A duration, or a number of seconds, in the unit `toUnit` gives (health checks' by default). */
function durationSchema(subject: string, toUnit = healthNanoseconds) {
  return v.pipe(
    v.union([v.string(), v.number()], mustBe(`a duration such as ${DURATION_EXAMPLES}`)),
    parsed(toUnit, subject),
  );
}

/** The engine's own health check, with its timings. */
const HealthcheckSchema = mapping(v.strictObject({
  test: v.pipe(
    v.union([v.string(), v.array(v.string())], "must be a string or a list of strings"),
    parsed(healthTest, "test"),
  ),
  interval: v.optional(durationSchema("interval")),
  timeout: v.optional(durationSchema("timeout")),
  retries: v.optional(
    wholeNumber(0, 2 ** 31 - 1, "a whole number of 0 or more", "at most 2147483647"),
  ),
  start_period: v.optional(durationSchema("start_period")),
}));

const LabelsSchema = mapping(v.record(
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
));

const ResourcesSchema = mapping(v.strictObject({
  memory: v.optional(
    v.pipe(
      v.union([v.string(), v.number()], mustBe("a size such as 256m or 1g")),
      parsed((memory: string | number) => parseSize(String(memory)), "memory"),
    ),
  ),
  cpus: v.optional(
    v.pipe(
      v.union([v.number(), v.string()], mustBe("a number of CPUs such as 0.5 or 2")),
      parsed((cpus: string | number) => parseCpus(String(cpus)), "cpus"),
    ),
  ),
}));

/** When an agent pulls a spec's image: only when absent (default), before every create, never. */
export const PULL_POLICIES = ["missing", "always", "never"] as const;

/** An image reference as Docker's grammar has it. */
const ImageSchema = v.pipe(
  v.string(),
  v.nonEmpty("must not be empty"),
  checked(checkImageReference, "image"),
);

/** The fields of a spec, each parsed where it has a syntax. */
const SPEC_ENTRIES = {
  name: NameSchema,
  // Without a host the spec is placed: the server chooses a host for each of its replicas.
  host: v.optional(HostSchema),
  image: ImageSchema,
  entrypoint: v.optional(CommandSchema),
  cmd: v.optional(CommandSchema),
  ports: v.optional(v.array(PortSchema)),
  environment: v.optional(EnvironmentSchema),
  options: v.optional(OptionsSchema),
  healthcheck: v.optional(HealthcheckSchema),
  restart: v.optional(
    v.pipe(
      v.string(mustBe("no, always, unless-stopped or on-failure[:N]")),
      parsed(parseRestartPolicy, "restart"),
    ),
  ),
  volumes: v.optional(
    v.array(
      v.pipe(
        v.string(mustBe('a string such as "/srv/data:/data:ro"')),
        checked(parseVolume, "volume"),
      ),
    ),
  ),
  labels: v.optional(LabelsSchema),
  resources: v.optional(ResourcesSchema),
  pull: v.optional(v.picklist(PULL_POLICIES, mustBe("missing, always or never"))),
  stop_timeout: v.optional(
    v.pipe(
      v.union(
        [v.number(), v.string()],
        mustBe("a number of seconds or a duration such as 30s"),
      ),
      parsed(stopTimeoutSeconds, "stop_timeout"),
    ),
  ),
};

const SpecFieldsSchema = v.strictObject(SPEC_ENTRIES);
type SpecFields = v.InferOutput<typeof SpecFieldsSchema>;

/** One container's configuration as written in a manifest; without `host` when it is placed. */
export type Spec = v.InferInput<typeof SpecFieldsSchema>;
/** A spec's health check as written. */
export type Healthcheck = NonNullable<Spec["healthcheck"]>;
/** A spec's pull policy. */
export type PullPolicy = typeof PULL_POLICIES[number];

/** A valid spec: as written, normalized, and the hash of its normalized form. */
export interface ParsedSpec {
  spec: Spec;
  normalized: NormalizedSpec;
  hash: string;
}

/** How the server chooses among the hosts a placed spec may use. */
export const PLACEMENT_STRATEGIES = ["spread", "binpack"] as const;

/** Where the server may place a placed spec's replicas. */
export interface Placement {
  labels: Record<string, string>;
  hosts: string[];
  strategy: typeof PLACEMENT_STRATEGIES[number];
}

/** One container entry of a validated manifest. */
export interface ManifestContainer {
  /** As written, without `replicas` and `placement` (what agents see); no `host` when placed. */
  spec: Spec;
  /** For a placed spec, `host` is "": the server fills in the host it chooses. */
  normalized: NormalizedSpec;
  /** `normalizedHash(normalized)`: for a placed spec, the template's hash, with host "". */
  hash: string;
  /** Present only on a placed spec: how many instances (default 1). */
  replicas?: number;
  /** Present only on a placed spec (defaults filled: labels {}, hosts [], strategy "spread"). */
  placement?: Placement;
}

/** The orders of a replacement: the old copy stops before the new one starts, or after. */
export const UPDATE_ORDERS = ["stop-first", "start-first"] as const;
/** What a rollout does when a batch fails: put the old specs back, or stop where it is. */
export const FAILURE_ACTIONS = ["rollback", "pause"] as const;

/** How changed containers are replaced. Durations in milliseconds. */
export interface UpdatePolicy {
  parallel: number;
  order: typeof UPDATE_ORDERS[number];
  minHealthyMs: number;
  deadlineMs: number;
  onFailure: typeof FAILURE_ACTIONS[number];
}

/** A validated manifest: its name, its containers, and how the server replaces and moves them. */
export type Manifest = {
  name: string;
  containers: ManifestContainer[];
  update?: UpdatePolicy;
  rescheduleAfterMs?: number;
};

/** Variables' values as strings, as the engine takes them; a secret stays a reference. */
function environmentMap(
  map: Record<string, string | number | boolean | SecretRef> | undefined,
): Record<string, EnvValue> {
  return Object.fromEntries(
    Object.entries(map ?? {}).map((
      [key, value],
    ) => [key, typeof value === "object" ? { secret: value.secret } : String(value)]),
  );
}

/** Values as strings, as the engine takes variables and labels. */
function stringMap(map: Record<string, string | number | boolean> | undefined) {
  return Object.fromEntries(Object.entries(map ?? {}).map(([key, value]) => [key, String(value)]));
}

/** Ports in the order of their canonical text, as the hash has them: a set, for the engine. */
function canonicalOrder(ports: PortBinding[]): PortBinding[] {
  const keyed = ports.map((port) => [formatPort(port), port] as const);
  return keyed.sort(([a], [b]) => a < b ? -1 : a > b ? 1 : 0).map(([, port]) => port);
}

/** Builds the normalized form from what the field schemas parsed; nothing is parsed again. */
function assemble(fields: SpecFields): ParsedSpec {
  const normalized: NormalizedSpec = {
    name: fields.name,
    // A placed spec is a template until the server chooses its host.
    host: fields.host ?? "",
    image: fields.image,
    ports: canonicalOrder((fields.ports ?? []).map((port) => port.value)),
    environment: environmentMap(fields.environment),
    options: fields.options?.value.options ?? [],
    runOptions: fields.options?.value.run ?? {},
    volumes: fields.volumes ?? [],
    labels: stringMap(fields.labels),
    resources: {},
  };
  if (fields.entrypoint !== undefined) normalized.entrypoint = fields.entrypoint.value;
  if (fields.cmd !== undefined) normalized.cmd = fields.cmd.value;
  const check = fields.healthcheck;
  if (check !== undefined) {
    const health: NormalizedHealthcheck = { test: check.test.value };
    if (check.interval !== undefined) health.interval = check.interval.value;
    if (check.timeout !== undefined) health.timeout = check.timeout.value;
    if (check.retries !== undefined) health.retries = check.retries;
    if (check.start_period !== undefined) health.startPeriod = check.start_period.value;
    normalized.healthcheck = health;
  }
  if (fields.restart !== undefined) normalized.restart = fields.restart.value;
  const { memory, cpus } = fields.resources ?? {};
  if (memory !== undefined) normalized.resources.memory = memory.value;
  if (cpus !== undefined) normalized.resources.nanoCpus = cpus.value;
  // Pulling only a missing image is what a spec without `pull` does.
  if (fields.pull !== undefined && fields.pull !== "missing") normalized.pull = fields.pull;
  if (fields.stop_timeout !== undefined) normalized.stopTimeout = fields.stop_timeout.value;
  return { spec: writtenForm(fields) as Spec, normalized, hash: normalizedHash(normalized) };
}

/** A key of a mapping as an issue's path has it, so the detail points at that key's value. */
function keyOf(input: Record<string, unknown>, key: string) {
  return { type: "object", origin: "value", input, key, value: input[key] } as const;
}

/** Whether a value is a mapping: what a schema's partial output is when it is one. */
function isMap(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

/** A spec's mapping with these entries, each field checked against the options too. */
function specFields<E extends v.ObjectEntries>(entries: E) {
  return v.pipe(
    mapping(v.strictObject(entries)),
    // Runs on specs with other problems too, so that every problem is reported at once.
    v.rawCheck(({ dataset, addIssue }) => {
      for (const conflict of specConflicts(dataset.value)) {
        addIssue({
          message: conflict.message(`options[${conflict.optionIndex}]`),
          input: conflict,
        });
      }
    }),
  );
}

/** A spec schema, with the names and images it accepts replaced where `lenient` says. */
function specSchema(lenient: { name?: v.GenericSchema<string>; image?: v.GenericSchema<string> }) {
  return v.pipe(
    specFields({ ...SPEC_ENTRIES, ...lenient }),
    v.transform((fields) => assemble(fields as SpecFields)),
  );
}

/** One container's configuration: checked, parsed and normalized. */
export const SpecSchema = specSchema({});

/**
 * A spec stored by this or an earlier version: the same, except that an image reference is taken
 * as it was accepted then (the engine judges it, as it did), so an upgrade refuses nothing
 * stored, and that its name may be an instance's (`web.1`), as the server stores replicas.
 */
export const StoredSpecSchema = specSchema({
  name: InstanceNameSchema,
  image: v.pipe(v.string(), v.nonEmpty("must not be empty")),
});

/** Host names, each once. */
const PlacementHostsSchema = v.pipe(
  v.array(HostSchema, mustBe("a list of host names")),
  v.nonEmpty("must list at least one host: leave hosts out to allow every host"),
  v.rawCheck(({ dataset, addIssue }) => {
    if (!dataset.typed) return;
    const hosts = dataset.value;
    const first = new Map<string, number>();
    for (const [index, host] of hosts.entries()) {
      const at = first.get(host);
      if (at === undefined) {
        first.set(host, index);
        continue;
      }
      addIssue({
        message: `host ${quote(host)} is already listed as hosts[${at}]`,
        path: [{ type: "array", origin: "value", input: hosts, key: index, value: host }],
      });
    }
  }),
);

/** Where the server may place a placed spec's replicas, as written. */
const PlacementSchema = mapping(v.strictObject({
  // Matched against the labels agents announce (`--label zone=eu-1`), so they read the same.
  labels: v.optional(LabelsSchema),
  hosts: v.optional(PlacementHostsSchema),
  strategy: v.optional(v.picklist(PLACEMENT_STRATEGIES, mustBe("spread or binpack"))),
}));

/** The fields only a placed spec may have: the server honours them by choosing hosts. */
const PLACED_ENTRIES = {
  replicas: v.optional(wholeNumber(0, 100_000, "a whole number from 0 to 100000")),
  placement: v.optional(PlacementSchema),
};

const ContainerFieldsSchema = v.strictObject({ ...SPEC_ENTRIES, ...PLACED_ENTRIES });
type ContainerFields = v.InferOutput<typeof ContainerFieldsSchema>;

/** A spec and, when it is placed, how many instances and where: defaults filled. */
function container({ replicas, placement, ...fields }: ContainerFields): ManifestContainer {
  const entry: ManifestContainer = assemble(fields);
  if (fields.host !== undefined) return entry;
  entry.replicas = replicas ?? 1;
  entry.placement = {
    labels: stringMap(placement?.labels),
    hosts: placement?.hosts ?? [],
    strategy: placement?.strategy ?? "spread",
  };
  return entry;
}

/** One container entry of a manifest: a spec, pinned to its host or placed by the server. */
const ContainerSchema = v.pipe(
  specFields(ContainerFieldsSchema.entries),
  // A pinned spec runs where it says; the server could honour these only by moving it.
  v.rawCheck(({ dataset, addIssue }) => {
    const fields = dataset.value;
    if (!isMap(fields) || fields.host === undefined) return;
    for (const key of Object.keys(PLACED_ENTRIES)) {
      if (fields[key] === undefined) continue;
      addIssue({
        message: `${key} needs the server to place the container: remove host, or remove ${key}`,
        path: [keyOf(fields, key)],
      });
    }
  }),
  v.transform(container),
);

/** The defaults of `update:`, and of each key it leaves out. */
const UPDATE_DEFAULTS: UpdatePolicy = {
  parallel: 1,
  order: "stop-first",
  minHealthyMs: 10_000,
  deadlineMs: 300_000,
  onFailure: "pause",
};

/** `update:`: how a changed container is replaced. */
const UpdateSchema = v.pipe(
  mapping(v.strictObject({
    parallel: v.optional(wholeNumber(1, Number.MAX_SAFE_INTEGER, "a whole number of 1 or more")),
    order: v.optional(v.picklist(UPDATE_ORDERS, mustBe("stop-first or start-first"))),
    min_healthy: v.optional(durationSchema("min_healthy", wholeMilliseconds)),
    deadline: v.optional(durationSchema("deadline", positiveMilliseconds)),
    on_failure: v.optional(v.picklist(FAILURE_ACTIONS, mustBe("rollback or pause"))),
  })),
  v.transform((update): UpdatePolicy => ({
    parallel: update.parallel ?? UPDATE_DEFAULTS.parallel,
    order: update.order ?? UPDATE_DEFAULTS.order,
    minHealthyMs: update.min_healthy?.value ?? UPDATE_DEFAULTS.minHealthyMs,
    deadlineMs: update.deadline?.value ?? UPDATE_DEFAULTS.deadlineMs,
    onFailure: update.on_failure ?? UPDATE_DEFAULTS.onFailure,
  })),
);

/**
 * Why `order: start-first` cannot replace an entry, if it cannot: its new copy would bind a fixed
 * host port that the old copy holds, on the only host either may run on. Entries that did not
 * validate are skipped: only a validated entry carries its `hash`, a key no spec may have.
 */
function startFirstClash(entry: unknown): string | undefined {
  if (!isMap(entry) || typeof entry.hash !== "string") return undefined;
  const { normalized, placement } = entry as unknown as ManifestContainer;
  const hosts = placement === undefined ? [normalized.host] : placement.hosts;
  const port = normalized.ports.find((binding) => binding.hostPort !== undefined);
  if (hosts.length !== 1 || port === undefined) return undefined;
  const protocol = port.protocol === "tcp" ? "" : `/${port.protocol}`;
  return `start-first needs the new copy to run beside the old one, but port ${port.hostPort}` +
    `${protocol} on host ${hosts[0]} can be bound by only one: use stop-first, or let the ` +
    `server place ${normalized.name} on more than one host`;
}

/** A named list of containers, and how the server replaces and moves them. */
export const ManifestSchema = v.pipe(
  v.strictObject({
    name: NameSchema,
    containers: v.array(ContainerSchema),
    update: v.optional(UpdateSchema),
    reschedule_after: v.optional(durationSchema("reschedule_after", positiveMilliseconds)),
  }),
  // Runs on manifests with other problems too, over the entries that validated.
  v.rawCheck(({ dataset, addIssue }) => {
    const fields = dataset.value;
    if (!isMap(fields) || !isMap(fields.update) || fields.update.order !== "start-first") return;
    const entries = Array.isArray(fields.containers) ? fields.containers : [];
    for (const message of entries.map(startFirstClash)) {
      if (message === undefined) continue;
      addIssue({ message, path: [keyOf(fields, "update"), keyOf(fields.update, "order")] });
    }
  }),
  v.transform(({ name, containers, update, reschedule_after }): Manifest => {
    const manifest: Manifest = { name, containers };
    if (update !== undefined) manifest.update = update;
    if (reschedule_after !== undefined) manifest.rescheduleAfterMs = reschedule_after.value;
    return manifest;
  }),
);

/**
 * One instance of a manifest's container: its spec as written and normalized with the instance's
 * name and host, and the hash of that. For a pinned spec under its own name and host, that is the
 * container's own spec, normalized form and hash.
 */
export function instanceSpec(entry: ManifestContainer, name: string, host: string): ParsedSpec {
  // Name and host first, where a pinned spec has them, so its stored text stays the same.
  const { name: _specName, host: _specHost, ...spec } = entry.spec;
  const { name: _templateName, host: _templateHost, ...template } = entry.normalized;
  const normalized: NormalizedSpec = { name, host, ...template };
  return { spec: { name, host, ...spec }, normalized, hash: normalizedHash(normalized) };
}
