/**
 * The web UI, served at `/` beside the API: server-rendered pages (hono/jsx), sign-in with a token
 * into a session cookie, forms that change something (CSRF-checked, admin only), and server-sent
 * events that keep open pages current and follow a container's logs. Outside `/api/v1`, so the
 * API's Bearer access check does not apply here: every route checks its session itself.
 */
import { type Context, Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { html } from "hono/html";
import type { Child } from "hono/jsx";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import * as v from "valibot";
import { ForbiddenError, NotFoundError, UnauthorizedError } from "../../../api/errors.ts";
import { type Action, ACTIONS } from "../../../api/schemas.ts";
import type { Clock } from "../../../clock.ts";
import { LauncherError } from "../../../errors.ts";
import { HostSchema, InstanceNameSchema, NameSchema } from "../../../manifest/schema.ts";
import type { Principal, TokenAuth } from "../../auth.ts";
import { actorName } from "../../events.ts";
import type { Planner } from "../../planner.ts";
import { sameSecret } from "../../ui_sessions.ts";
import type { AppEnv } from "../env.ts";
import { UI_CSS, UI_JS } from "./assets.ts";
import { containerHref, manifestHref } from "./components.tsx";
import {
  ContainerDetails,
  ContainerFacts,
  ContainerHeading,
  ContainerLogs,
  readContainerView,
} from "./container_page.tsx";
import { EventsFeed, EventsFilter, readEventsView } from "./events_page.tsx";
import { HostsPage, readHostsView } from "./hosts_page.tsx";
import { Layout, Live, type Section } from "./layout.tsx";
import { liveChanges } from "./live_changes.ts";
import { logStream } from "./log_stream.ts";
import { ErrorPage, LoginPage } from "./login_page.tsx";
import { ManifestPage, readManifestView } from "./manifest_page.tsx";
import { OverviewPage } from "./overview_page.tsx";
import { readOverview } from "./overview_data.ts";
import { reapply } from "./reapply.ts";
import {
  authorizeChange,
  clearSessionCookie,
  formFields,
  requireSameOrigin,
  setSessionCookie,
  type SignedIn,
  signedIn,
} from "./session_guard.ts";
import { sseResponse } from "./sse.ts";

/** What the web UI needs. */
export interface UiDeps {
  planner: Planner;
  /** The API's token auth: sessions' tokens are checked against it on every request. */
  auth: TokenAuth;
  /** What the pages' "12 s ago" are judged by (sessions' ages by the planner's clock). */
  clock: Clock;
}

/** The largest form a UI route accepts. */
export const MAX_FORM_BYTES = 16 * 1024;

/** Headers of every page: no framing, no inline script, nothing cached, nothing sniffed. */
const PAGE_HEADERS: Record<string, string> = {
  "content-security-policy": "default-src 'self'; script-src 'self'; style-src 'self'; " +
    "img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; form-action 'self'; " +
    "base-uri 'none'",
  "x-content-type-options": "nosniff",
  "x-frame-options": "DENY",
  "referrer-policy": "same-origin",
  "cache-control": "no-store",
};

/** The part of a page after sign-in: its title, section and main content. */
interface PageParts {
  title: string;
  section: Section;
  body: Child;
}

/**
 * A page's path to come back to after signing in: local paths only (not `//host` nor `/\host`,
 * which browsers take for another site).
 */
function nextPath(value: string | undefined): string {
  return value !== undefined && /^\/(?![/\\])[\x21-\x7e]*$/.test(value) ? value : "/";
}

/** A route parameter that must be a manifest, container or host name. */
function named(schema: v.GenericSchema<string>, value: string | undefined, what: string): string {
  if (value === undefined || !v.is(schema, value)) {
    throw new NotFoundError(`no ${what} is named ${value ?? ""}`);
  }
  return value;
}

/**
 * The answer to a browser asking for a page that does not exist (outside the API, accepting HTML):
 * a page with the way back, instead of the API's JSON. Undefined for any other request.
 */
export function uiNotFound(c: Context): Response | Promise<Response> | undefined {
  if (c.req.path.startsWith("/api/") || !(c.req.header("accept") ?? "").includes("text/html")) {
    return undefined;
  }
  return c.html(
    html`<!doctype html>${(
      <Layout title="Not found" section="none">
        <ErrorPage status={404} message={`There is no page at ${c.req.path}`} />
      </Layout>
    )}`,
    404,
    PAGE_HEADERS,
  );
}

/** The web UI's routes, to mount at `/` before the API's base path. */
export function uiRoutes(deps: UiDeps) {
  const { planner, auth, clock } = deps;
  const now = () => clock.now();
  const sessions = planner.sessions;
  const formLimit = bodyLimit({
    maxSize: MAX_FORM_BYTES,
    onError: (c) => c.text(`form is larger than ${MAX_FORM_BYTES} bytes`, 413),
  });

  const respond = (c: Context, body: Child, status: ContentfulStatusCode = 200) =>
    c.html(html`<!doctype html>${body}`, status, PAGE_HEADERS);

  const errorPage = (c: Context, error: LauncherError, signed?: SignedIn) =>
    respond(
      c,
      <Layout title="Error" section="none" viewer={signed?.viewer}>
        <ErrorPage status={error.status} message={error.message} />
      </Layout>,
      error.status as ContentfulStatusCode,
    );

  /** Answers an error meant as an answer with its page; anything else is the app's 500. */
  const orErrorPage = async (
    c: Context,
    signed: SignedIn | undefined,
    fn: () => Promise<Response>,
  ): Promise<Response> => {
    try {
      return await fn();
    } catch (error) {
      if (error instanceof LauncherError && error.status !== 500) {
        return errorPage(c, error, signed);
      }
      throw error;
    }
  };

  /**
   * A page for signed-in users: without a session, the way to sign in. With the fragment header
   * (the script's refresh) only the main content is answered.
   */
  const page = (parts: (c: Context, signed: SignedIn) => Promise<PageParts>) => {
    return async (c: Context) => {
      const signed = await signedIn(c, sessions, auth);
      if (signed === undefined) {
        if (c.req.header("x-launcher-fragment") !== undefined) return c.text("sign in", 401);
        const url = new URL(c.req.url);
        return c.redirect(`/login?next=${encodeURIComponent(url.pathname + url.search)}`, 303);
      }
      return await orErrorPage(c, signed, async () => {
        const { title, section, body } = await parts(c, signed);
        if (c.req.header("x-launcher-fragment") !== undefined) return respond(c, <>{body}</>);
        return respond(
          c,
          <Layout title={title} section={section} viewer={signed.viewer}>{body}</Layout>,
        );
      });
    };
  };

  /**
   * A form that changes something: signed in, same origin, the session's CSRF token, an admin
   * token; then `act`, whose answer is where to go next (303).
   */
  const change = (
    what: string,
    act: (c: Context, signed: SignedIn, fields: Record<string, string>) => Promise<string>,
  ) => {
    return async (c: Context) => {
      const signed = await signedIn(c, sessions, auth);
      return await orErrorPage(c, signed, async () => {
        if (signed === undefined) {
          throw new UnauthorizedError("not signed in, or the session ended: sign in again");
        }
        const fields = await formFields(c);
        authorizeChange(c, signed, fields, what);
        return c.redirect(await act(c, signed, fields), 303);
      });
    };
  };

  return new Hono<AppEnv>()
    .get("/assets/ui.css", (c) =>
      c.body(UI_CSS, 200, {
        "content-type": "text/css; charset=utf-8",
        "cache-control": "no-cache",
      }))
    .get("/assets/ui.js", (c) =>
      c.body(UI_JS, 200, {
        "content-type": "text/javascript; charset=utf-8",
        "cache-control": "no-cache",
      }))
    .get("/login", async (c) => {
      if (await signedIn(c, sessions, auth) !== undefined) {
        return c.redirect(nextPath(c.req.query("next")), 303);
      }
      return respond(
        c,
        <Layout title="Sign in" section="none">
          <LoginPage next={nextPath(c.req.query("next"))} />
        </Layout>,
      );
    })
    .post("/login", formLimit, async (c) => {
      return await orErrorPage(c, undefined, async () => {
        requireSameOrigin(c);
        const fields = await formFields(c);
        const next = nextPath(fields.next);
        const token = (fields.token ?? "").trim();
        const refuse = (message: string, status: ContentfulStatusCode) =>
          respond(
            c,
            <Layout title="Sign in" section="none">
              <LoginPage next={next} error={message} />
            </Layout>,
            status,
          );
        if (token === "") return refuse("Give a token.", 401);
        let principal: Principal;
        try {
          principal = await auth.authenticate(token);
        } catch (error) {
          if (error instanceof LauncherError && error.status === 401) {
            return refuse(`That token does not sign in: ${error.message}.`, 401);
          }
          throw error;
        }
        const role = principal.role;
        if (role !== "admin" && role !== "read") {
          return refuse(`A token of role ${role} cannot sign in: use an admin or read token.`, 403);
        }
        // The session keeps the token's id, never the token.
        const session = await sessions.create(principal.tokenId);
        setSessionCookie(c, session, sessions.maxAgeMs);
        return c.redirect(next, 303);
      });
    })
    .post("/logout", formLimit, async (c) => {
      const signed = await signedIn(c, sessions, auth);
      return await orErrorPage(c, signed, async () => {
        if (signed !== undefined) {
          requireSameOrigin(c);
          const fields = await formFields(c);
          if (fields.csrf === undefined || !sameSecret(fields.csrf, signed.session.csrf)) {
            throw new ForbiddenError("the form's CSRF token is missing or stale: reload the page");
          }
          await sessions.delete(signed.session.id);
        }
        clearSessionCookie(c);
        return c.redirect("/login", 303);
      });
    })
    .get(
      "/",
      page(async () => {
        const overview = await readOverview(planner);
        return {
          title: "Overview",
          section: "overview",
          body: (
            <Live id="live" after={overview.lastEventId}>
              <OverviewPage overview={overview} now={now()} />
            </Live>
          ),
        };
      }),
    )
    .get(
      "/hosts",
      page(async (_c, signed) => {
        const view = await readHostsView(planner);
        return {
          title: "Hosts",
          section: "hosts",
          body: (
            <>
              <h1>Hosts</h1>
              <Live id="live" after={view.lastEventId}>
                <HostsPage view={view} viewer={signed.viewer} now={now()} />
              </Live>
            </>
          ),
        };
      }),
    )
    .get(
      "/events",
      page(async (c) => {
        const filter = (name: string) => {
          const value = c.req.query(name)?.trim();
          return value === undefined || value === "" ? undefined : value.slice(0, 253);
        };
        const query = { manifest: filter("manifest"), host: filter("host") };
        const view = await readEventsView(planner, {
          ...(query.manifest === undefined ? {} : { manifest: query.manifest }),
          ...(query.host === undefined ? {} : { host: query.host }),
        });
        return {
          title: "Events",
          section: "events",
          body: (
            <>
              <h1>Events</h1>
              <EventsFilter view={view} />
              <Live id="live" after={view.lastEventId}>
                <EventsFeed view={view} now={now()} />
              </Live>
            </>
          ),
        };
      }),
    )
    .get(
      "/manifests/:name",
      page(async (c, signed) => {
        const name = named(NameSchema, c.req.param("name"), "manifest");
        const view = await readManifestView(planner, name);
        return {
          title: name,
          section: "none",
          body: (
            <Live id="live" after={view.lastEventId}>
              <ManifestPage view={view} viewer={signed.viewer} now={now()} />
            </Live>
          ),
        };
      }),
    )
    .get(
      "/manifests/:name/containers/:container",
      page(async (c, signed) => {
        const manifest = named(NameSchema, c.req.param("name"), "manifest");
        const name = named(InstanceNameSchema, c.req.param("container"), "container");
        const view = await readContainerView(planner, manifest, name);
        const at = now();
        return {
          title: `${manifest}/${name}`,
          section: "none",
          body: (
            <>
              <ContainerHeading container={view.container} />
              <Live id="live-state" after={view.lastEventId}>
                <ContainerFacts view={view} viewer={signed.viewer} now={at} />
              </Live>
              <ContainerLogs container={view.container} />
              <Live id="live-details" after={view.lastEventId}>
                <ContainerDetails view={view} now={at} />
              </Live>
            </>
          ),
        };
      }),
    )
    .post(
      "/manifests/:name/down",
      formLimit,
      change("down", async (c, signed) => {
        const name = named(NameSchema, c.req.param("name"), "manifest");
        await planner.down(name, actorName(signed.principal));
        return manifestHref(name);
      }),
    )
    .post(
      "/manifests/:name/apply",
      formLimit,
      change("re-apply", async (c, signed, fields) => {
        const name = named(NameSchema, c.req.param("name"), "manifest");
        const revision = Number(fields.revision);
        if (!Number.isSafeInteger(revision) || revision < 1) {
          throw new NotFoundError(`manifest ${name} has no revision ${fields.revision ?? ""}`);
        }
        await reapply(planner, name, revision, actorName(signed.principal));
        return manifestHref(name);
      }),
    )
    .post(
      "/manifests/:name/containers/:container/action",
      formLimit,
      change("a container action", async (c, signed, fields) => {
        const manifest = named(NameSchema, c.req.param("name"), "manifest");
        const container = named(InstanceNameSchema, c.req.param("container"), "container");
        const action = fields.action as Action;
        if (!ACTIONS.includes(action) || action === "rm") {
          throw new NotFoundError(`no container action is named ${fields.action ?? ""}`);
        }
        const row = await planner.store.container(manifest, container);
        if (row === undefined) {
          throw new NotFoundError(`container ${container} not found in manifest ${manifest}`);
        }
        await planner.action(
          { action, host: row.host, container, manifest },
          actorName(signed.principal),
        );
        return containerHref(manifest, container);
      }),
    )
    .post(
      "/hosts/:name/drain",
      formLimit,
      change("drain", async (c, signed) => {
        const host = named(HostSchema, c.req.param("name"), "host");
        await planner.drainHost(host, actorName(signed.principal));
        return `/hosts#host-${encodeURIComponent(host)}`;
      }),
    )
    .get("/live", async (c) => {
      const signed = await signedIn(c, sessions, auth);
      if (signed === undefined) return c.text("sign in", 401);
      const after = Number(c.req.query("after"));
      return sseResponse(c.req.raw.signal, (send, signal) =>
        liveChanges({
          planner,
          after: Number.isSafeInteger(after) && after >= 0 ? after : undefined,
          stillSignedIn: async () => await signedIn(c, sessions, auth) !== undefined,
          send,
          signal,
          clock,
        }));
    })
    .get("/manifests/:name/containers/:container/logs", async (c) => {
      const signed = await signedIn(c, sessions, auth);
      if (signed === undefined) return c.text("sign in", 401);
      const tail = Number(c.req.query("tail"));
      const stream = c.req.query("stream");
      return sseResponse(c.req.raw.signal, (send, signal) =>
        logStream({
          planner,
          manifest: c.req.param("name"),
          container: named(InstanceNameSchema, c.req.param("container"), "container"),
          ...(Number.isSafeInteger(tail) && tail >= 0 ? { tail } : {}),
          ...(stream === "stdout" || stream === "stderr" ? { only: stream } : {}),
          send,
          signal,
        }));
    });
}
