/**
 * The desired-list puller: long-polls the server for this host's desired list (held up to 30 s,
 * answered at once on a change), registering the host first and again whenever the server may
 * have forgotten it. A poll that gets no answer (refused, or cut off while held) goes to the next
 * server of the list at once, inside the client; only when no server answered does the puller back
 * off (capped, jittered), quietly: one line when it starts failing, one when it recovers.
 */
import type { HostDesired } from "../api/schemas.ts";
import type { LauncherClient } from "../client/client.ts";
import { Backoff } from "./backoff.ts";
import type { Clock } from "../clock.ts";
import type { Registration } from "./registration.ts";
import { errorMessage } from "../errors.ts";

/** The calls of the API client that the agent makes. */
export type AgentApi = Pick<
  LauncherClient,
  "url" | "desired" | "report" | "registerHost" | "logRequests" | "uploadLogs"
>;

/** What the puller needs. */
export interface PullerOptions {
  api: AgentApi;
  clock: Clock;
  host: string;
  registration: Registration;
  /** How long one long-poll may be held by the server. */
  waitMs: number;
  /** Receives every list the server answers, in order. */
  onList: (list: HostDesired) => void;
  log: (line: string) => void;
}

/** Pulls the host's desired list until the signal aborts. */
export async function pullDesired(opts: PullerOptions, signal: AbortSignal): Promise<void> {
  const { api, clock, host, registration, log } = opts;
  const backoff = new Backoff(250, 5000);
  let index = 0;
  let haveList = false;
  let failing = false;
  while (!signal.aborted) {
    try {
      await registration.ensure(signal);
      const list = await api.desired(host, index, haveList ? opts.waitMs : 0, signal);
      if (!list.registered) registration.invalidate();
      if (failing) log(`server reachable again at ${api.url}`);
      failing = false;
      backoff.reset();
      index = list.index;
      haveList = true;
      opts.onList(list);
    } catch (error) {
      if (signal.aborted) break;
      if (!failing) {
        const reason = errorMessage(error);
        log(`cannot fetch the desired list: ${reason}; retrying`);
      }
      failing = true;
      // The server may come back without what it knew: tell it again.
      registration.invalidate();
      await clock.sleep(backoff.next(), signal);
    }
  }
}
