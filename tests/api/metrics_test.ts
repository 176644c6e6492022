/**
 * `GET /metrics`: Prometheus' text format after API traffic, who may read it, bounded label sets,
 * and the per-host figures agents send with their reports. promtool checks the real output.
 */
import assert from "node:assert/strict";
import { createApp } from "../../src/server/http/app.ts";
import { Metrics } from "../../src/server/metrics.ts";
import { Planner } from "../../src/server/planner.ts";
import { openStore } from "../../src/server/store/store.ts";
import { VERSION } from "../../src/version.ts";
import { assertError, PASSWORD, registration, SHOP_YAML } from "./harness.ts";
import { pollUntil } from "../poll_until.ts";

/** An app over a fresh SQLite store whose transactions the app's metrics time, as `serve` does. */
async function openMetricsApp(metricsPublic = false) {
  const dir = await Deno.makeTempDir({ prefix: "launcher-metrics-test-" });
  const metrics = new Metrics();
  const store = await openStore(dir, {
    onTransaction: (seconds, outcome) => metrics.transaction(seconds, outcome),
  });
  const planner = await Planner.open(store);
  const app = createApp({ planner, password: PASSWORD, metrics, metricsPublic });
  const json = (method: string, path: string, body: unknown, token?: string) =>
    Promise.resolve(app.request(path, {
      method,
      headers: {
        "content-type": "application/json",
        ...(token === undefined ? {} : { authorization: `Bearer ${token}` }),
      },
      body: JSON.stringify(body),
    }));
  const res = await json("POST", "/api/v1/token", { password: PASSWORD });
  const admin = ((await res.json()) as { token: string }).token;
  const issue = async (scope: Record<string, string>) => {
    const created = await json("POST", "/api/v1/tokens", scope, admin);
    assert.equal(created.status, 201);
    return ((await created.json()) as { token: string }).token;
  };
  const get = (path: string, token?: string) =>
    Promise.resolve(app.request(path, {
      headers: token === undefined ? {} : { authorization: `Bearer ${token}` },
    }));
  /** The metrics text, read with the admin token. */
  const scrape = async () => {
    const res = await get("/metrics", admin);
    const text = await res.text();
    assert.equal(res.status, 200, text);
    assert.match(res.headers.get("content-type") ?? "", /^text\/plain; version=0\.0\.4/);
    return text;
  };
  /** Applies the shop manifest with the admin token. */
  const up = async () => {
    const res = await app.request("/api/v1/manifest/up", {
      method: "POST",
      headers: { authorization: `Bearer ${admin}`, "content-type": "application/x-yaml" },
      body: SHOP_YAML,
    });
    await res.body?.cancel();
    assert.equal(res.status, 200);
  };
  return {
    app,
    planner,
    admin,
    json,
    get,
    issue,
    scrape,
    up,
    close: async () => {
      planner.releaseWaiters();
      await planner.close();
      await Deno.remove(dir, { recursive: true });
    },
  };
}

