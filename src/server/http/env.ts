/** The Hono environment every router of the API shares: what middleware hands to routes. */
import type { Principal } from "../auth.ts";

/** `c.var.principal`: who the request speaks for; absent on routes that need no token. */
export type AppEnv = { Variables: { principal?: Principal } };
