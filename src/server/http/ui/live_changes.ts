/**
 * The changes an open page follows (`GET /live`): an event `change` whenever the event history
 * grows, at most one every `MIN_GAP_MS` so that a burst of changes costs one refresh, and a
 * comment every `KEEPALIVE_MS` so that proxies keep the connection.
 */
import { OverloadedError } from "../../../api/errors.ts";
import { type Clock, sleepOn } from "../../../clock.ts";
import type { Planner } from "../../planner.ts";
import type { SendEvent } from "./sse.ts";

/** The least time between two `change` events: a burst of changes costs one refresh. */
const MIN_GAP_MS = 200;
/** How long a wait lasts before a keep-alive comment (and a check of the session). */
const KEEPALIVE_MS = 15_000;

/** What following changes needs. */
export interface LiveChangesDeps {
  planner: Planner;
  /** Changes after this event id (default: from now). */
  after?: number;
  /** Whether the session still holds; checked after every wait. */
  stillSignedIn: () => Promise<boolean>;
  send: SendEvent;
  signal: AbortSignal;
  clock: Clock;
}

/** Sends `change` events until the page leaves or its session ends (`signed-out`). */
export async function liveChanges(deps: LiveChangesDeps): Promise<void> {
  const { planner, send, signal, clock } = deps;
  let after = deps.after ?? await planner.store.lastEventId();
  await send(undefined, "following changes");
  while (!signal.aborted) {
    let woken: boolean;
    const started = clock.now();
    try {
      woken = await planner.events.wait(after, KEEPALIVE_MS, signal);
    } catch (error) {
      // Too many held waits: the page's periodic refresh still comes.
      if (error instanceof OverloadedError) return;
      throw error;
    }
    if (signal.aborted) return;
    // A wait that ended early without an event: the server is shutting down (its waits are
    // released, and answer at once from now on), and its shutdown waits for this stream to end.
    if (!woken && clock.now() - started < KEEPALIVE_MS) return;
    if (!await deps.stillSignedIn()) {
      await send("signed-out", "the session ended");
      return;
    }
    if (!woken) {
      await send(undefined, "keep-alive");
      continue;
    }
    after = await planner.store.lastEventId();
    await send("change", String(after));
    await sleepOn(clock, MIN_GAP_MS, signal);
  }
}
