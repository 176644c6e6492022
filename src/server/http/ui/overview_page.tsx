/** The overview page: hosts by status, manifests with their counts, and what fails first. */
import type { FC } from "hono/jsx";
import { Ago, containerHref, hostHref, HostLink, manifestHref, StateBadge } from "./components.tsx";
import type { Rollout } from "../../../api/schemas.ts";
import type { FailingContainer, FailingKind, Overview } from "./overview_data.ts";

/** How many failing containers the overview lists; the manifest pages show the rest. */
export const MAX_FAILING_SHOWN = 50;

/** What a failing container's line says beside its state, when the state does not say it. */
const KIND_TEXT: Record<FailingKind, string> = {
  failed: "on",
  unhealthy: "on",
  pending: "for",
  unknown: "(host offline) on",
};

const FailingItem: FC<{ item: FailingContainer; now: number }> = ({ item, now }) => {
  const c = item.container;
  return (
    <li>
      <a href={containerHref(c.manifest, c.name)}>
        {c.manifest}/{c.name}
      </a>{" "}
      <StateBadge state={c.state} exitCode={c.exitCode} health={c.health} />{" "}
      <span class="muted">{KIND_TEXT[item.kind]}</span> <HostLink host={c.host} />{" "}
      <span class="muted">
        since <Ago at={c.updatedAt} now={now} />
      </span>
      {c.error === undefined ? null : <div class="error">{c.error}</div>}
    </li>
  );
};

/** A manifest's rollout in a word: in progress, or stopped by a failure; else nothing. */
const RolloutCell: FC<{ rollout?: Rollout }> = ({ rollout }) => {
  if (rollout === undefined) return <span class="muted">-</span>;
  const at = `batch ${rollout.batch}/${rollout.batches}`;
  switch (rollout.status) {
    case "running":
      return <span>{at}</span>;
    case "paused":
      return <span class="error">paused at {at}</span>;
    case "rolled-back":
      return <span class="error">rolled back at {at}</span>;
    default:
      return <span class="muted">-</span>;
  }
};

/** The main area of the overview. */
export const OverviewPage: FC<{ overview: Overview; now: number }> = ({ overview, now }) => {
  const { hosts, manifests, failing, offlineHosts } = overview;
  const count = (status: string) => hosts.filter((h) => h.status === status).length;
  const shown = failing.slice(0, MAX_FAILING_SHOWN);
  return (
    <>
      <h1>Overview</h1>
      <section class="card" aria-labelledby="failing-h">
        <h2 id="failing-h">Needs attention</h2>
        {shown.length === 0 && offlineHosts.length === 0
          ? <p class="muted" id="all-well">Nothing is failing.</p>
          : (
            <ul class="failing" id="failing">
              {shown.map((item) => (
                <FailingItem
                  key={`${item.container.manifest}/${item.container.name}`}
                  item={item}
                  now={now}
                />
              ))}
              {failing.length > shown.length
                ? <li class="muted">and {failing.length - shown.length} more</li>
                : null}
              {offlineHosts.map((h) => (
                <li>
                  host <a href={hostHref(h.name)}>{h.name}</a>{" "}
                  <span class="state bad">offline</span>{" "}
                  <span class="muted">
                    last seen <Ago at={h.lastSeen} now={now} />
                  </span>
                </li>
              ))}
            </ul>
          )}
      </section>
      <section class="card" aria-labelledby="hosts-h">
        <h2 id="hosts-h">
          <a href="/hosts">Hosts</a>
        </h2>
        <ul class="counts" id="host-counts">
          <li>
            <strong>{count("online")}</strong>online
          </li>
          <li>
            <strong>{count("draining")}</strong>draining
          </li>
          <li>
            <strong>{count("offline")}</strong>offline
          </li>
        </ul>
      </section>
      <section class="card" aria-labelledby="manifests-h">
        <h2 id="manifests-h">Manifests</h2>
        {manifests.length === 0
          ? <p class="muted">No manifest is applied.</p>
          : (
            <div class="scroll">
              <table id="manifests">
                <thead>
                  <tr>
                    <th>Manifest</th>
                    <th class="num">Running / desired</th>
                    <th class="num">Failing</th>
                    <th class="hide-narrow">Rollout</th>
                    <th class="hide-narrow">Applied</th>
                  </tr>
                </thead>
                <tbody>
                  {manifests.map((m) => (
                    <tr data-manifest={m.name}>
                      <td>
                        <a href={manifestHref(m.name)}>{m.name}</a>
                      </td>
                      <td class="num">
                        <span class={m.running < m.desired ? "state warn" : "state good"}>
                          {m.running} / {m.desired}
                        </span>
                      </td>
                      <td class={m.failing > 0 ? "num error" : "num"}>{m.failing}</td>
                      <td class="hide-narrow">
                        <RolloutCell rollout={m.rollout} />
                      </td>
                      <td class="hide-narrow">
                        <Ago at={m.updatedAt} now={now} />
                      </td>
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
