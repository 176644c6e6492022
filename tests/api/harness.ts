/**
 * An in-process server for API tests: a fresh store, a planner, the app and a token. The store is
 * SQLite in a temp data dir, or, once `useTestStore("postgres")` was called (or with
 * `LAUNCHER_TEST_STORE=postgres`), a fresh database of one PostgreSQL cluster that the harness
 * starts when it first needs one and `stopTestStore` removes (else the cluster's unload hook).
 * `tests/api/pg_api_test.ts` runs API test files on PostgreSQL that way.
 */
import assert from "node:assert/strict";
import * as v from "valibot";
import { type App, createApp } from "../../src/server/http/app.ts";
import {
  type ContainerStatus,
  ContainerStatusSchema,
  type ErrorBody,
  ErrorBodySchema,
  type HostRegistration,
  type UpResult,
  UpResultSchema,
} from "../../src/api/schemas.ts";
import { Planner, type PlannerOptions } from "../../src/server/planner.ts";
import { isPostgresUrl, openStore } from "../../src/server/store/store.ts";
import { ManualClock } from "../manual_clock.ts";
import { type PgCluster, startPostgres } from "../pg_cluster.ts";

/** The token password every harness uses. */
export const PASSWORD = "s3cret-pass";

/** Two containers on two hosts. */
export const SHOP_YAML = `name: shop
containers:
  - name: web
    host: host-a
    image: nginx:1.27
    ports: ["8080:80"]
  - name: db
    host: host-b
    image: postgres:16
    environment: { POSTGRES_PASSWORD: x }
`;

/** One container on host-a with the same name as shop's `web`. */
export const BLOG_YAML = `name: blog
containers:
  - name: web
    host: host-a
    image: httpd:2.4
`;

/** Which store a harness opens when it is not given one. */
export type TestStore = "sqlite" | "postgres";

let testStoreKind: TestStore = Deno.env.get("LAUNCHER_TEST_STORE") === "postgres"
  ? "postgres"
  : "sqlite";
let testCluster: Promise<PgCluster> | undefined;

/** Makes harnesses open their stores on `kind` from now on (a test file calls it first). */
export function useTestStore(kind: TestStore): void {
  testStoreKind = kind;
}

/** Stops the PostgreSQL cluster the harnesses shared, if one was started. */
export async function stopTestStore(): Promise<void> {
  const cluster = testCluster;
  testCluster = undefined;
  if (cluster) await (await cluster).stop();
}

/** A new, empty store's location: a temp data dir, or a fresh database of the shared cluster. */
async function freshLocation(): Promise<string> {
  if (testStoreKind === "sqlite") return await sqliteDataDir();
  testCluster ??= startPostgres();
  return await (await testCluster).createDatabase();
}

/** A new temp data dir, for tests of SQLite's files whichever store the others run on. */
export function sqliteDataDir(): Promise<string> {
  return Deno.makeTempDir({ prefix: "launcher-api-test-" });
}

/** A running app over a fresh (or given) store. */
export interface Harness {
  app: App;
  planner: Planner;
  /** The clock of the planner and the app: it moves only when the test moves it. */
  clock: ManualClock;
  /** Where the store is (a data dir or a database URL): another harness may reopen it. */
  location: string;
  /** The SQLite store's data dir, for tests of SQLite's files; throws on PostgreSQL. */
  readonly dataDir: string;
  token: string;
  /** Sends a request with the token; strings and bytes are sent as is, other values as JSON. */
  call(method: string, path: string, body?: unknown, headers?: HeadersInit): Promise<Response>;
  /** `POST /manifest/up` with YAML (or another content type) and returns the result. */
  up(text: string, contentType?: string): Promise<UpResult>;
  /** `POST /manifest/ps` for every manifest. */
  ps(): Promise<ContainerStatus[]>;
  /** Closes the store; removes a data dir unless `keepData` (a database stays until the cluster goes). */
  close(keepData?: boolean): Promise<void>;
}

/** Options of a harness. */
export interface HarnessOptions extends Omit<PlannerOptions, "clock"> {
  /** The clock of the planner and the app (default a new `ManualClock`). */
  clock?: ManualClock;
  /** A store to open again (a data dir or a database URL) instead of a fresh one. */
  location?: string;
  /** A SQLite data dir to open (tests of SQLite's files), as `location`. */
  dataDir?: string;
  maxWaitMs?: number;
  /** How long a request body may take to arrive (the app's default unless given). */
  bodyTimeoutMs?: number;
  /** Reuse a token issued earlier instead of asking for a new one. */
  token?: string;
}

