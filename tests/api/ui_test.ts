/**
 * The web UI in-process (app.request): sign-in into a session cookie, what each role sees, the
 * checks every form that changes something passes (CSRF, origin, admin), sessions ended by
 * sign-out, revocation and idleness, live changes over server-sent events, and the Bearer API
 * untouched by all of it.
 */
import assert from "node:assert/strict";
import { SecretBox } from "../../src/server/secret_box.ts";
import { type Harness, openHarness, registration, SHOP_YAML } from "./harness.ts";
import { get, post, signIn } from "./ui_browser.ts";

/** A token made through the API with a role (read or agent). */
async function tokenFor(
  h: Harness,
  role: "read" | "agent",
): Promise<{ id: string; token: string }> {
  const res = await h.call(
    "POST",
    "/tokens",
    role === "agent" ? { role, host: "host-a" } : { role },
  );
  assert.equal(res.status, 201);
  return await res.json() as { id: string; token: string };
}

/** The desired state of shop's web, through the API. */
async function webDesired(h: Harness): Promise<string | undefined> {
  return (await h.ps()).find((c) => c.manifestName === "shop" && c.config.name === "web")?.desired;
}

Deno.test("sign-in: a session cookie for a good token, a message for a wrong one", async () => {
  const h = await openHarness();
  try {
    const anonymous = await h.app.request("/manifests/shop");
    assert.equal(anonymous.status, 303);
    assert.equal(anonymous.headers.get("location"), "/login?next=%2Fmanifests%2Fshop");

    const wrong = await post(h, "/login", { token: "nope", next: "/" });
    assert.equal(wrong.status, 401);
    assert.equal(wrong.headers.get("set-cookie"), null);
    assert.match(await wrong.text(), /That token does not sign in: invalid token/);

    const agent = await tokenFor(h, "agent");
    const refused = await post(h, "/login", { token: agent.token, next: "/" });
    assert.equal(refused.status, 403);
    assert.match(await refused.text(), /role agent cannot sign in/);

    const ok = await post(h, "/login", { token: h.token, next: "/events" });
    assert.equal(ok.status, 303);
    assert.equal(ok.headers.get("location"), "/events");
    const cookie = ok.headers.get("set-cookie") ?? "";
    assert.match(cookie, /^launcher_session=[A-Za-z0-9_-]{43};/);
    assert.match(cookie, /HttpOnly/);
    assert.match(cookie, /SameSite=Strict/);
    assert.doesNotMatch(cookie, /Secure/, "plain HTTP: a Secure cookie would never come back");
    assert.ok(!cookie.includes(h.token), "the cookie never holds the token");

    const tls = await post(h, "/login", { token: h.token, next: "/" }, {}, "https://ctl.example");
    assert.match(tls.headers.get("set-cookie") ?? "", /; Secure/);

    for (const next of ["//evil.example/", "/\\evil.example/", "https://evil.example/"]) {
      const offsite = await post(h, "/login", { token: h.token, next });
      assert.equal(offsite.headers.get("location"), "/", `only local paths, not ${next}`);
    }
    const local = await post(h, "/login", { token: h.token, next: "/events?host=host-a" });
    assert.equal(local.headers.get("location"), "/events?host=host-a");
  } finally {
    await h.close();
  }
});

Deno.test("an admin's pages carry actions; a read token's carry none and its posts get 403", async () => {
  const h = await openHarness();
  try {
    await h.up(SHOP_YAML);
    const admin = await signIn(h, h.token);
    const reader = await signIn(h, (await tokenFor(h, "read")).token);
    const pages = ["/", "/manifests/shop", "/manifests/shop/containers/web", "/hosts", "/events"];
    for (const path of pages) {
      const adminPage = await get(h, admin, path);
      assert.equal(adminPage.status, 200, path);
      assert.match(adminPage.headers.get("content-security-policy") ?? "", /script-src 'self'/);
      const readPage = await (await get(h, reader, path)).text();
      // The sign-out form is the only form that posts.
      assert.equal(readPage.match(/method="post"/g)?.length, 1, `${path} for a read token`);
    }
    const adminContainer = await (await get(h, admin, "/manifests/shop/containers/web")).text();
    for (const id of ["action-restart", "action-stop", "action-kill"]) {
      assert.match(adminContainer, new RegExp(`id="${id}"`));
    }
    assert.match(await (await get(h, admin, "/manifests/shop")).text(), /id="down"/);
    assert.match(await (await get(h, admin, "/hosts")).text(), /id="drain-host-a"/);

    // A read session's own CSRF token and cookie: only the role is wrong.
    const forged = await post(
      h,
      "/manifests/shop/containers/web/action",
      { csrf: reader.csrf, action: "stop" },
      { cookie: reader.cookie },
    );
    assert.equal(forged.status, 403);
    assert.match(
      await forged.text(),
      /token has role read, but a container action needs role admin/,
    );
    for (const path of ["/manifests/shop/down", "/hosts/host-a/drain"]) {
      const res = await post(h, path, { csrf: reader.csrf }, { cookie: reader.cookie });
      assert.equal(res.status, 403, path);
    }
    assert.equal(await webDesired(h), "running");
    assert.equal((await h.ps()).length, 2, "nothing was taken down");
  } finally {
    await h.close();
  }
});

