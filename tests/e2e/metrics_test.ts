/**
 * `GET /metrics` of a real server (`serve --metrics-public`) with real agents on real engines:
 * each agent's last reconcile time and its failed engine calls show per host, sent with its
 * reports, and anyone may read them without a token.
 */
import assert from "node:assert/strict";
import { Cluster, SLEEPER } from "./cluster.ts";
import { TEST_IMAGE } from "./engines.ts";
import { pollUntil } from "../poll_until.ts";

/** `web` runs on host-a; `bad` on host-b names an image no registry has, so its pull fails. */
const APP = `name: app
containers:
  - name: web
    host: host-a
    image: ${TEST_IMAGE}
    cmd: ${JSON.stringify(SLEEPER)}
  - name: bad
    host: host-b
    image: nonexistent.invalid/nope:1
`;

/** The value of one series of the text (`name{labels}` as written), or undefined. */
function sample(text: string, series: string): number | undefined {
  const line = text.split("\n").find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

Deno.test("metrics: per-host agent figures from real agents, served without a token", async (t) => {
  const cluster = await Cluster.start(["host-a", "host-b"], {
    interval: "500ms",
    serverArgs: ["--metrics-public"],
  });
  /** The metrics, read with no Authorization header at all. */
  const scrape = async () => {
    const res = await fetch(`${cluster.url}/metrics`);
    const text = await res.text();
    assert.equal(res.status, 200, text);
    return text;
  };
  try {
    await cluster.step(t, "serve --metrics-public answers /metrics without a token", async () => {
      const text = await scrape();
      assert.match(text, /^# TYPE launcher_agent_reconcile_duration_seconds gauge$/m);
      const api = await fetch(`${cluster.url}/api/v1/hosts`);
      assert.equal(api.status, 401, "the API itself still needs a token");
      await api.body?.cancel();
    });

    await cluster.step(t, "each host's reconcile time and failed engine calls appear", async () => {
      const up = await cluster.cli(["manifest", "up", "-f", cluster.writeManifest("app", APP)]);
      assert.equal(up.code, 0, up.stderr);
      await cluster.waitForStates("app", { web: "running", bad: "failed" }, 30_000);
      let last = "";
      const text = await pollUntil(
        () => `both hosts' agent series, last seen:\n${last}`,
        async () => {
          last = await scrape();
          const reconcileA = sample(
            last,
            'launcher_agent_reconcile_duration_seconds{host="host-a"}',
          );
          const errorsB = sample(last, 'launcher_agent_engine_errors_total{host="host-b"}');
          return reconcileA !== undefined && reconcileA > 0 && errorsB !== undefined &&
            errorsB >= 1 && last;
        },
        { timeoutMs: 30_000 },
      );
      // host-a's engine had its image: nothing failed there (an absent image is no failure).
      assert.equal(sample(text, 'launcher_agent_engine_errors_total{host="host-a"}'), 0);
      assert.notEqual(
        sample(text, 'launcher_agent_reconcile_duration_seconds{host="host-b"}'),
        undefined,
      );
      assert.equal(sample(text, 'launcher_hosts{status="online"}'), 2);
      assert.equal(sample(text, 'launcher_containers{state="running"}'), 1);
      assert.equal(sample(text, 'launcher_containers{state="failed"}'), 1);
      assert.ok((sample(text, "launcher_long_polls_held") ?? 0) >= 1, "agents hold long-polls");
      assert.ok(
        (sample(text, 'launcher_state_reports_total{outcome="applied"}') ?? 0) >= 2,
        "the agents' reports were counted",
      );
    });
  } finally {
    await cluster.stop();
  }
});
