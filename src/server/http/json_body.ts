/** The JSON body middleware every route with a JSON body uses: parse, then validate. */
import type { MiddlewareHandler } from "hono";
import * as v from "valibot";
import type { ErrorDetail } from "../../api/schemas.ts";
import { BadRequestError } from "../../api/errors.ts";

/** An issue's path written as the manifest parser writes its paths: `containers[0].name`. */
function issuePath(issue: v.BaseIssue<unknown>): string | undefined {
  let path = "";
  for (const item of issue.path ?? []) {
    const key = item.key;
    if (typeof key === "number") path += `[${key}]`;
    else if (typeof key === "string") path += path === "" ? key : `.${key}`;
    else return undefined;
  }
  return path === "" ? undefined : path;
}

/** Valibot issues as error details (path, message). */
function issueDetails(issues: readonly v.BaseIssue<unknown>[]): ErrorDetail[] {
  return issues.map((issue) => {
    const path = issuePath(issue);
    return path === undefined ? { message: issue.message } : { path, message: issue.message };
  });
}

/** Input types a JSON body middleware adds to a route, for the typed client. */
type JsonInput<S extends v.GenericSchema> = {
  in: { json: v.InferInput<S> };
  out: { json: v.InferOutput<S> };
};

/**
 * Reads a JSON body and validates it; an empty body is read as `{}` when `allowEmpty`, and
 * refused otherwise. The Content-Type is not checked: these routes take nothing but JSON, and
 * clients of the original design (and `curl -d`) do not always say so.
 */
export function jsonBody<S extends v.GenericSchema>(
  schema: S,
  allowEmpty = false,
): MiddlewareHandler<Record<never, never>, string, JsonInput<S>> {
  return async (c, next) => {
    const text = await c.req.text();
    let value: unknown = {};
    if (text.trim() === "") {
      if (!allowEmpty) throw new BadRequestError("request body is empty: send a JSON object");
    } else {
      try {
        value = JSON.parse(text);
      } catch (error) {
        const reason = error instanceof Error ? error.message : String(error);
        throw new BadRequestError(`request body is not valid JSON: ${reason}`);
      }
    }
    const parsed = v.safeParse(schema, value);
    if (!parsed.success) {
      const details = issueDetails(parsed.issues);
      const first = details[0];
      const where = first.path === undefined ? "" : `${first.path}: `;
      throw new BadRequestError(`request body is invalid: ${where}${first.message}`, details);
    }
    c.req.addValidatedData("json", parsed.output as object);
    await next();
  };
}
