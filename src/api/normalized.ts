/**
 * The contract of a container's spec on the wire: `config` is the spec as written (structural
 * only, so that a client never parses it again), `normalized` the form the server parsed it into.
 */
import * as v from "valibot";
import type { NormalizedSpec } from "../manifest/normalized.ts";
import { RESTART_POLICIES } from "../manifest/normalized.ts";
import { PROTOCOLS } from "../manifest/ports.ts";

/**
 * A spec as written in its manifest: a name, a host and an image, and every other field passed
 * through as it was written (clients of the original design decode it as such). A placed
 * container carries its instance name and the host the server chose; no host while it waits.
 */
export const SpecConfigSchema = v.looseObject({
  name: v.string(),
  host: v.optional(v.string()),
  image: v.string(),
});
export type SpecConfig = v.InferOutput<typeof SpecConfigSchema>;

const StringMapSchema = v.record(v.string(), v.string());

const RestartPolicySchema = v.object({
  name: v.picklist(RESTART_POLICIES),
  maxRetries: v.optional(v.number()),
});

const RunOptionsSchema = v.object({
  networkMode: v.optional(v.string()),
  restart: v.optional(RestartPolicySchema),
  binds: v.optional(v.array(v.string())),
  privileged: v.optional(v.boolean()),
  memory: v.optional(v.number()),
  nanoCpus: v.optional(v.number()),
  extraHosts: v.optional(v.array(v.string())),
  devices: v.optional(v.array(v.object({
    hostPath: v.string(),
    containerPath: v.string(),
    permissions: v.string(),
  }))),
  tmpfs: v.optional(StringMapSchema),
  hostname: v.optional(v.string()),
  capAdd: v.optional(v.array(v.string())),
  capDrop: v.optional(v.array(v.string())),
  securityOpt: v.optional(v.array(v.string())),
  ipcMode: v.optional(v.string()),
  shmSize: v.optional(v.number()),
  ulimits: v.optional(v.array(v.object({ name: v.string(), soft: v.number(), hard: v.number() }))),
  dns: v.optional(v.array(v.string())),
  dnsSearch: v.optional(v.array(v.string())),
  labels: v.optional(StringMapSchema),
});

/** A spec as the server parsed it at the door: launcher's own terms, ready for any engine. */
export const NormalizedSpecSchema = v.object({
  name: v.string(),
  host: v.string(),
  image: v.string(),
  entrypoint: v.optional(v.array(v.string())),
  cmd: v.optional(v.array(v.string())),
  ports: v.array(v.object({
    hostIp: v.optional(v.string()),
    hostPort: v.optional(v.number()),
    containerPort: v.number(),
    protocol: v.picklist(PROTOCOLS),
  })),
  /** A secret is `{secret: NAME}` except in the desired list of its host, which has its value. */
  environment: v.record(v.string(), v.union([v.string(), v.object({ secret: v.string() })])),
  options: v.array(v.string()),
  runOptions: RunOptionsSchema,
  healthcheck: v.optional(v.object({
    test: v.array(v.string()),
    interval: v.optional(v.number()),
    timeout: v.optional(v.number()),
    retries: v.optional(v.number()),
    startPeriod: v.optional(v.number()),
  })),
  restart: v.optional(RestartPolicySchema),
  volumes: v.array(v.string()),
  labels: StringMapSchema,
  resources: v.object({ memory: v.optional(v.number()), nanoCpus: v.optional(v.number()) }),
  pull: v.optional(v.picklist(["always", "never"])),
  stopTimeout: v.optional(v.number()),
});

/** Every field required, at every level: a field one side lacks then shows. */
type DeepRequired<T> = T extends (infer U)[] ? DeepRequired<U>[]
  : T extends object ? { [K in keyof T]-?: DeepRequired<T[K]> }
  : T;

/** True when each type is assignable to the other. */
type Mutual<A, B> = [A] extends [B] ? [B] extends [A] ? true : false : false;

/** True when both types have the same fields, each as optional on both sides or on neither. */
type Same<A, B> = Mutual<A, B> extends true ? Mutual<DeepRequired<A>, DeepRequired<B>> : false;

/**
 * Compiles only while the wire schema and manifest's {@link NormalizedSpec} describe the same
 * values: the contract cannot drift from what the door produces.
 */
export const NORMALIZED_SPEC_MATCHES: Same<
  v.InferOutput<typeof NormalizedSpecSchema>,
  NormalizedSpec
> = true;
