/**
 * Copies one installation's store into another, new and empty (`launcher store copy`): manifests,
 * containers with every column (spec hashes, desired and observed state, so that agents recreate
 * nothing), host indexes and the global index counter (indexes never go back for an agent that
 * reconnects), the installation's id (agents label their containers with it), host info, events
 * with their ids (the next id comes after the source's last), tokens (hashes), revisions and
 * rollouts. The source is read in one transaction, so the copy is of one state of it; the target
 * is written in one, so a copy that fails leaves it as it was.
 */
import { LauncherError } from "../../errors.ts";
import type { Store } from "./store.ts";

/** How many of each the copy wrote. */
export interface CopyCounts {
  manifests: number;
  containers: number;
  hosts: number;
  tokens: number;
  events: number;
  revisions: number;
  rollouts: number;
}

/** Events are read and written this many at a time. */
const EVENT_PAGE = 1000;

/** The target of a copy already holds something: it is left as it was. */
export class CopyTargetNotEmptyError extends LauncherError {
  constructor(location: string, holds: string[]) {
    super(
      "store_not_empty",
      `the target store ${location} already holds ${holds.join(", ")}: ` +
        "copy only into a new, empty store",
    );
  }
}

/** `1 manifest`, `3 manifests` (or `plural`). */
export function countOf(n: number, what: string, plural = `${what}s`): string {
  return `${n} ${n === 1 ? what : plural}`;
}

/** What a store holds that a copy would overwrite or mix with (empty: nothing). */
async function holdings(tx: Store): Promise<string[]> {
  const counts: [number, string, string?][] = [
    [(await tx.allManifests()).length, "manifest"],
    [(await tx.allContainers()).length, "container"],
    [(await tx.allTokens()).length, "token"],
    [(await tx.allHostIndexes()).length, "host index", "host indexes"],
    [(await tx.allHostInfo()).length, "registered host"],
    [await tx.countEvents(), "event"],
    [(await tx.allRevisions()).length, "revision"],
    [(await tx.allRollouts()).length, "rollout"],
  ];
  const held = counts.filter(([n]) => n > 0).map(([n, what, plural]) => countOf(n, what, plural));
  const lastEvent = await tx.lastEventId();
  if (held.length === 0 && lastEvent > 0) held.push(`a history of events (last id ${lastEvent})`);
  return held;
}

/**
 * Copies everything `from` holds into `to`, which must hold nothing (`CopyTargetNotEmptyError`
 * otherwise, and `to` is left as it was). `from` is only read. `progress` hears one line per
 * part as it is copied. `to` keeps its old `clusterId()` until it is opened again.
 */
export async function copyStore(
  from: Store,
  to: Store,
  progress: (line: string) => void = () => {},
): Promise<CopyCounts> {
  return await from.transaction((src) =>
    to.transaction(async (dst) => {
      const held = await holdings(dst);
      if (held.length > 0) throw new CopyTargetNotEmptyError(to.location, held);
      const counts: CopyCounts = {
        manifests: 0,
        containers: 0,
        hosts: 0,
        tokens: 0,
        events: 0,
        revisions: 0,
        rollouts: 0,
      };

      await dst.copyClusterId(src.clusterId());
      for (const row of await src.allManifests()) {
        await dst.copyManifest(row);
        counts.manifests++;
      }
      for (const row of await src.allContainers()) {
        await dst.insertContainer(row);
        counts.containers++;
      }
      progress(
        `${countOf(counts.manifests, "manifest")}, ${countOf(counts.containers, "container")}`,
      );

      // Hosts: those with an index, and those registered (a host may have one without the other).
      const hosts = new Set<string>();
      let counter = await src.indexCounter();
      for (const row of await src.allHostIndexes()) {
        await dst.copyHostIndex(row);
        hosts.add(row.name);
        counter = Math.max(counter, row.idx);
      }
      if (counter > 0) await dst.copyIndexCounter(counter);
      for (const row of await src.allHostInfo()) {
        await dst.upsertHostInfo(row);
        hosts.add(row.name);
      }
      counts.hosts = hosts.size;
      progress(countOf(counts.hosts, "host"));

      // Oldest first, so that the target lists them in the same order.
      for (const row of await src.allTokens()) {
        await dst.insertToken(row);
        counts.tokens++;
      }
      for (const row of await src.allRevisions()) {
        await dst.insertRevision(row);
        counts.revisions++;
      }
      for (const row of await src.allRollouts()) {
        await dst.putRollout(row);
        counts.rollouts++;
      }
      progress(
        `${countOf(counts.tokens, "token")}, ${countOf(counts.revisions, "revision")}, ` +
          countOf(counts.rollouts, "rollout"),
      );

      for (let after = 0;;) {
        const page = await src.firstEvents({
          after,
          since: "",
          manifest: null,
          host: null,
          limit: EVENT_PAGE,
        });
        for (const row of page) await dst.copyEvent(row);
        counts.events += page.length;
        if (page.length < EVENT_PAGE) break;
        after = page[page.length - 1].id;
      }
      const lastEvent = await src.lastEventId();
      if (lastEvent > 0) await dst.copyLastEventId(lastEvent);
      progress(countOf(counts.events, "event"));
      return counts;
    })
  );
}

/** `copied 3 manifests, 12 containers, ...`: what a copy wrote, in one line. */
export function describeCopy(counts: CopyCounts): string {
  return "copied " + [
    countOf(counts.manifests, "manifest"),
    countOf(counts.containers, "container"),
    countOf(counts.hosts, "host"),
    countOf(counts.tokens, "token"),
    countOf(counts.events, "event"),
    countOf(counts.revisions, "revision"),
    countOf(counts.rollouts, "rollout"),
  ].join(", ");
}