/** Opens a store and an app; asks for a token through `POST /token`. */
export async function openHarness(options: HarnessOptions = {}): Promise<Harness> {
  const location = options.location ?? options.dataDir ?? await freshLocation();
  const postgres = isPostgresUrl(location);
  const clock = options.clock ?? new ManualClock();
  const planner = await Planner.open(await openStore(location), {
    maxWaiters: options.maxWaiters,
    clock,
    logs: options.logs,
    events: options.events,
    rescheduleAfterMs: options.rescheduleAfterMs,
    wakeups: options.wakeups,
    lease: options.lease,
    secretBox: options.secretBox,
  });
  const app = createApp({
    planner,
    password: PASSWORD,
    maxWaitMs: options.maxWaitMs,
    bodyTimeoutMs: options.bodyTimeoutMs,
  });
  let token = options.token;
  if (token === undefined) {
    const res = await app.request("/api/v1/token", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ password: PASSWORD }),
    });
    assert.equal(res.status, 201);
    token = ((await res.json()) as { token: string }).token;
  }
  const bearer = token;
  const call = (method: string, path: string, body?: unknown, headers?: HeadersInit) => {
    const all = new Headers(headers);
    all.set("authorization", `Bearer ${bearer}`);
    let payload: string | Uint8Array<ArrayBuffer> | undefined;
    if (typeof body === "string") payload = body;
    else if (body instanceof Uint8Array) payload = body.slice();
    else if (body !== undefined) {
      payload = JSON.stringify(body);
      if (!all.has("content-type")) all.set("content-type", "application/json");
    }
    return Promise.resolve(app.request(`/api/v1${path}`, { method, headers: all, body: payload }));
  };
  return {
    app,
    planner,
    clock,
    location,
    get dataDir() {
      if (postgres) throw new Error("this harness's store is PostgreSQL: it has no data dir");
      return location;
    },
    token,
    call,
    async up(text, contentType = "application/x-yaml") {
      const res = await call("POST", "/manifest/up", text, { "content-type": contentType });
      const body = await res.json();
      assert.equal(res.status, 200, JSON.stringify(body));
      return v.parse(UpResultSchema, body);
    },
    async ps() {
      const res = await call("POST", "/manifest/ps", {});
      const body = await res.json();
      assert.equal(res.status, 200, JSON.stringify(body));
      return v.parse(v.array(ContainerStatusSchema), body);
    },
    async close(keepData = false) {
      await planner.close();
      if (!keepData && !postgres) await Deno.remove(location, { recursive: true });
    },
  };
}

/** Asserts an error answer: its status, its code and the `{"error": {...}}` shape. */
export async function assertError(
  res: Response,
  status: number,
  code: string,
  message?: RegExp,
): Promise<ErrorBody> {
  const text = await res.text();
  assert.equal(res.status, status, text);
  assert.match(res.headers.get("content-type") ?? "", /^application\/json/);
  const body = v.parse(ErrorBodySchema, JSON.parse(text));
  assert.equal(body.error.code, code, text);
  assert.ok(body.error.message.length > 0);
  assert.doesNotMatch(body.error.message, /\.$/, "messages end without a period");
  if (message) assert.match(body.error.message, message);
  return body;
}

/** One container of a ps list, by manifest and name. */
export function find(list: ContainerStatus[], manifest: string, name: string): ContainerStatus {
  const found = list.find((c) => c.manifestName === manifest && c.config.name === name);
  assert.ok(found, `${manifest}/${name} is listed`);
  return found;
}

/** A registration as an agent sends it; override what the test is about. */
export function registration(
  host: string,
  extra: Partial<HostRegistration> = {},
): HostRegistration {
  return {
    host,
    engineVersion: "20.10.24",
    os: "linux",
    arch: "amd64",
    cpus: 4,
    memory: 8 * 1024 ** 3,
    agentVersion: "0.1.0",
    labels: { zone: "eu-1" },
    intervalMs: 1000,
    ...extra,
  };
}
