/**
 * Copies one installation's store into another, new and empty (`launcher store copy`): manifests,
 * containers with every column (spec hashes, desired and observed state, so that agents recreate
 * nothing), host indexes and the global index counter (indexes never go back for an agent that
 * reconnects), the installation's id (agents label their containers with it), host info, events
 * with their ids (the next id comes after the source's last), tokens (hashes), revisions,
 * rollouts, and secrets as they are encrypted (with the check value of their key: the target's
 * servers need the same key file). Not web UI sessions: a copy is made with the servers stopped,
 * and users sign in again on the new ones. The source is read in one transaction, so the copy is of one state of it; the target
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
  secrets: number;
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
    [(await tx.allSecrets()).length, "secret"],
  ];
  const held = counts.filter(([n]) => n > 0).map(([n, what, plural]) => countOf(n, what, plural));
  const lastEvent = await tx.lastEventId();
  if (held.length === 0 && lastEvent > 0) held.push(`a history of events (last id ${lastEvent})`);
  // A key check alone says that a server with a key started on it: its key would then have to
  // be the source's too.
  if (held.length === 0 && await tx.secretKeyCheck() !== undefined) held.push("a secret key check");
  return held;
}

/** Each part of a copy, in the order it is told, and the noun of one of it. */
const PARTS: Record<keyof CopyCounts, string> = {
  manifests: "manifest",
  containers: "container",
  hosts: "host",
  tokens: "token",
  events: "event",
  revisions: "revision",
  rollouts: "rollout",
  secrets: "secret",
};

/** `3 manifests, 12 containers`: the counts of `parts` (every part by default). */
function describe(
  counts: CopyCounts,
  parts = Object.keys(PARTS) as (keyof CopyCounts)[],
): string {
  return parts.map((part) => countOf(counts[part], PARTS[part])).join(", ");
}

/** `copied 3 manifests, 12 containers, ...`: what a copy wrote, in one line. */
export function describeCopy(counts: CopyCounts): string {
  return `copied ${describe(counts)}`;
}

/** Writes each row with `write`, in order, and answers how many there were. */
async function copyRows<Row>(rows: Row[], write: (row: Row) => Promise<void>): Promise<number> {
  for (const row of rows) await write(row);
  return rows.length;
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

      await dst.copyClusterId(src.clusterId());
      const manifests = await copyRows(await src.allManifests(), (row) => dst.copyManifest(row));
      const containers = await copyRows(
        await src.allContainers(),
        (row) => dst.insertContainer(row),
      );

      // Hosts: those with an index, and those registered (a host may have one without the other).
      const indexes = await src.allHostIndexes();
      await copyRows(indexes, (row) => dst.copyHostIndex(row));
      const counter = Math.max(await src.indexCounter(), ...indexes.map((row) => row.idx));
      if (counter > 0) await dst.copyIndexCounter(counter);
      const registered = await src.allHostInfo();
      await copyRows(registered, (row) => dst.upsertHostInfo(row));
      const hosts = new Set([...indexes, ...registered].map((row) => row.name)).size;
      progress(describe({ manifests, containers, hosts } as CopyCounts, [
        "manifests",
        "containers",
        "hosts",
      ]));

      // Oldest first, so that the target lists them in the same order.
      const tokens = await copyRows(await src.allTokens(), (row) => dst.insertToken(row));
      const revisions = await copyRows(await src.allRevisions(), (row) => dst.insertRevision(row));
      const rollouts = await copyRows(await src.allRollouts(), (row) => dst.putRollout(row));
      const secrets = await copyRows(await src.allSecrets(), (row) => dst.putSecret(row));
      const keyCheck = await src.secretKeyCheck();
      if (keyCheck !== undefined) await dst.setSecretKeyCheck(keyCheck);
      progress(describe({ tokens, revisions, rollouts, secrets } as CopyCounts, [
        "tokens",
        "revisions",
        "rollouts",
        "secrets",
      ]));

      let events = 0;
      for (let after = 0;;) {
        const page = await src.firstEvents({
          after,
          since: "",
          manifest: null,
          host: null,
          limit: EVENT_PAGE,
        });
        events += await copyRows(page, (row) => dst.copyEvent(row));
        if (page.length < EVENT_PAGE) break;
        after = page[page.length - 1].id;
      }
      const lastEvent = await src.lastEventId();
      if (lastEvent > 0) await dst.copyLastEventId(lastEvent);
      progress(countOf(events, "event"));
      return { manifests, containers, hosts, tokens, events, revisions, rollouts, secrets };
    })
  );
}
