/**
 * Every schema of the contract that server, client and CLI share, re-exported from the files that
 * define them. The vocabulary is DESIGN.md's: desired, state, index, host, manifest.
 */
export { HostSchema, InstanceNameSchema, NameSchema } from "../manifest/schema.ts";
export type {
  Manifest,
  ManifestContainer,
  ParsedSpec,
  Placement,
  Spec,
  UpdatePolicy,
} from "../manifest/schema.ts";
export type { NormalizedSpec } from "../manifest/normalized.ts";
export * from "./answers.ts";
export * from "./agent_metrics.ts";
export * from "./containers.ts";
export * from "./events.ts";
export * from "./hosts.ts";
export * from "./logs.ts";
export * from "./normalized.ts";
export * from "./queries.ts";
export * from "./rollouts.ts";
export * from "./secrets.ts";
export * from "./revisions.ts";
export * from "./status.ts";
export * from "./tokens.ts";
export { type ErrorBody, ErrorBodySchema, type ErrorDetail, ErrorDetailSchema } from "./errors.ts";
