/**
 * The engine-event watcher: follows the engine's container events (launcher's only) into the
 * engine view, so a change is reported within milliseconds and the reconciler hears of it. When
 * the engine goes away it reconnects, replaying what it missed, and has everything re-read.
 */
import type { ContainerEvent, Engine } from "../docker/engine.ts";
import { Backoff } from "./backoff.ts";
import type { Clock } from "../clock.ts";
import { LABEL_MANIFEST } from "./labels.ts";
import { errorMessage } from "../errors.ts";

/** What the watcher needs. */
export interface WatcherOptions {
  engine: Engine;
  clock: Clock;
  /** Called for every event, in the engine's order. */
  onEvent: (event: ContainerEvent) => void;
  /** Called when the stream is back after a break: the engine may have changed meanwhile. */
  onReconnect: () => void;
  log: (line: string) => void;
}

/** Follows one engine's events until the signal aborts. */
export async function watchEngine(opts: WatcherOptions, signal: AbortSignal): Promise<void> {
  const { engine, clock, log } = opts;
  const backoff = new Backoff(250, 5000);
  // Replaying from the last event seen (or from the start) loses nothing across reconnects.
  let since = clock.now();
  let failing = false;
  while (!signal.aborted) {
    try {
      const onOpen = () => {
        backoff.reset();
        if (!failing) return;
        log("engine reachable again; resyncing");
        failing = false;
        opts.onReconnect();
      };
      for await (const event of engine.events([LABEL_MANIFEST], signal, { since, onOpen })) {
        since = Math.max(since, event.time);
        opts.onEvent(event);
      }
      // A stream that ends by itself means the engine went away: resync when it is back.
      if (!signal.aborted && !failing) log("the engine closed its event stream; reconnecting");
      failing = !signal.aborted;
    } catch (error) {
      if (signal.aborted) break;
      if (!failing) {
        const reason = errorMessage(error);
        log(`lost the engine's event stream: ${reason}; reconnecting`);
      }
      failing = true;
    }
    await clock.sleep(backoff.next(), signal);
  }
}
