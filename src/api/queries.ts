/**
 * The query strings of the contract: each parameter parsed in one place (durations, indexes,
 * flags, times), so that the server and any client read them alike. A parameter given twice, or
 * one a route does not take, is refused.
 */
import * as v from "valibot";
import { parseDuration } from "../duration.ts";
import { HostSchema, InstanceNameSchema, NameSchema } from "../manifest/schema.ts";
import { MAX_EVENTS_LIMIT } from "./events.ts";
import { apiStrictObject, mustBe } from "./validation.ts";

/** How long a long-poll that names no `wait` is held (servers cap it at their own maximum). */
export const DEFAULT_WAIT_MS = 30_000;

/** The largest `tail` of `GET /logs`. */
export const MAX_TAIL = 1_000_000_000;

/** A query parameter given once (a repeated one arrives as a list). */
function param<S extends v.GenericSchema<string, unknown>>(schema: S) {
  return v.pipe(
    v.custom<string>(
      (input) => !Array.isArray(input),
      (issue) => `must be given once, not ${(issue.input as unknown[]).length} times`,
    ),
    schema,
  );
}

/** The query of a route: its parameters, each given at most once; no others. */
function apiQuery<const E extends v.ObjectEntries>(entries: E) {
  return apiStrictObject(entries, "query parameter");
}

/** A whole number from `min` to `max`, written in digits. */
function wholeNumber(min: number, max: number, expected = `a whole number from ${min} to ${max}`) {
  return v.pipe(
    v.string(),
    v.trim(),
    v.regex(/^\d{1,15}$/, mustBe(expected)),
    v.transform(Number),
    v.minValue(min, mustBe(expected)),
    v.maxValue(max, mustBe(expected)),
  );
}

/** A duration such as `500ms`, `30s`, `2m` or `30` (seconds), in milliseconds. */
export const DurationParamSchema = v.pipe(
  v.string(),
  v.rawTransform(({ dataset, addIssue, NEVER }) => {
    try {
      return parseDuration(dataset.value);
    } catch (error) {
      addIssue({ message: error instanceof Error ? error.message : String(error) });
      return NEVER;
    }
  }),
);

/** A long-poll's index: a whole number of 0 or more. */
export const IndexParamSchema = wholeNumber(
  0,
  Number.MAX_SAFE_INTEGER,
  "a whole number of 0 or more",
);

/** A flag: empty, `1` and `true` are true; `0` and `false` are false. */
export const FlagParamSchema = v.pipe(
  v.picklist(["", "1", "true", "0", "false"], mustBe("true or false")),
  v.transform((text) => text === "" || text === "1" || text === "true"),
);

/** `since`: a time (`{at}`, epoch milliseconds) or a span back from now (`{agoMs}`). */
export type Since = { at: number } | { agoMs: number };

/** `since`: an ISO 8601 time, or a duration back from now (`10m`, `2h`). */
export const SinceParamSchema = v.pipe(
  v.string(),
  v.rawTransform(({ dataset, addIssue, NEVER }): Since => {
    const text = dataset.value;
    if (/^\d{4}-\d\d-\d\dT/.test(text)) {
      const at = Date.parse(text);
      if (!Number.isNaN(at)) return { at };
      addIssue({ message: `is not a valid time: ${JSON.stringify(text)}` });
      return NEVER;
    }
    try {
      return { agoMs: parseDuration(text) };
    } catch {
      addIssue({
        message: "must be a duration such as 10m or a time such as 2024-01-02T03:04:05Z, not " +
          JSON.stringify(text),
      });
      return NEVER;
    }
  }),
);

/** The time a `since` names, in epoch milliseconds, as seen at `now`. */
export function sinceTime(since: Since, now: number): number {
  return "at" in since ? since.at : now - since.agoMs;
}

/** `tail`: a whole number of lines, or `all` (the same as leaving it out: undefined). */
export const TailParamSchema = v.pipe(
  v.string(),
  v.rawTransform(({ dataset, addIssue, NEVER }): number | undefined => {
    const text = dataset.value;
    if (text === "all") return undefined;
    const lines = /^\d{1,10}$/.test(text) ? Number(text) : NaN;
    if (lines >= 0 && lines <= MAX_TAIL) return lines;
    addIssue({ message: `must be a whole number or all, not ${JSON.stringify(text)}` });
    return NEVER;
  }),
);

/** `GET /container`: a host's desired list, long-polled with `index` (and `wait`). */
export const ContainerQuerySchema = apiQuery({
  host: param(HostSchema),
  index: v.optional(param(IndexParamSchema)),
  wait: v.optional(param(DurationParamSchema)),
});

/** `GET /events`: filters, and a follow with `after` and `wait`. */
export const EventsQuerySchema = v.pipe(
  apiQuery({
    manifest: v.optional(param(NameSchema)),
    host: v.optional(param(HostSchema)),
    since: v.optional(param(SinceParamSchema)),
    after: v.optional(param(IndexParamSchema)),
    limit: v.optional(param(wholeNumber(1, MAX_EVENTS_LIMIT))),
    wait: v.optional(param(DurationParamSchema)),
  }),
  v.forward(
    v.check(
      (query) => query.wait === undefined || query.after !== undefined,
      "needs after: pass the last event id seen (0: none)",
    ),
    ["wait"],
  ),
);

/** `GET /logs`: which container's output, and how much of it. */
export const LogsQuerySchema = apiQuery({
  manifest: param(NameSchema),
  container: param(InstanceNameSchema),
  tail: v.optional(param(TailParamSchema)),
  since: v.optional(param(SinceParamSchema)),
  follow: v.optional(param(FlagParamSchema), "false"),
  timestamps: v.optional(param(FlagParamSchema), "false"),
});

/** `GET /agent/logs/requests`: an agent's long-poll for log requests. */
export const AgentLogPollQuerySchema = apiQuery({
  host: param(HostSchema),
  wait: v.optional(param(DurationParamSchema)),
});

/** `POST /agent/logs/{id}`: an agent's upload names its host. */
export const AgentLogUploadQuerySchema = apiQuery({ host: param(HostSchema) });
