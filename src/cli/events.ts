/** `launcher events`: who applied or removed what, container actions and observed state changes. */
import { Command } from "@commander-js/extra-typings";
import type { EventRecord } from "../api/schemas.ts";
import type { EventsQuery } from "../client/client.ts";
import { parseDuration } from "../duration.ts";
import { caOption, clientFor, outputOption, tokenOption, urlOption } from "./context.ts";
import { UsageError } from "./errors.ts";
import { valueText } from "./manifest_output.ts";

/** How long one follow request is held by the server. */
const FOLLOW_WAIT_MS = 30_000;

/**
 * What an event did: `recreate (image: a -> b)`, `stop`, `running -> exited (137)`, and for the
 * scheduler's and rollouts' events where and how far: `reschedule: host-a -> host-d`,
 * `batch: batch 1 of 3: web.1`, `failed: batch 1 of 3 missed its deadline ...`.
 */
function whatText(e: EventRecord): string {
  if (e.kind === "state") {
    return `${e.from ?? "?"} -> ${e.to ?? "?"}${e.error ? `: ${e.error}` : ""}`;
  }
  const changes = (e.changes ?? []).map((c) =>
    `${c.field}: ${valueText(c.from)} -> ${valueText(c.to)}`
  );
  const action = e.action ?? e.kind;
  const moved = e.to === undefined
    ? undefined
    : e.from === undefined
    ? e.to
    : `${e.from} -> ${e.to}`;
  const detail = [moved, e.error].filter((part) => part !== undefined && part !== "");
  const what = detail.length > 0 ? `${action}: ${detail.join(": ")}` : action;
  return changes.length > 0 ? `${what} (${changes.join(", ")})` : what;
}

/**
 * One event as a line: time, kind, what it concerns, what happened and, for changes people
 * make, who made them.
 */
export function eventLine(e: EventRecord): string {
  const target = [
    e.manifest === undefined
      ? ""
      : e.container === undefined
      ? e.manifest
      : `${e.manifest}/${e.container}`,
    e.host === undefined ? "" : `on ${e.host}`,
    e.secret === undefined ? "" : `secret ${e.secret}`,
  ].filter(Boolean).join(" ");
  const by = e.kind === "state" ? "" : `  by ${e.actor}`;
  return `${e.time}  ${e.kind.padEnd(6)}  ${target}  ${whatText(e)}${by}`;
}

/** Checks `--since` here, so a typo is a usage error rather than the server's 400. */
function sinceOption(text: string | undefined): string | undefined {
  if (text === undefined || /^\d{4}-\d\d-\d\dT/.test(text)) return text;
  parseDuration(text);
  return text;
}

/** Parses `--limit`: a whole number from 1 to 10000. */
function limitOption(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const limit = Number(text);
  if (!Number.isInteger(limit) || limit < 1 || limit > 10_000) {
    throw new UsageError(`--limit must be a whole number from 1 to 10000, not "${text}"`);
  }
  return limit;
}

/** The `events` command. */
export function eventsCommand(print: (text: string) => void): Command {
  return new Command("events")
    .description("show who applied or removed what, container actions and state changes")
    .option("-m, --manifest <name>", "only events of this manifest")
    .option("--host <host>", "only events of this host")
    .option("--since <duration>", "only events this recent (10m, 2h) or since an ISO time")
    .option("--limit <count>", "at most this many of the newest events (default 1000)")
    .option("-f, --follow", "keep printing new events until interrupted")
    .addOption(urlOption()).addOption(tokenOption()).addOption(caOption()).addOption(outputOption())
    .action(async (opts) => {
      const query: EventsQuery = {};
      if (opts.manifest !== undefined) query.manifest = opts.manifest;
      if (opts.host !== undefined) query.host = opts.host;
      const since = sinceOption(opts.since);
      if (since !== undefined) query.since = since;
      const limit = limitOption(opts.limit);
      if (limit !== undefined) query.limit = limit;
      const client = clientFor(opts);
      const json = opts.output === "json";
      let page = await client.events(query);
      if (!opts.follow) {
        if (json) print(JSON.stringify(page.events, null, 2));
        else if (page.events.length > 0) print(page.events.map(eventLine).join("\n"));
        return;
      }
      // Followed output is a stream: one line, or one JSON object, per event.
      const show = (events: EventRecord[]) => {
        for (const e of events) print(json ? JSON.stringify(e) : eventLine(e));
      };
      show(page.events);
      const { manifest, host } = query;
      while (true) {
        page = await client.events({
          ...(manifest === undefined ? {} : { manifest }),
          ...(host === undefined ? {} : { host }),
          after: page.last,
          waitMs: FOLLOW_WAIT_MS,
        });
        show(page.events);
      }
    });
}
