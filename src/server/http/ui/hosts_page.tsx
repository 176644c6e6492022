/** The hosts page: each host's labels, CPUs and memory, versions, last seen, containers; drain. */
import type { FC } from "hono/jsx";
import type { HostStatus } from "../../../api/schemas.ts";
import type { Planner } from "../../planner.ts";
import { ActionForm, Ago, bytesText, containerHref, StateBadge } from "./components.tsx";
import type { ViewerInfo } from "./layout.tsx";
import { type ContainerLine, containerLine, isLost } from "./overview_data.ts";

/** What the hosts page shows. */
export interface HostsView {
  hosts: HostStatus[];
  /** Containers by host name. */
  containers: Map<string, ContainerLine[]>;
  lastEventId: number;
}

/** Reads every host with its containers, in one transaction. */
export function readHostsView(planner: Planner): Promise<HostsView> {
  return planner.store.transaction(async (tx) => {
    const lastEventId = await tx.lastEventId();
    const hosts = await planner.hosts.list(tx);
    const lost = new Set(hosts.filter(isLost).map((h) => h.name));
    const containers = new Map<string, ContainerLine[]>();
    for (const c of (await tx.containerStates()).map((row) => containerLine(row, lost))) {
      const list = containers.get(c.host);
      if (list === undefined) containers.set(c.host, [c]);
      else list.push(c);
    }
    return { hosts, containers, lastEventId };
  });
}

const STATUS_TONE: Record<string, string> = { online: "good", draining: "warn", offline: "bad" };

const HostCard: FC<{
  host: HostStatus;
  containers: ContainerLine[];
  viewer: ViewerInfo;
  now: number;
}> = ({ host, containers, viewer, now }) => (
  <section
    class="card"
    id={`host-${host.name}`}
    data-host={host.name}
    aria-labelledby={`host-h-${host.name}`}
  >
    <h2 id={`host-h-${host.name}`}>
      {host.name} <span class={`state ${STATUS_TONE[host.status] ?? ""}`}>{host.status}</span>
    </h2>
    <dl class="facts">
      <dt>Last seen</dt>
      <dd>
        <Ago at={host.lastSeen} now={now} />
      </dd>
      <dt>Labels</dt>
      <dd class="labels">
        {Object.keys(host.labels).length === 0
          ? <span class="muted">none</span>
          : Object.entries(host.labels).map(([k, v]) => <code key={k}>{k}={v}</code>)}
      </dd>
      <dt>CPUs, memory</dt>
      <dd>
        {host.cpus === undefined ? "?" : host.cpus} CPUs,{" "}
        {host.memory === undefined ? "?" : bytesText(host.memory)}
      </dd>
      <dt>Engine</dt>
      <dd>{host.engineVersion ?? <span class="muted">not registered</span>}</dd>
      <dt>Agent</dt>
      <dd>{host.agentVersion ?? <span class="muted">not registered</span>}</dd>
      {host.os === undefined ? null : (
        <>
          <dt>System</dt>
          <dd>
            {host.os} {host.arch ?? ""}
          </dd>
        </>
      )}
      <dt>Containers</dt>
      <dd>
        {host.containers.running} running of {host.containers.total}
      </dd>
    </dl>
    {containers.length === 0 ? null : (
      <ul class="failing">
        {containers.map((c) => (
          <li>
            <a href={containerHref(c.manifest, c.name)}>
              {c.manifest}/{c.name}
            </a>{" "}
            <StateBadge state={c.state} exitCode={c.exitCode} health={c.health} />
          </li>
        ))}
      </ul>
    )}
    {viewer.admin && !host.draining
      ? (
        <div class="actions">
          <ActionForm
            action={`/hosts/${encodeURIComponent(host.name)}/drain`}
            csrf={viewer.csrf}
            id={`drain-${host.name}`}
            label="Drain"
            danger
            confirm={`Drain ${host.name}? Its containers move or are removed.`}
          />
        </div>
      )
      : null}
  </section>
);

/** The main area of the hosts page. */
export const HostsPage: FC<{ view: HostsView; viewer: ViewerInfo; now: number }> = (
  { view, viewer, now },
) => (
  <>
    {view.hosts.length === 0 ? <p class="muted">No host is known yet.</p> : null}
    {view.hosts.map((host) => (
      <HostCard
        host={host}
        containers={view.containers.get(host.name) ?? []}
        viewer={viewer}
        now={now}
      />
    ))}
  </>
);
