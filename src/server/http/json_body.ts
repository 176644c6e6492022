/** The JSON body middleware every route with a JSON body uses: parse, then validate. */
import type { MiddlewareHandler } from "hono";
import type * as v from "valibot";
import { BadRequestError } from "../../api/errors.ts";
import { validateInput } from "../../api/validation.ts";

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
    const result = validateInput(schema, value);
    if (!result.success) {
      throw new BadRequestError(`request body is invalid: ${result.problem}`, result.details);
    }
    c.req.addValidatedData("json", result.output as object);
    await next();
  };
}
