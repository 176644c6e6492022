/**
 * The container page: its state and spec, its recent events, stop / restart / kill, and its logs
 * followed live (outside the live region, so a refresh never resets them).
 */
import type { FC } from "hono/jsx";
import { stringify } from "yaml";
import type { ContainerStatus, EventRecord, SpecConfig } from "../../../api/schemas.ts";
import { NotFoundError } from "../../../api/errors.ts";
import { toStatus } from "../../container_rows.ts";
import type { Planner } from "../../planner.ts";
import { MAX_LOG_LINES } from "./assets.ts";
import {
  ActionForm,
  Ago,
  containerHref,
  HostLink,
  manifestHref,
  StateBadge,
} from "./components.tsx";
import { EventRows } from "./events_page.tsx";
import type { ViewerInfo } from "./layout.tsx";

/** How many of its events the container page lists. */
const RECENT_EVENTS = 30;
/** How many of the manifest's newest events are searched for the container's. */
const EVENTS_READ = 2000;

/** What the container page shows. */
export interface ContainerView {
  container: ContainerStatus;
  events: EventRecord[];
  lastEventId: number;
}

/** Reads a container's page; `NotFoundError` for an unknown manifest or container. */
export async function readContainerView(
  planner: Planner,
  manifest: string,
  name: string,
): Promise<ContainerView> {
  const page = await planner.events.list({ manifest, limit: EVENTS_READ });
  const events = page.events.filter((e) => e.container === name).slice(-RECENT_EVENTS).reverse();
  const container = await planner.store.transaction(async (tx) => {
    const row = await tx.container(manifest, name);
    if (row === undefined) {
      throw new NotFoundError(
        await tx.hasManifest(manifest)
          ? `container ${name} not found in manifest ${manifest}`
          : `manifest ${manifest} not found`,
      );
    }
    return (await planner.hosts.withLiveness(tx, [toStatus(row)]))[0];
  });
  return { container, events, lastEventId: page.last };
}

/**
 * The spec as written, as YAML; an environment value that is not a string (a reference to a
 * secret) shows as `(secret)`, never its content.
 */
export function specText(config: SpecConfig): string {
  const environment = config.environment;
  if (typeof environment !== "object" || environment === null || Array.isArray(environment)) {
    return stringify(config);
  }
  const shown = Object.fromEntries(
    Object.entries(environment).map(([key, value]) => [
      key,
      typeof value === "string" ? value : "(secret)",
    ]),
  );
  return stringify({ ...config, environment: shown });
}

/** The actions a container page offers, in order. */
const ACTIONS = [
  ["restart", "Restart", undefined],
  ["stop", "Stop", "Stop {name}?"],
  ["kill", "Kill", "Kill {name} at once (SIGKILL)?"],
] as const;

/** The upper live part of the container page: actions and state. */
export const ContainerFacts: FC<{ view: ContainerView; viewer: ViewerInfo; now: number }> = (
  { view, viewer, now },
) => {
  const c = view.container;
  const name = c.config.name;
  return (
    <>
      {viewer.admin && c.host !== ""
        ? (
          <div class="actions">
            {ACTIONS.map(([action, label, confirm]) => (
              <ActionForm
                action={`${containerHref(c.manifestName, name)}/action`}
                csrf={viewer.csrf}
                id={`action-${action}`}
                label={label}
                fields={{ action }}
                danger={action !== "restart"}
                confirm={confirm?.replace("{name}", name)}
              />
            ))}
          </div>
        )
        : null}
      <section class="card" aria-labelledby="state-h">
        <h2 id="state-h">State</h2>
        <dl class="facts" id="facts">
          <dt>State</dt>
          <dd id="state">
            <StateBadge state={c.state} exitCode={c.exitCode} health={c.health} />
          </dd>
          <dt>Desired</dt>
          <dd id="desired">{c.desired}</dd>
          <dt>Host</dt>
          <dd>
            <HostLink host={c.host} />
          </dd>
          <dt>Health</dt>
          <dd>{c.health ?? <span class="muted">no health check</span>}</dd>
          {c.error === undefined ? null : (
            <>
              <dt>Error</dt>
              <dd class="error" id="error">{c.error}</dd>
            </>
          )}
          <dt>Engine id</dt>
          <dd>
            {c.containerId === undefined
              ? <span class="muted">none yet</span>
              : <code>{c.containerId.slice(0, 12)}</code>}
          </dd>
          <dt>Created</dt>
          <dd>
            <Ago at={c.createdAt} now={now} />
          </dd>
          <dt>Last change</dt>
          <dd>
            <Ago at={c.updatedAt} now={now} />
          </dd>
          <dt>Spec hash</dt>
          <dd>
            <code>{c.specHash.slice(0, 12)}</code>
          </dd>
        </dl>
      </section>
    </>
  );
};

/** The lower live part of the container page: its spec and recent events. */
export const ContainerDetails: FC<{ view: ContainerView; now: number }> = ({ view, now }) => (
  <>
    <section class="card" aria-labelledby="spec-h">
      <h2 id="spec-h">Spec</h2>
      <pre class="spec" id="spec">{specText(view.container.config)}</pre>
    </section>
    <section class="card" aria-labelledby="events-h">
      <h2 id="events-h">Recent events</h2>
      {view.events.length === 0
        ? <p class="muted">No event is kept for it.</p>
        : <EventRows events={view.events} now={now} />}
    </section>
  </>
);

/** The container page's log viewer, outside the live regions. */
export const ContainerLogs: FC<{ container: ContainerStatus }> = ({ container }) => {
  const c = container;
  const src = `${containerHref(c.manifestName, c.config.name)}/logs`;
  return (
    <>
      <section class="card" aria-labelledby="logs-h">
        <h2 id="logs-h">Logs</h2>
        <div class="log-controls">
          <label>
            Start with
            <select id="log-tail">
              <option value="100">the last 100 lines</option>
              <option value="1000" selected>the last 1,000 lines</option>
              <option value="all">all lines</option>
            </select>
          </label>
          <label>
            Streams
            <select id="log-stream">
              <option value="all">stdout and stderr</option>
              <option value="stdout">stdout only</option>
              <option value="stderr">stderr only</option>
            </select>
          </label>
          <label class="check">
            <input type="checkbox" id="log-follow" checked />
            Scroll to the newest line
          </label>
          <span id="log-status" class="muted" role="status" aria-live="polite"></span>
        </div>
        <div
          id="log"
          class="log"
          role="log"
          tabindex={0}
          aria-label={`Output of ${c.config.name}, the last ${MAX_LOG_LINES} lines at most`}
          data-src={src}
        >
        </div>
      </section>
    </>
  );
};

/** The heading of the container page, with the way back to its manifest. */
export const ContainerHeading: FC<{ container: ContainerStatus }> = ({ container }) => (
  <h1>
    <a href={manifestHref(container.manifestName)}>{container.manifestName}</a> /{" "}
    {container.config.name}
  </h1>
);
