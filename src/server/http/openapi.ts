/**
 * The OpenAPI 3.1 document of the API (`GET /api/v1/openapi.json`): every route of `ROUTE_DOCS`,
 * secured as `ROUTE_ACCESS` says, its schemas converted from the contract's valibot schemas by
 * `@valibot/to-json-schema`. Built once per process, when first asked for, from code alone.
 */
import {
  type ConversionConfig,
  type JsonSchema,
  toJsonSchema,
  toJsonSchemaDefs,
} from "@valibot/to-json-schema";
import type * as v from "valibot";
import * as contract from "../../api/schemas.ts";
import { ManifestSchema } from "../../manifest/schema.ts";
import { VERSION } from "../../version.ts";
import { API_PREFIX, type Need, ROUTE_ACCESS } from "./access.ts";
import { YAML_MEDIA_TYPES } from "./manifest_body.ts";
import {
  type BodyDoc,
  type RequestExample,
  type ResponseDoc,
  ROUTE_DOCS,
  ROUTE_TAGS,
  type RouteDoc,
  type RouteKey,
} from "./route_docs.ts";

/** One value of a request or answer, as OpenAPI describes a media type. */
export interface MediaTypeObject {
  schema: JsonSchema;
  example?: unknown;
  /** Named examples: the lines of an NDJSON body, one value each. */
  examples?: Record<string, { summary: string; value: unknown }>;
}

/** A query or path parameter. */
export interface ParameterObject {
  name: string;
  in: "query" | "path";
  required: boolean;
  schema: JsonSchema;
  example?: string;
}

/** One answer of an operation. */
export interface ResponseObject {
  description: string;
  headers?: Record<string, { description: string; schema: JsonSchema }>;
  content?: Record<string, MediaTypeObject>;
}

/** A request body, in each media type it is taken in. */
export interface RequestBodyObject {
  required: boolean;
  description?: string;
  content: Record<string, MediaTypeObject>;
}

/** One route, as OpenAPI describes it. */
export interface OperationObject {
  operationId: string;
  summary: string;
  description: string;
  tags: string[];
  /** Empty for a route that needs no token. */
  security: Record<string, string[]>[];
  /** The role the token must have (`ROUTE_ACCESS`'s `need`). */
  "x-launcher-role": Need;
  parameters?: ParameterObject[];
  requestBody?: RequestBodyObject;
  responses: Record<string, ResponseObject>;
}

/** The document. */
export interface OpenApiDocument {
  openapi: "3.1.0";
  info: { title: string; version: string; description: string };
  servers: { url: string; description: string }[];
  tags: { name: string; description: string }[];
  paths: Record<string, Record<string, OperationObject>>;
  components: {
    schemas: Record<string, JsonSchema>;
    securitySchemes: Record<string, { type: "http"; scheme: "bearer"; description: string }>;
  };
}

/** Where named schemas live in the document. */
export const SCHEMA_REF_PREFIX = "#/components/schemas/";

/** The component every error answer refers to: `{"error": {"code", "message", "details"?}}`. */
const ERROR_REF = { $ref: `${SCHEMA_REF_PREFIX}ErrorBody` };

/**
 * How valibot schemas become JSON Schema 2020-12 (OpenAPI 3.1's dialect). Conversion starts at a
 * pipeline's last schema (`typeMode: "output"`): the contract puts a `custom` guard before an
 * object or a query parameter (lists are refused, a parameter is given once), which JSON Schema
 * says by `type` anyway. Checks and transforms have no JSON Schema form and are left out: a
 * duration, a port or an option is a string here, and its syntax is the server's to judge. Any
 * other schema or action that cannot be converted throws, so that a gap is never silent.
 * `finite` needs no keyword: a JSON number is finite by nature; `max_bytes` counts UTF-8 bytes,
 * which no JSON Schema keyword does (a secret's size is the server's to judge).
 */
const CONVERSION: ConversionConfig = {
  target: "draft-2020-12",
  typeMode: "output",
  ignoreActions: [
    "check",
    "raw_check",
    "transform",
    "raw_transform",
    "trim",
    "finite",
    "max_bytes",
  ],
  overrideAction: ({ valibotAction, jsonSchema }) =>
    // A whole number in a query is checked as digits, then read and bounded as a number: the
    // bounds have no place on the string the client sends.
    (valibotAction.type === "min_value" || valibotAction.type === "max_value") &&
      jsonSchema.type === "string"
      ? jsonSchema
      : undefined,
  overrideRef: ({ referenceId }) => `${SCHEMA_REF_PREFIX}${referenceId}`,
};

/** What each `need` asks of the caller, for the operation's description. */
const NEEDS: Record<Need, string> = {
  none: "Needs no token.",
  read: "Needs a read or admin token.",
  admin: "Needs an admin token.",
  agent: "Needs the agent token of the host it names, or an admin token.",
};

/** Whether an export of the contract is a valibot schema (and not a constant or a function). */
function isSchema(value: unknown): value is v.GenericSchema {
  return typeof value === "object" && value !== null && "kind" in value &&
    value.kind === "schema";
}

