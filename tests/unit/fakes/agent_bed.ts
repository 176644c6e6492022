/** An agent on a fake engine and a fake server, with a clock the test moves. */
import { Agent } from "../../../src/agent/agent.ts";
import type { ContainerStatus } from "../../../src/api/schemas.ts";
import {
  LABEL_CLUSTER,
  LABEL_CONTAINER,
  LABEL_HOST,
  LABEL_MANIFEST,
  LABEL_SPEC_HASH,
} from "../../../src/agent/labels.ts";
import type { CredentialLookup } from "../../../src/agent/registry_auth.ts";
import { parseSpec } from "../../../src/manifest/spec.ts";
import { FakeApi } from "./fake_api.ts";
import { FakeEngine } from "./fake_engine.ts";
import { ManualClock } from "../../manual_clock.ts";
import { pollUntil } from "../../poll_until.ts";

/** What a test gets. */
export interface Bed {
  agent: Agent;
  engine: FakeEngine;
  api: FakeApi;
  clock: ManualClock;
  logs: string[];
  /** Lets the agent work until `check` holds. */
  until(what: string, check: () => boolean): Promise<void>;
}

/** A desired container of manifest `shop` on `host-a`; its normalized form follows `config`. */
export function want(name: string, overrides: Partial<ContainerStatus> = {}): ContainerStatus {
  const config = overrides.config ?? { name, host: "host-a", image: "launcher-test:1" };
  return {
    manifestName: "shop",
    config,
    normalized: parseSpec(config).normalized,
    host: "host-a",
    desired: "running",
    state: "pending",
    specHash: `h-${name}`,
    generation: 1,
    restartGeneration: 0,
    createdAt: "2026-01-01T00:00:00.000Z",
    updatedAt: "2026-01-01T00:00:00.000Z",
    ...overrides,
  };
}

/** The labels an agent of `host-a` in `cluster-1` puts on a container. */
export function ownLabels(name: string, specHash = `h-${name}`): Record<string, string> {
  return {
    [LABEL_MANIFEST]: "shop",
    [LABEL_CONTAINER]: name,
    [LABEL_SPEC_HASH]: specHash,
    [LABEL_HOST]: "host-a",
    [LABEL_CLUSTER]: "cluster-1",
  };
}

/** Runs `fn` with an agent started on a fresh bed, and stops it afterwards. */
export async function withAgent(
  fn: (bed: Bed) => Promise<void>,
  opts: {
    parallel?: number;
    engineTimeoutMs?: number;
    prepare?: (engine: FakeEngine) => void;
    credentials?: CredentialLookup;
  } = {},
): Promise<void> {
  const engine = new FakeEngine();
  opts.prepare?.(engine);
  const api = new FakeApi();
  const clock = new ManualClock();
  const logs: string[] = [];
  const agent = new Agent({
    api,
    engine,
    host: "host-a",
    intervalMs: 5000,
    parallel: opts.parallel ?? 8,
    engineTimeoutMs: opts.engineTimeoutMs ?? 30_000,
    clock,
    reportBatchMs: 0,
    credentials: opts.credentials,
    log: (line) => logs.push(line),
  });
  const stop = new AbortController();
  const running = agent.run(stop.signal);
  try {
    // Nothing in a fake takes time: look again on every turn of the event loop.
    const until = async (what: string, check: () => boolean) => {
      await pollUntil(what, check, { everyMs: 0 });
    };
    await fn({ agent, engine, api, clock, logs, until });
  } finally {
    stop.abort();
    await running;
  }
}
