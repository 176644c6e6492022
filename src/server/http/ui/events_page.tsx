/** The events page: the live feed of the event history, filtered by manifest and host. */
import type { FC } from "hono/jsx";
import type { EventRecord } from "../../../api/schemas.ts";
import type { Planner } from "../../planner.ts";
import { Ago, containerHref, HostLink, manifestHref } from "./components.tsx";

/** How many events the page lists, newest first. */
export const EVENTS_SHOWN = 200;

/** What the events page shows. */
export interface EventsView {
  events: EventRecord[];
  lastEventId: number;
  manifest?: string;
  host?: string;
  /** Names to pick from in the filter. */
  manifests: string[];
  hosts: string[];
}

/** The events page's filter as given in the query; empty values mean no filter. */
export interface EventsQuery {
  manifest?: string;
  host?: string;
}

/** Reads the newest events matching the filter, and the names the filter offers. */
export async function readEventsView(planner: Planner, query: EventsQuery): Promise<EventsView> {
  const page = await planner.events.list({ ...query, limit: EVENTS_SHOWN });
  const names = await planner.store.transaction(async (tx) => ({
    manifests: (await tx.allManifests()).map((m) => m.name),
    hosts: (await tx.allHostInfo()).map((h) => h.name),
  }));
  return { events: page.events.reverse(), lastEventId: page.last, ...query, ...names };
}

/** What an event says, in words. */
export function eventText(e: EventRecord): string {
  const parts: string[] = [];
  if (e.kind === "state") parts.push(`${e.from ?? "?"} → ${e.to ?? "?"}`);
  else parts.push(e.action === undefined ? e.kind : `${e.kind} ${e.action}`);
  for (const change of e.changes ?? []) {
    parts.push(`${change.field}: ${JSON.stringify(change.from)} → ${JSON.stringify(change.to)}`);
  }
  return parts.join("; ");
}

/** A table of events, as given (newest first). */
export const EventRows: FC<{ events: EventRecord[]; now: number }> = ({ events, now }) => (
  <div class="scroll">
    <table class="events">
      <thead>
        <tr>
          <th>When</th>
          <th>What</th>
          <th>Container</th>
          <th class="hide-narrow">Host</th>
          <th class="hide-narrow">By</th>
        </tr>
      </thead>
      <tbody>
        {events.map((e) => (
          <tr data-event={String(e.id)} data-kind={e.kind}>
            <td>
              <Ago at={e.time} now={now} />
            </td>
            <td>
              {eventText(e)}
              {e.error === undefined ? null : <div class="error">{e.error}</div>}
            </td>
            <td>
              {e.manifest === undefined
                ? null
                : e.container === undefined
                ? <a href={manifestHref(e.manifest)}>{e.manifest}</a>
                : (
                  <a href={containerHref(e.manifest, e.container)}>
                    {e.manifest}/{e.container}
                  </a>
                )}
            </td>
            <td class="hide-narrow">{e.host === undefined ? null : <HostLink host={e.host} />}</td>
            <td class="hide-narrow muted">{e.actor}</td>
          </tr>
        ))}
      </tbody>
    </table>
  </div>
);

/** The filter form of the events page. */
export const EventsFilter: FC<{ view: EventsView }> = ({ view }) => (
  <form class="filters" method="get" action="/events" role="search">
    <label>
      Manifest
      <input
        type="text"
        name="manifest"
        id="filter-manifest"
        list="manifest-names"
        value={view.manifest ?? ""}
        autocomplete="off"
      />
    </label>
    <datalist id="manifest-names">
      {view.manifests.map((name) => <option key={name} value={name} />)}
    </datalist>
    <label>
      Host
      <input
        type="text"
        name="host"
        id="filter-host"
        list="host-names"
        value={view.host ?? ""}
        autocomplete="off"
      />
    </label>
    <datalist id="host-names">
      {view.hosts.map((name) => <option key={name} value={name} />)}
    </datalist>
    <button type="submit">Filter</button>
    {view.manifest === undefined && view.host === undefined ? null : <a href="/events">Clear</a>}
  </form>
);

/** The live part of the events page: the newest events. */
export const EventsFeed: FC<{ view: EventsView; now: number }> = ({ view, now }) =>
  view.events.length === 0
    ? <p class="muted" id="no-events">No event matches.</p>
    : <EventRows events={view.events} now={now} />;
