/** The contract of tokens: roles, scopes, and the token routes' bodies. */
import * as v from "valibot";
import { HostSchema } from "../manifest/schema.ts";
import { DurationError, parseDuration } from "../duration.ts";
import { apiObject, apiStrictObject } from "./validation.ts";

/** What a token may do: everything, one host's agent work, or read without changing anything. */
export const ROLES = ["admin", "agent", "read"] as const;
export const RoleSchema = v.picklist(ROLES);
export type Role = v.InferOutput<typeof RoleSchema>;

/** The longest lifetime a token may be given (ten years). */
export const MAX_TOKEN_TTL_MS = 3650 * 86_400_000;

/** A `ttl`: a duration in the one grammar, from 1 ms to ten years. */
const TtlSchema = v.pipe(
  v.string(),
  v.rawCheck<string>(({ dataset, addIssue }) => {
    if (!dataset.typed) return;
    let ms: number;
    try {
      ms = parseDuration(dataset.value);
    } catch (error) {
      if (!(error instanceof DurationError)) throw error;
      addIssue({ message: error.message });
      return;
    }
    if (ms < 1 || ms > MAX_TOKEN_TTL_MS) addIssue({ message: "must be from 1ms to 3650d" });
  }),
);

/** The scope of a new token: its role (default admin), the host of an agent token, a lifetime. */
const TOKEN_SCOPE_ENTRIES = {
  role: v.optional(RoleSchema),
  host: v.optional(HostSchema),
  ttl: v.optional(TtlSchema),
};

/** An agent token needs its host, and only an agent token has one. */
function agentHostCheck(scope: { role?: Role; host?: string }): boolean {
  return (scope.role === "agent") === (scope.host !== undefined);
}
const AGENT_HOST_MESSAGE = "is required for role agent and allowed for no other role";

/** `POST /token`: the password, and optionally the scope of the token (admin by default). */
export const TokenRequestSchema = v.pipe(
  apiStrictObject({ password: v.string("must be a string"), ...TOKEN_SCOPE_ENTRIES }),
  v.forward(v.check((scope) => agentHostCheck(scope), AGENT_HOST_MESSAGE), ["host"]),
);
export const TokenResponseSchema = apiObject({ token: v.string() });

/** `POST /tokens`: a new token made with an admin token. */
export const TokenCreateSchema = v.pipe(
  apiStrictObject(TOKEN_SCOPE_ENTRIES),
  v.forward(v.check((scope) => agentHostCheck(scope), AGENT_HOST_MESSAGE), ["host"]),
);
export type TokenScope = v.InferOutput<typeof TokenCreateSchema>;

/** A new token, shown this once: `id` is public and names it in lists and revocations. */
export const TokenCreatedSchema = apiObject({
  id: v.string(),
  token: v.string(),
  role: RoleSchema,
  host: v.optional(HostSchema),
  expiresAt: v.optional(v.string()),
});
export type TokenCreated = v.InferOutput<typeof TokenCreatedSchema>;

/** `GET /tokens`: one token without its secret. */
export const TokenInfoSchema = apiObject({
  id: v.string(),
  role: RoleSchema,
  host: v.optional(HostSchema),
  createdAt: v.string(),
  expiresAt: v.optional(v.string()),
  lastUsedAt: v.optional(v.string()),
  revoked: v.boolean(),
});
export type TokenInfo = v.InferOutput<typeof TokenInfoSchema>;

/** `POST /tokens/revoke`. */
export const TokenRevokeSchema = apiStrictObject({ id: v.pipe(v.string(), v.nonEmpty()) });