/** The value of one sample line (`name{labels}`, labels as written), or undefined. */
function sample(text: string, series: string): number | undefined {
  const line = text.split("\n").find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

/** The sample lines of one metric name (histogram parts excluded unless named). */
function lines(text: string, name: string): string[] {
  return text.split("\n").filter((l) => l.startsWith(`${name}{`) || l.startsWith(`${name} `));
}

/** Runs `promtool check metrics` on `text`; fails with what it said. */
async function promtoolCheck(text: string): Promise<void> {
  const child = new Deno.Command("promtool", {
    args: ["check", "metrics"],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(text));
  await writer.close();
  const { code, stdout, stderr } = await child.output();
  const said = new TextDecoder().decode(stdout) + new TextDecoder().decode(stderr);
  assert.equal(code, 0, `promtool check metrics failed:\n${said}`);
  assert.equal(said.trim(), "", `promtool check metrics found problems:\n${said}`);
}

Deno.test("after API traffic, /metrics counts requests, hosts, containers, reports and transactions", async () => {
  const m = await openMetricsApp();
  try {
    await m.up();
    const registered = await m.json(
      "POST",
      "/api/v1/hosts/register",
      registration("host-a", { intervalMs: 5000 }),
      m.admin,
    );
    assert.equal(registered.status, 200);
    await registered.body?.cancel();
    // The original body: one report. Then an agent's batch, with its figures.
    const one = await m.json(
      "POST",
      "/api/v1/state",
      { host: "host-a", manifest: "shop", name: "web", state: "running" },
      m.admin,
    );
    assert.equal(one.status, 204);
    const batch = await m.json("POST", "/api/v1/state", {
      host: "host-a",
      reports: [{ host: "host-a", manifest: "shop", name: "nope", state: "running" }],
      agent: { reconcileSeconds: 0.25, engineErrors: 3 },
    }, m.admin);
    assert.deepEqual((await batch.json()).applied, 0);

    const text = await m.scrape();
    assert.equal(
      sample(text, `launcher_build_info{version="${VERSION}",deno="${Deno.version.deno}"}`),
      1,
    );
    assert.equal(
      sample(
        text,
        'launcher_http_requests_total{method="POST",route="/api/v1/manifest/up",status="200"}',
      ),
      1,
    );
    assert.equal(
      sample(
        text,
        'launcher_http_requests_total{method="POST",route="/api/v1/state",status="204"}',
      ),
      1,
    );
    assert.equal(
      sample(
        text,
        'launcher_http_requests_total{method="POST",route="/api/v1/state",status="200"}',
      ),
      1,
    );
    assert.equal(
      sample(
        text,
        'launcher_http_request_duration_seconds_count{method="POST",route="/api/v1/state"}',
      ),
      2,
    );
    assert.equal(
      sample(
        text,
        'launcher_http_request_duration_seconds_bucket{method="POST",route="/api/v1/state",le="+Inf"}',
      ),
      2,
    );
    // host-a registered (online); host-b only named by a container, never seen (offline).
    assert.equal(sample(text, 'launcher_hosts{status="online"}'), 1);
    assert.equal(sample(text, 'launcher_hosts{status="offline"}'), 1);
    assert.equal(sample(text, 'launcher_hosts{status="draining"}'), 0);
    assert.equal(sample(text, 'launcher_containers{state="running"}'), 1);
    assert.equal(sample(text, 'launcher_containers{state="pending"}'), 1);
    assert.equal(sample(text, 'launcher_containers{state="exited"}'), 0);
    assert.equal(sample(text, 'launcher_state_reports_total{outcome="applied"}'), 1);
    assert.equal(sample(text, 'launcher_state_reports_total{outcome="unknown"}'), 1);
    assert.equal(sample(text, 'launcher_state_reports_total{outcome="stale"}'), 0);
    assert.ok(
      (sample(text, 'launcher_store_transaction_duration_seconds_count{outcome="commit"}') ?? 0) >=
        4,
      "up, register, two reports: each one transaction at least",
    );
    assert.equal(sample(text, "launcher_long_polls_held"), 0);
    assert.equal(sample(text, 'launcher_agent_reconcile_duration_seconds{host="host-a"}'), 0.25);
    assert.equal(sample(text, 'launcher_agent_engine_errors_total{host="host-a"}'), 3);

    // A held long-poll shows while it is held.
    const index = Number(
      (await m.get("/api/v1/container?host=host-a", m.admin)).headers.get("x-launcher-index"),
    );
    const held = m.get(`/api/v1/container?host=host-a&index=${index}&wait=30s`, m.admin);
    await pollUntil(
      "the held poll to show",
      async () => sample(await m.scrape(), "launcher_long_polls_held") === 1,
    );
    m.planner.releaseWaiters();
    await (await held).body?.cancel();
  } finally {
    await m.close();
  }
});

Deno.test("/metrics needs a read or admin token, unless metrics are public", async () => {
  const m = await openMetricsApp();
  const open = await openMetricsApp(true);
  try {
    const none = await assertError(await m.get("/metrics"), 401, "unauthorized");
    assert.match(none.error.message, /Authorization/);
    await assertError(await m.get("/metrics", "not-a-token"), 401, "unauthorized");
    const read = await m.issue({ role: "read" });
    const byRead = await m.get("/metrics", read);
    assert.equal(byRead.status, 200);
    assert.match(await byRead.text(), /^launcher_build_info/m);
    const agent = await m.issue({ role: "agent", host: "host-a" });
    await assertError(await m.get("/metrics", agent), 403, "forbidden", /read or admin/);

    const anyone = await open.get("/metrics");
    assert.equal(anyone.status, 200);
    assert.match(await anyone.text(), /^launcher_hosts\{status="online"\} 0$/m);
    // Only the metrics are public: the API still asks for a token.
    await assertError(await open.get("/api/v1/hosts"), 401, "unauthorized");
  } finally {
    await m.close();
    await open.close();
  }
});

Deno.test("promtool check metrics passes on the real output", async () => {
  const m = await openMetricsApp();
  try {
    await m.up();
    const report = await m.json("POST", "/api/v1/state", {
      host: "host-a",
      reports: [],
      agent: { reconcileSeconds: 0.012, engineErrors: 0 },
    }, m.admin);
    await report.body?.cancel();
    await (await m.get("/nope")).body?.cancel();
    await promtoolCheck(await m.scrape());
  } finally {
    await m.close();
  }
});

Deno.test("label sets stay bounded: 100 unknown paths add one series", async () => {
  const m = await openMetricsApp();
  try {
    const before = lines(await m.scrape(), "launcher_http_requests_total").length;
    for (let i = 0; i < 100; i++) {
      await (await m.get(`/api/v1/nope-${i}`, m.admin)).body?.cancel();
      await (await m.get(`/nope-${i}/x`)).body?.cancel();
    }
    const text = await m.scrape();
    const after = lines(text, "launcher_http_requests_total");
    // The unknown paths (404 each) and the scrape before them: two new series, not 200.
    assert.equal(after.length, before + 2, after.join("\n"));
    assert.equal(
      sample(text, 'launcher_http_requests_total{method="GET",route="unmatched",status="404"}'),
      200,
    );
    assert.deepEqual(
      lines(text, "launcher_http_request_duration_seconds_count").map((l) => l.split(" ")[0]),
      [
        'launcher_http_request_duration_seconds_count{method="GET",route="/metrics"}',
        'launcher_http_request_duration_seconds_count{method="GET",route="unmatched"}',
        'launcher_http_request_duration_seconds_count{method="POST",route="/api/v1/token"}',
      ],
    );
  } finally {
    await m.close();
  }
});

Deno.test("an agent's series goes with its host when the host is removed", async () => {
  const m = await openMetricsApp();
  try {
    for (const host of ["host-a", "host-c"]) {
      const res = await m.json(
        "POST",
        "/api/v1/hosts/register",
        registration(host, { intervalMs: 5000 }),
        m.admin,
      );
      await res.body?.cancel();
      const sent = await m.json("POST", "/api/v1/state", {
        host,
        reports: [],
        agent: { reconcileSeconds: 1.5, engineErrors: 0 },
      }, m.admin);
      assert.equal(sent.status, 200);
      await sent.body?.cancel();
    }
    const text = await m.scrape();
    assert.equal(sample(text, 'launcher_agent_reconcile_duration_seconds{host="host-c"}'), 1.5);
    assert.equal(sample(text, 'launcher_agent_engine_errors_total{host="host-c"}'), 0);

    const removed = await m.json("POST", "/api/v1/hosts/remove", { host: "host-c" }, m.admin);
    assert.equal(removed.status, 200, await removed.text());
    const after = await m.scrape();
    assert.equal(
      sample(after, 'launcher_agent_reconcile_duration_seconds{host="host-c"}'),
      undefined,
    );
    assert.equal(sample(after, 'launcher_agent_engine_errors_total{host="host-c"}'), undefined);
    assert.equal(sample(after, 'launcher_agent_reconcile_duration_seconds{host="host-a"}'), 1.5);
  } finally {
    await m.close();
  }
});

Deno.test("an agent's batch names one host: a report of another is refused, nothing applied", async () => {
  const m = await openMetricsApp();
  try {
    await m.up();
    const mixed = await assertError(
      await m.json("POST", "/api/v1/state", {
        host: "host-a",
        reports: [
          { host: "host-a", manifest: "shop", name: "web", state: "running" },
          { host: "host-b", manifest: "shop", name: "db", state: "running" },
        ],
      }, m.admin),
      400,
      "invalid_body",
    );
    assert.equal(mixed.error.details?.[0].path, "reports[1].host");
    const agent = await m.issue({ role: "agent", host: "host-a" });
    await assertError(
      await m.json("POST", "/api/v1/state", {
        host: "host-b",
        reports: [{ host: "host-b", manifest: "shop", name: "db", state: "running" }],
        agent: { reconcileSeconds: 0.1, engineErrors: 0 },
      }, agent),
      403,
      "forbidden",
    );
    const bad = await assertError(
      await m.json("POST", "/api/v1/state", {
        host: "host-a",
        reports: [],
        agent: { reconcileSeconds: -1, engineErrors: 0 },
      }, agent),
      400,
      "invalid_body",
    );
    assert.equal(bad.error.details?.[0].path, "agent.reconcileSeconds");
    const text = await m.scrape();
    assert.equal(sample(text, 'launcher_containers{state="running"}'), 0);
    assert.equal(
      sample(text, 'launcher_agent_reconcile_duration_seconds{host="host-b"}'),
      undefined,
    );
  } finally {
    await m.close();
  }
});
