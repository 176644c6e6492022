/** The manifest page: its containers, the rollout in progress, its revisions, down and re-apply. */
import type { FC } from "hono/jsx";
import type { ContainerStatus, EventRecord, Rollout } from "../../../api/schemas.ts";
import { NotFoundError } from "../../../api/errors.ts";
import type { Planner } from "../../planner.ts";
import { rolloutOf } from "../../rollouts.ts";
import type { RevisionEntryRow } from "../../store/store.ts";
import {
  ActionForm,
  Ago,
  containerHref,
  HostLink,
  manifestHref,
  StateBadge,
} from "./components.tsx";
import type { ViewerInfo } from "./layout.tsx";

/** What the manifest page shows. */
export interface ManifestView {
  name: string;
  /** Empty once the manifest is down (its revisions are kept). */
  containers: ContainerStatus[];
  rollout?: Rollout;
  revisions: RevisionEntryRow[];
  /** Restarts by container name, counted in the kept event history. */
  restarts: Map<string, number>;
  lastEventId: number;
}

/** How many of a manifest's newest events the restart counts read. */
const RESTART_EVENTS = 5000;

/** Reads a manifest's page in one transaction; `NotFoundError` when nothing of it is known. */
export async function readManifestView(planner: Planner, name: string): Promise<ManifestView> {
  const { events } = await planner.events.list({ manifest: name, limit: RESTART_EVENTS });
  const restarts = restartCounts(events);
  return await planner.store.transaction(async (tx) => {
    const lastEventId = await tx.lastEventId();
    const revisions = await tx.revisionsOf(name);
    const exists = await tx.hasManifest(name);
    if (!exists && revisions.length === 0) throw new NotFoundError(`manifest ${name} not found`);
    const containers = exists ? await planner.ps(name, tx) : [];
    const row = exists ? await tx.rollout(name) : undefined;
    const view: ManifestView = { name, containers, revisions, restarts, lastEventId };
    if (row !== undefined) view.rollout = rolloutOf(row);
    return view;
  });
}

const RolloutLine: FC<{ rollout: Rollout; now: number }> = ({ rollout, now }) => (
  <section class="card" aria-labelledby="rollout-h" id="rollout">
    <h2 id="rollout-h">Rollout {rollout.status}</h2>
    <p>
      {rollout.revision === undefined ? null : <>revision {rollout.revision}:</>}
      batch {rollout.batch} of {rollout.batches}, {rollout.done} of {rollout.containers}{" "}
      containers replaced, started <Ago at={rollout.startedAt} now={now} />
    </p>
    {rollout.error === undefined ? null : (
      <p class="error">
        {rollout.failed === undefined ? null : <>{rollout.failed}:</>}
        {rollout.error}
      </p>
    )}
  </section>
);

/** The main area of a manifest's page. */
export const ManifestPage: FC<{ view: ManifestView; viewer: ViewerInfo; now: number }> = (
  { view, viewer, now },
) => {
  const { name, containers, rollout, revisions } = view;
  const base = manifestHref(name);
  const latest = revisions[0]?.number;
  return (
    <>
      <h1>Manifest {name}</h1>
      {viewer.admin
        ? (
          <div class="actions">
            {latest === undefined ? null : (
              <ActionForm
                action={`${base}/apply`}
                csrf={viewer.csrf}
                id="reapply"
                label={`Re-apply revision ${latest}`}
                fields={{ revision: String(latest) }}
              />
            )}
            {containers.length === 0 ? null : (
              <ActionForm
                action={`${base}/down`}
                csrf={viewer.csrf}
                id="down"
                label="Down"
                danger
                confirm={`Remove every container of ${name}?`}
              />
            )}
          </div>
        )
        : null}
      {rollout === undefined || rollout.status === "superseded"
        ? null
        : <RolloutLine rollout={rollout} now={now} />}
      <section class="card" aria-labelledby="containers-h">
        <h2 id="containers-h">Containers</h2>
        {containers.length === 0
          ? <p class="muted">Not applied: it runs nothing. Its revisions are kept below.</p>
          : (
            <div class="scroll">
              <table id="containers">
                <thead>
                  <tr>
                    <th>Container</th>
                    <th>Host</th>
                    <th>State</th>
                    <th class="hide-narrow">Desired</th>
                    <th class="hide-narrow">Health</th>
                    <th class="num hide-narrow">Restarts</th>
                    <th>Age</th>
                    <th>Error</th>
                  </tr>
                </thead>
                <tbody>
                  {containers.map((c) => (
                    <tr data-container={c.config.name}>
                      <td>
                        <a href={containerHref(name, c.config.name)}>{c.config.name}</a>
                      </td>
                      <td>
                        <HostLink host={c.host} />
                      </td>
                      <td>
                        <StateBadge state={c.state} exitCode={c.exitCode} health={c.health} />
                      </td>
                      <td class="hide-narrow">{c.desired}</td>
                      <td class="hide-narrow">{c.health ?? <span class="muted">-</span>}</td>
                      <td class="num hide-narrow">{view.restarts.get(c.config.name) ?? 0}</td>
                      <td>
                        <Ago at={c.createdAt} now={now} />
                      </td>
                      <td class="error">{c.error ?? ""}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
      </section>
      <section class="card" aria-labelledby="revisions-h">
        <h2 id="revisions-h">Revisions</h2>
        {revisions.length === 0 ? <p class="muted">No revision is stored.</p> : (
          <div class="scroll">
            <table id="revisions">
              <thead>
                <tr>
                  <th class="num">Revision</th>
                  <th>Applied</th>
                  <th class="hide-narrow">By</th>
                  {viewer.admin ? <th>Action</th> : null}
                </tr>
              </thead>
              <tbody>
                {revisions.map((r) => (
                  <tr>
                    <td class="num">
                      {r.number}
                      {r.number === latest ? <span class="muted">&nbsp;(current)</span> : null}
                    </td>
                    <td>
                      <Ago at={r.at} now={now} />
                    </td>
                    <td class="hide-narrow">{r.actor}</td>
                    {viewer.admin
                      ? (
                        <td>
                          {r.number === latest ? null : (
                            <ActionForm
                              action={`${base}/apply`}
                              csrf={viewer.csrf}
                              id={`rollback-${r.number}`}
                              label={`Roll back to ${r.number}`}
                              fields={{ revision: String(r.number) }}
                              confirm={`Re-apply revision ${r.number} of ${name}?`}
                            />
                          )}
                        </td>
                      )
                      : null}
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>
    </>
  );
};

/** States a start from which is a first start, not a restart. */
const FIRST_STARTS = new Set(["pending", "pulling", "created", "unknown"]);

/** Whether a state event is a restart: back to running from a stop, exit or restart. */
function isRestart(e: EventRecord): boolean {
  if (e.kind !== "state" || e.to === undefined || e.from === undefined) return false;
  return e.to.startsWith("running") && !e.from.startsWith("running") && !FIRST_STARTS.has(e.from);
}

/** Restarts per container, counted in the kept event history. */
export function restartCounts(events: EventRecord[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const e of events) {
    if (e.container !== undefined && isRestart(e)) {
      counts.set(e.container, (counts.get(e.container) ?? 0) + 1);
    }
  }
  return counts;
}
