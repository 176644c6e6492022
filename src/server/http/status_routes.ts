/**
 * `GET /status`: the server that answered, its store (never a password), who runs the cluster
 * duties and since when, whether it hears the other servers, and the requests it holds. Needs a
 * read token.
 */
import { Hono } from "hono";
import type { ServerStatus } from "../../api/schemas.ts";
import { errorMessage } from "../../errors.ts";
import { VERSION } from "../../version.ts";
import { shownLocation, storeKind } from "../cluster.ts";
import type { Planner } from "../planner.ts";
import type { AppEnv } from "./env.ts";

/** This server as `GET /status` shows it. */
export async function serverStatus(planner: Planner): Promise<ServerStatus> {
  const { lease, wakeups, store } = planner;
  let duties: ServerStatus["duties"] = { holding: lease.holding() };
  try {
    const holder = await lease.holder();
    if (holder !== undefined) duties = { ...duties, holder: holder.server, since: holder.since };
  } catch (error) {
    duties = { ...duties, error: errorMessage(error) };
  }
  return {
    server: lease.server,
    version: VERSION,
    store: { kind: storeKind(store.location), location: shownLocation(store.location) },
    duties,
    wakeups: { kind: wakeups.kind, listening: wakeups.listening() },
    held: { polls: planner.heldWaiters, follows: planner.events.heldWaiters },
  };
}

/** The status route, to mount under `/api/v1` after the access middleware. */
export function statusRoutes(planner: Planner) {
  return new Hono<AppEnv>()
    .get("/status", async (c) => c.json(await serverStatus(planner), 200));
}