/**
 * The named schemas: every `...Schema` the contract exports, named without the suffix, and the
 * manifest. Wherever a route's schema uses one of them, the document refers to it by name.
 */
function namedSchemas(): Record<string, v.GenericSchema> {
  const named: Record<string, v.GenericSchema> = { Manifest: ManifestSchema };
  for (const [name, value] of Object.entries(contract)) {
    if (name.endsWith("Schema") && isSchema(value)) named[name.slice(0, -"Schema".length)] = value;
  }
  return named;
}

/** Converts route schemas, referring to the named ones. */
type Convert = (schema: v.GenericSchema) => JsonSchema;

/** Adds the names of the components `value` refers to, anywhere inside it, to `into`. */
function collectRefs(value: unknown, into: Set<string>): void {
  if (Array.isArray(value)) {
    for (const item of value) collectRefs(item, into);
  } else if (typeof value === "object" && value !== null) {
    for (const [key, item] of Object.entries(value)) {
      if (key === "$ref" && typeof item === "string" && item.startsWith(SCHEMA_REF_PREFIX)) {
        into.add(item.slice(SCHEMA_REF_PREFIX.length));
      } else collectRefs(item, into);
    }
  }
}

/** The components that `paths` use, directly or through other components, by name. */
function usedComponents(
  all: Record<string, JsonSchema>,
  paths: unknown,
): Record<string, JsonSchema> {
  const names = new Set<string>();
  collectRefs(paths, names);
  // A Set's iteration visits what is added while it runs: components' own references too.
  for (const name of names) collectRefs(all[name], names);
  return Object.fromEntries([...names].sort().map((name) => [name, all[name]]));
}

/** A media type with its example, when there is one. */
function media(schema: JsonSchema, example: unknown): MediaTypeObject {
  return example === undefined ? { schema } : { schema, example };
}

/** A route's query parameters, from its query schema's properties. */
function queryParameters(
  query: v.GenericSchema,
  example: Record<string, string> | undefined,
  convert: Convert,
  all: Record<string, JsonSchema>,
): ParameterObject[] {
  let object = convert(query);
  if (object.$ref !== undefined) object = all[object.$ref.slice(SCHEMA_REF_PREFIX.length)];
  const required = new Set(object.required ?? []);
  return Object.entries(object.properties ?? {}).map(([name, schema]) => ({
    name,
    in: "query" as const,
    required: required.has(name),
    schema: schema as JsonSchema,
    ...(example?.[name] === undefined ? {} : { example: example[name] }),
  }));
}

/** A route's path parameters (`:id` segments): any one non-empty segment. */
function pathParameters(path: string, example: RequestExample | undefined): ParameterObject[] {
  return [...path.matchAll(/:(\w+)/g)].map(([, name]) => ({
    name,
    in: "path" as const,
    required: true,
    schema: { type: "string", minLength: 1 },
    ...(example?.params?.[name] === undefined ? {} : { example: example.params[name] }),
  }));
}

/** A route's request body, with its example in each media type it is taken in. */
function requestBody(body: BodyDoc, example: unknown, convert: Convert): RequestBodyObject {
  const schema = convert(body.schema);
  switch (body.media) {
    case "json":
      return {
        required: body.optional !== true,
        content: { "application/json": media(schema, example) },
      };
    case "manifest":
      // The example is the manifest's value in every media type: YAML writes it as a file does.
      return {
        required: true,
        description: "The manifest, as YAML or as JSON: the Content-Type says which.",
        content: Object.fromEntries(
          [...YAML_MEDIA_TYPES, "application/json"].map((type) => [type, media(schema, example)]),
        ),
      };
    case "ndjson": {
      const lines = example === undefined ? [] : [example].flat();
      const examples = Object.fromEntries(
        lines.map((value, i) => [`line${i + 1}`, { summary: `line ${i + 1}`, value }]),
      );
      return {
        required: true,
        description: "One JSON value per line (the schema is each line's), streamed.",
        content: {
          "application/x-ndjson": lines.length > 0 ? { schema, examples } : { schema },
        },
      };
    }
  }
}

/** An answer as OpenAPI has it; an error (a description alone) carries the shared error body. */
function response(answer: ResponseDoc | string, convert: Convert): ResponseObject {
  if (typeof answer === "string") {
    return { description: answer, content: { "application/json": { schema: ERROR_REF } } };
  }
  const headers = Object.entries(answer.headers ?? {}).map((
    [name, description],
  ) => [name, { description, schema: { type: "string" } as JsonSchema }]);
  const type = answer.media === "ndjson"
    ? "application/x-ndjson"
    : answer.media === "pem"
    ? "application/x-pem-file"
    : "application/json";
  return {
    description: answer.description,
    ...(headers.length > 0 ? { headers: Object.fromEntries(headers) } : {}),
    ...(answer.schema ? { content: { [type]: { schema: convert(answer.schema) } } } : {}),
  };
}

