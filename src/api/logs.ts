/** The contract of logs: requests handed to agents, and the NDJSON lines of `GET /logs`. */
import * as v from "valibot";
import { InstanceNameSchema, NameSchema } from "../manifest/schema.ts";
import { apiObject } from "./validation.ts";

/** Which stream a log line came from. */
export const LogStreamNameSchema = v.picklist(["stdout", "stderr"]);

/** One log request as the server hands it to the agent of the container's host. */
export const LogRequestSchema = apiObject({
  id: v.string(),
  manifest: NameSchema,
  container: InstanceNameSchema,
  follow: v.boolean(),
  timestamps: v.boolean(),
  /** The last N lines only; absent: all. */
  tail: v.optional(v.number()),
  /** Lines from this time on (Unix seconds); absent: from the start. */
  since: v.optional(v.number()),
  /**
   * The URL of the server the request was asked on, when another server hands it out (several
   * servers on one store): the upload goes there. Absent: to the server that handed it out.
   */
  origin: v.optional(v.pipe(v.string(), v.regex(/^https?:\/\/\S+$/, "an http(s) URL"))),
});
export type LogRequest = v.InferOutput<typeof LogRequestSchema>;

/** `GET /agent/logs/requests`: the log requests waiting for an agent's host. */
export const LogRequestListSchema = apiObject({ requests: v.array(LogRequestSchema) });

/** One line of `GET /logs` (NDJSON): a piece of output, with its engine time when asked. */
export const LogLineSchema = apiObject({
  stream: LogStreamNameSchema,
  data: v.string(),
  time: v.optional(v.string()),
});
export type LogLine = v.InferOutput<typeof LogLineSchema>;

/** A line of `GET /logs` that ends the stream with an error (the agent or engine failed). */
export const LogErrorLineSchema = apiObject({
  error: apiObject({ code: v.string(), message: v.string() }),
});

/** Any line of `GET /logs`. */
export const LogFrameSchema = v.union([LogLineSchema, LogErrorLineSchema]);

/**
 * The first line of an agent's log upload (`POST /agent/logs/{id}`): ready, after which the lines
 * of `GET /logs` follow, or an error that answers the client's request.
 */
export const LogUploadStartSchema = v.union([
  apiObject({ ready: v.literal(true) }),
  LogErrorLineSchema,
]);