Deno.test("the overview shows what ps shows: unknown on a host that went offline", async () => {
  const h = await openHarness();
  try {
    await h.up(SHOP_YAML);
    const register = await h.call("POST", "/hosts/register", registration("host-a"));
    assert.equal(register.status, 200);
    await h.call("GET", "/container?host=host-a");
    const admin = await signIn(h, h.token);
    const fresh = await (await get(h, admin, "/")).text();
    assert.doesNotMatch(fresh, /shop\/web/, "nothing fails while host-a is online");
    h.clock.advance(10_000);
    const web = (await h.ps()).find((c) => c.config.name === "web");
    assert.equal(web?.state, "unknown");
    const page = await (await get(h, admin, "/")).text();
    assert.match(page, /shop\/web<\/a> <span class="state bad" data-state="unknown">/);
    assert.match(
      page,
      /host <a href="\/hosts#host-host-a">host-a<\/a> <span class="state bad">offline/,
    );
    assert.doesNotMatch(page, /shop\/db/, "host-b was never seen: its container stays pending");
  } finally {
    await h.close();
  }
});

Deno.test("a change needs the session's CSRF token and this origin", async () => {
  const h = await openHarness();
  try {
    await h.up(SHOP_YAML);
    const admin = await signIn(h, h.token);
    const path = "/manifests/shop/containers/web/action";
    const noToken = await post(h, path, { action: "stop" }, { cookie: admin.cookie });
    assert.equal(noToken.status, 403);
    assert.match(await noToken.text(), /CSRF token is missing or stale/);
    const wrongToken = await post(h, path, { action: "stop", csrf: "x".repeat(43) }, {
      cookie: admin.cookie,
    });
    assert.equal(wrongToken.status, 403);
    const otherSite = await post(h, path, { action: "stop", csrf: admin.csrf }, {
      cookie: admin.cookie,
      origin: "https://evil.example",
    });
    assert.equal(otherSite.status, 403);
    const crossSite = await post(h, path, { action: "stop", csrf: admin.csrf }, {
      cookie: admin.cookie,
      "sec-fetch-site": "cross-site",
    });
    assert.equal(crossSite.status, 403);
    const noSession = await post(h, path, { action: "stop", csrf: admin.csrf });
    assert.equal(noSession.status, 401);
    assert.equal(await webDesired(h), "running", "no refused form changed anything");

    const ok = await post(h, path, { action: "stop", csrf: admin.csrf }, {
      cookie: admin.cookie,
      origin: "http://localhost",
    });
    assert.equal(ok.status, 303);
    assert.equal(ok.headers.get("location"), "/manifests/shop/containers/web");
    assert.equal(await webDesired(h), "stopped");
    const events = await (await h.call("GET", "/events?manifest=shop")).json() as {
      events: { action?: string; actor: string }[];
    };
    const stop = events.events.find((e) => e.action === "stop");
    assert.match(stop?.actor ?? "", /^token [0-9a-f]+ \(admin\)$/);

    // Re-applying the current revision sets the stopped container running again.
    const reapply = await post(h, "/manifests/shop/apply", { revision: "1", csrf: admin.csrf }, {
      cookie: admin.cookie,
    });
    assert.equal(reapply.status, 303);
    assert.equal(await webDesired(h), "running");

    const huge = await post(
      h,
      path,
      { action: "stop", csrf: admin.csrf, pad: "x".repeat(20_000) },
      {
        cookie: admin.cookie,
      },
    );
    assert.equal(huge.status, 413);
    const unknown = await post(h, path, { action: "explode", csrf: admin.csrf }, {
      cookie: admin.cookie,
    });
    assert.equal(unknown.status, 404);
  } finally {
    await h.close();
  }
});

Deno.test("sessions end with sign-out, a revoked token and idleness", async () => {
  const h = await openHarness();
  try {
    const admin = await signIn(h, h.token);
    const out = await post(h, "/logout", { csrf: admin.csrf }, { cookie: admin.cookie });
    assert.equal(out.status, 303);
    assert.match(out.headers.get("set-cookie") ?? "", /launcher_session=;/);
    assert.equal((await get(h, admin, "/")).status, 303, "the old cookie no longer signs in");

    const read = await tokenFor(h, "read");
    const reader = await signIn(h, read.token);
    assert.equal((await get(h, reader, "/")).status, 200);
    assert.equal((await h.call("POST", "/tokens/revoke", { id: read.id })).status, 204);
    const revoked = await get(h, reader, "/hosts");
    assert.equal(revoked.status, 303);
    assert.equal(revoked.headers.get("location"), "/login?next=%2Fhosts");

    const idle = await signIn(h, h.token);
    h.clock.advance(11 * 3_600_000);
    assert.equal((await get(h, idle, "/")).status, 200, "used within 12 hours");
    h.clock.advance(12 * 3_600_000);
    assert.equal((await get(h, idle, "/")).status, 303, "idle for 12 hours");
  } finally {
    await h.close();
  }
});

