/**
 * Logs across servers on a real PostgreSQL (tests/pg_cluster.ts): two servers share one database,
 * the agent (its real log side, over an engine stub) polls server A for log requests, and
 * `GET /logs` goes to server B. B publishes the request in its wake-up notification with its own
 * URL as the origin, A hands it to the agent, and the agent uploads to B, which pipes the lines to
 * its client. A request for a host whose agent polls no server answers a clear 504 once the
 * pickup time runs out.
 */
import assert from "node:assert/strict";
import { AgentLogs } from "../../src/agent/logs.ts";
import { LauncherClient } from "../../src/client/client.ts";
import type { ContainerDetails, Engine, LogChunk } from "../../src/docker/engine.ts";
import { type RunningServer, startServer } from "../../src/server/http/serve.ts";
import { startPostgres } from "../pg_cluster.ts";
import { pollUntil } from "../poll_until.ts";
import { PASSWORD, registration, SHOP_YAML } from "./harness.ts";

/** An engine whose every container runs and says two lines, then (followed) nothing more. */
function chattyEngine(): Engine {
  const engine = {
    inspectContainer: (name: string) =>
      Promise.resolve({ id: name, state: { running: true } } as unknown as ContainerDetails),
    async *logs(
      _id: string,
      options: { follow: boolean },
      signal?: AbortSignal,
    ): AsyncGenerator<LogChunk, void, undefined> {
      const encoder = new TextEncoder();
      yield { stream: "stdout", data: encoder.encode("hello from A's agent\n") };
      yield { stream: "stderr", data: encoder.encode("second line\n") };
      if (!options.follow) return;
      await new Promise<void>((resolve) => {
        if (signal?.aborted) return resolve();
        signal?.addEventListener("abort", () => resolve(), { once: true });
      });
    },
  };
  return engine as unknown as Engine;
}

async function json(res: Response): Promise<unknown> {
  const text = await res.text();
  assert.ok(res.ok, `${res.status}: ${text}`);
  return JSON.parse(text);
}

Deno.test("postgres: launcher logs -f through server B reads an agent that polls server A", async () => {
  const pg = await startPostgres();
  const url = await pg.createDatabase();
  const servers: RunningServer[] = [];
  const stop = new AbortController();
  let agentDone: Promise<void> | undefined;
  try {
    const options = { hostname: "127.0.0.1", port: 0, store: url, password: PASSWORD };
    const a = await startServer({ ...options, serverId: "a", logs: { pickupMs: 3000 } });
    servers.push(a);
    const b = await startServer({ ...options, serverId: "b", logs: { pickupMs: 3000 } });
    servers.push(b);
    const { token } = await json(
      await fetch(`${a.url}/api/v1/token`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ password: PASSWORD }),
      }),
    ) as { token: string };
    const call = (server: RunningServer, method: string, path: string, body?: string) =>
      fetch(`${server.url}/api/v1${path}`, {
        method,
        headers: {
          authorization: `Bearer ${token}`,
          "content-type": body?.startsWith("{") ? "application/json" : "application/x-yaml",
        },
        body,
      });
    await json(await call(a, "POST", "/manifest/up", SHOP_YAML));
    for (const host of ["host-a", "host-b"]) {
      const res = await call(a, "POST", "/hosts/register", JSON.stringify(registration(host)));
      await json(res);
    }

    // The agent of host-a polls server A only.
    const agentLog: string[] = [];
    const agent = new AgentLogs({
      client: new LauncherClient([a.url], token),
      engine: chattyEngine(),
      host: "host-a",
      waitMs: 5000,
      log: (line) => agentLog.push(line),
    });
    agentDone = agent.run(stop.signal);
    await pollUntil("host-a's agent polls server A", () => a.planner.logs.connected("host-a"));
    assert.equal(b.planner.logs.connected("host-a"), false);

    // The CLI asks server B, and follows.
    const cli = new LauncherClient([b.url], token);
    const follow = new AbortController();
    const lines: string[] = [];
    const started = Date.now();
    for await (
      const line of cli.logs({ manifest: "shop", container: "web", follow: true }, follow.signal)
    ) {
      lines.push(`${line.stream}: ${line.data}`);
      if (lines.length === 2) break;
    }
    follow.abort();
    assert.deepEqual(lines, ["stdout: hello from A's agent\n", "stderr: second line\n"]);
    assert.ok(Date.now() - started < 2500, `took ${Date.now() - started} ms`);
    // The client left: B answers the upload, and the agent closes the engine's stream.
    await pollUntil("the agent closed the engine's stream", () => agent.openStreams === 0);
    await pollUntil("B forgot the session", () => b.planner.logs.openSessions === 0);

    // No agent polls for host-b anywhere: a clear error once the pickup time runs out.
    const before = Date.now();
    const res = await call(b, "GET", "/logs?manifest=shop&container=db");
    const body = await res.json() as { error: { code: string; message: string } };
    assert.equal(res.status, 504);
    assert.equal(body.error.code, "agent_timeout");
    assert.match(body.error.message, /no agent of host-b took the log request within 3s/);
    const waited = Date.now() - before;
    assert.ok(waited >= 2500 && waited < 6000, `answered after ${waited} ms`);
  } finally {
    stop.abort();
    await agentDone;
    for (const server of servers.reverse()) await server.close();
    await pg.stop();
  }
});
