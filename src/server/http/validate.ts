/**
 * The one way routes take input: `jsonBody` and `query` read a request's JSON body or query
 * string, check it against a schema of the contract (src/api) with `validateInput`, and hand the
 * typed value to the route as `c.req.valid(...)`; anything wrong is a 400 in the API's words.
 */
import type { Context, MiddlewareHandler } from "hono";
import type * as v from "valibot";
import { BadRequestError, InvalidQueryError } from "../../api/errors.ts";
import { validateInput } from "../../api/validation.ts";
import { describeJsonProblem, jsonProblem } from "./json_text.ts";

/** Input types a body middleware adds to a route, for the typed client. */
type JsonInput<S extends v.GenericSchema> = {
  in: { json: v.InferInput<S> };
  out: { json: v.InferOutput<S> };
};

/** Input types a query middleware adds to a route. */
type QueryInput<S extends v.GenericSchema> = {
  in: { query: Record<string, string | string[]> };
  out: { query: v.InferOutput<S> };
};

/**
 * Parses a request body as JSON. The text is checked first, so that a body that is not JSON, or
 * nests too deeply, is refused by where it goes wrong and never quoted back.
 */
export function parseJsonBody(text: string): unknown {
  const problem = jsonProblem(text);
  if (problem !== undefined) {
    const { message, line, column } = problem;
    throw new BadRequestError(
      problem.kind === "depth"
        ? `request body is nested too deeply: ${describeJsonProblem(problem)}`
        : `request body is not valid JSON: ${describeJsonProblem(problem)}`,
      [{ message, line, column }],
    );
  }
  try {
    return JSON.parse(text);
  } catch {
    // The check above agrees with JSON.parse; should they ever differ, still quote nothing.
    throw new BadRequestError("request body is not valid JSON");
  }
}

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
      value = parseJsonBody(text);
    }
    const result = validateInput(schema, value);
    if (!result.success) {
      throw new BadRequestError(
        `request body is invalid: ${result.problem}`,
        result.details,
      );
    }
    c.req.addValidatedData("json", result.output as object);
    await next();
  };
}

/** A request's query parameters: a value given once as a string, a repeated one as a list. */
function queryOf(c: Context): Record<string, string | string[]> {
  const query: Record<string, string | string[]> = {};
  for (const [name, values] of Object.entries(c.req.queries())) {
    query[name] = values.length === 1 ? values[0] : values;
  }
  return query;
}

/** Reads the query string and validates it. */
export function query<S extends v.GenericSchema>(
  schema: S,
): MiddlewareHandler<Record<never, never>, string, QueryInput<S>> {
  return async (c, next) => {
    const result = validateInput(schema, queryOf(c));
    if (!result.success) {
      throw new InvalidQueryError(
        `query is invalid: ${result.problem}`,
        result.details,
      );
    }
    c.req.addValidatedData("query", result.output as object);
    await next();
  };
}