Deno.test("the Bearer API is unchanged: a session cookie does not open it", async () => {
  const h = await openHarness();
  try {
    const admin = await signIn(h, h.token);
    const withCookie = await h.app.request("/api/v1/hosts", { headers: { cookie: admin.cookie } });
    assert.equal(withCookie.status, 401);
    assert.equal((await h.call("GET", "/hosts")).status, 200);
    const unknown = await h.app.request("/api/v1/nope", {
      headers: { authorization: `Bearer ${h.token}` },
    });
    assert.equal(unknown.status, 404);
    assert.match(unknown.headers.get("content-type") ?? "", /^application\/json/);
  } finally {
    await h.close();
  }
});

Deno.test("an open page hears a change as a server-sent event", async () => {
  const h = await openHarness();
  try {
    await h.up(SHOP_YAML);
    const admin = await signIn(h, h.token);
    const anonymous = await h.app.request("/live");
    assert.equal(anonymous.status, 401);
    await anonymous.body?.cancel();
    const page = await (await get(h, admin, "/")).text();
    const after = /data-after="(\d+)"/.exec(page)?.[1];
    assert.ok(after);
    const live = await get(h, admin, `/live?after=${after}`);
    assert.equal(live.status, 200);
    assert.match(live.headers.get("content-type") ?? "", /^text\/event-stream/);
    const reader = live.body!.pipeThrough(new TextDecoderStream()).getReader();
    let seen = "";
    const changed = (async () => {
      while (!seen.includes("event: change")) {
        const { value, done } = await reader.read();
        if (done) break;
        seen += value;
      }
    })();
    const res = await h.call("POST", "/container/action", {
      action: "restart",
      host: "host-a",
      container: "web",
    });
    assert.equal(res.status, 202);
    await changed;
    assert.match(seen, /event: change\ndata: \d+\n\n/);
    await reader.cancel();

    const fragment = await h.app.request("http://localhost/", {
      headers: { cookie: admin.cookie, "x-launcher-fragment": "live" },
    });
    const text = await fragment.text();
    assert.match(text, /id="live"/);
    assert.doesNotMatch(text, /<html/, "a refresh gets the live region alone");
  } finally {
    await h.close();
  }
});

Deno.test("a server shutting down ends the open pages' live streams", async () => {
  const h = await openHarness();
  try {
    const admin = await signIn(h, h.token);
    const live = await get(h, admin, "/live");
    const text = live.body!.pipeThrough(new TextDecoderStream());
    const ended = (async () => {
      let all = "";
      for await (const chunk of text) all += chunk;
      return all;
    })();
    h.planner.releaseWaiters();
    assert.match(await ended, /^: following changes\n\n$/);
  } finally {
    await h.close();
  }
});

Deno.test("a container page names a secret's reference, never its value", async () => {
  const secretBox = await SecretBox.fromKey(crypto.getRandomValues(new Uint8Array(32)));
  const h = await openHarness({ secretBox });
  try {
    const set = await h.call("POST", "/secrets", { name: "db-password", value: "hunter2-value" });
    assert.ok(set.status === 200 || set.status === 201, await set.text());
    await h.up(`name: shop
containers:
  - name: api
    host: host-a
    image: busybox:1.36
    environment:
      MODE: prod
      DB_PASSWORD: { secret: db-password }
`);
    const admin = await signIn(h, h.token);
    const page = await (await get(h, admin, "/manifests/shop/containers/api")).text();
    assert.match(page, /DB_PASSWORD: \(secret\)/);
    assert.match(page, /MODE: prod/);
    assert.doesNotMatch(page, /hunter2-value/);
  } finally {
    await h.close();
  }
});

Deno.test("the UI's assets ship inside the program", async () => {
  const h = await openHarness();
  try {
    const css = await h.app.request("/assets/ui.css");
    assert.equal(css.status, 200);
    assert.match(css.headers.get("content-type") ?? "", /^text\/css/);
    assert.match(await css.text(), /\.log/);
    const js = await h.app.request("/assets/ui.js");
    assert.match(js.headers.get("content-type") ?? "", /^text\/javascript/);
    assert.match(await js.text(), /const MAX_LINES = 2000;/);
  } finally {
    await h.close();
  }
});

Deno.test("a browser asking for a page that does not exist gets a page with the way back", async () => {
  const h = await openHarness();
  try {
    const page = await h.app.request("/nowhere", { headers: { accept: "text/html" } });
    assert.equal(page.status, 404);
    assert.match(page.headers.get("content-type") ?? "", /^text\/html/);
    const text = await page.text();
    assert.match(text, /There is no page at \/nowhere/);
    assert.match(text, /<a href="\/">Back to the overview<\/a>/);
    // A program, and anything under the API, still gets the JSON error.
    for (
      const [path, accept] of [["/nowhere", "application/json"], ["/api/v1/nope", "text/html"]]
    ) {
      const res = await h.app.request(path, {
        headers: { accept, authorization: `Bearer ${h.token}` },
      });
      assert.equal(res.status, 404);
      assert.equal((await res.json()).error.code, "not_found");
    }
  } finally {
    await h.close();
  }
});