/** A route's answers: its own, and the errors every route of its kind has. */
function responses(doc: RouteDoc, need: Need, convert: Convert): Record<string, ResponseObject> {
  const answers: Record<number, ResponseDoc | string> = {};
  if (doc.query !== undefined) {
    answers[400] = "a query parameter is missing, malformed, given twice or unknown " +
      "(`invalid_query`)";
  }
  if (doc.body !== undefined) {
    answers[400] = doc.body.media === "manifest"
      ? "the manifest does not parse or validate (`invalid_manifest`, with line and column), " +
        "or the body is empty (`invalid_body`)"
      : "the body is not JSON or fails its schema (`invalid_body`; `details` name each field)";
  }
  if (doc.body?.media === "manifest") answers[415] = "the Content-Type is neither YAML nor JSON";
  if (doc.body !== undefined && doc.body.media !== "ndjson") {
    answers[413] = "the body is larger than 1 MiB";
    answers[408] = "the whole body did not arrive in time (`request_timeout`; default 30 s)";
  }
  if (need !== "none") {
    answers[401] = "no token, or one that is unknown, expired or revoked";
    answers[403] = "the token's role (or an agent token's host) does not allow the request";
  }
  Object.assign(answers, doc.responses);
  const out: Record<string, ResponseObject> = {};
  for (const status of Object.keys(answers).sort()) {
    out[status] = response(answers[Number(status)], convert);
  }
  out.default = response(
    "any other error: `500 internal`, `503 store_unavailable` or `shutting_down`, " +
      "`507 storage_full`, `414 uri_too_long` (query over 8 KiB), " +
      "`431 headers_too_large` (headers over 16 KiB), ...",
    convert,
  );
  return out;
}

/** `postManifestUp`, `postAgentLogsById`: the method, then each path word capitalised. */
function operationId(method: string, path: string): string {
  const words = path.split(/[^A-Za-z0-9:]+/).filter((word) => word !== "").map((word) =>
    word.startsWith(":") ? `By${word.slice(1)}` : word
  );
  return method.toLowerCase() + words.map((w) => w[0].toUpperCase() + w.slice(1)).join("");
}

/** One route's operation. */
function operation(
  key: RouteKey,
  doc: RouteDoc,
  convert: Convert,
  all: Record<string, JsonSchema>,
): OperationObject {
  const [method, path] = key.split(" ");
  // A route the access table lacks needs admin, as the access middleware treats it.
  const need = ROUTE_ACCESS.find((r) => r.method === method && r.path === path)?.need ?? "admin";
  const parameters = [
    ...pathParameters(path, doc.example),
    ...(doc.query ? queryParameters(doc.query, doc.example?.query, convert, all) : []),
  ];
  return {
    operationId: operationId(method, path),
    summary: doc.summary,
    description: doc.description ? `${doc.description} ${NEEDS[need]}` : NEEDS[need],
    tags: [doc.tag],
    security: need === "none" ? [] : [{ bearerAuth: [] }],
    "x-launcher-role": need,
    ...(parameters.length > 0 ? { parameters } : {}),
    ...(doc.body ? { requestBody: requestBody(doc.body, doc.example?.body, convert) } : {}),
    responses: responses(doc, need, convert),
  };
}

/** The OpenAPI path of a route: under `/api/v1`, `:id` written `{id}`. */
export function openApiPath(path: string): string {
  return API_PREFIX + path.replace(/:(\w+)/g, "{$1}");
}

/** Builds the document from the route table and the contract. */
function buildOpenApi(): OpenApiDocument {
  const definitions = namedSchemas();
  const all = toJsonSchemaDefs(definitions, CONVERSION);
  const convert: Convert = (schema) => {
    const { $schema: _dialect, $defs: _defs, ...converted } = toJsonSchema(schema, {
      ...CONVERSION,
      definitions,
    });
    return converted;
  };
  const paths: OpenApiDocument["paths"] = {};
  for (const [key, doc] of Object.entries(ROUTE_DOCS) as [RouteKey, RouteDoc][]) {
    const [method, path] = key.split(" ");
    paths[openApiPath(path)] ??= {};
    paths[openApiPath(path)][method.toLowerCase()] = operation(key, doc, convert, all);
  }
  return {
    openapi: "3.1.0",
    info: {
      title: "launcher",
      version: VERSION,
      description: "The HTTP API of launcher's server: manifests, containers, hosts, events, " +
        "logs and tokens, and what agents call. Every error answers `ErrorBody`.",
    },
    // Relative: the server that serves this document; paths hold the `/api/v1` prefix.
    servers: [{ url: "/", description: "the server that serves this document" }],
    tags: Object.entries(ROUTE_TAGS).map(([name, description]) => ({ name, description })),
    paths,
    components: {
      schemas: usedComponents(all, paths),
      securitySchemes: {
        bearerAuth: {
          type: "http",
          scheme: "bearer",
          description: "A token from `POST /api/v1/token` or `launcher token generate`.",
        },
      },
    },
  };
}

let built: string | undefined;

/** The document as JSON text, built on the first call and kept for the process's life. */
export function openApiJson(): string {
  built ??= JSON.stringify(buildOpenApi());
  return built;
}
