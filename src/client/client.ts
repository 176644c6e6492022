/** The one typed API client, used by the CLI and the agent. */
import * as v from "valibot";
import {
  type ContainerAction,
  type ContainerStatus,
  ContainerStatusSchema,
  ErrorBodySchema,
  type HostDesired,
  HostDesiredSchema,
  type StateReport,
  TokenResponseSchema,
  type UpResult,
  UpResultSchema,
} from "../api/schemas.ts";
import { ApiError, UnreachableError } from "./errors.ts";

const ContainerListSchema = v.array(ContainerStatusSchema);
const ReportManyResultSchema = v.object({
  applied: v.number(),
  unknown: v.array(v.unknown()),
});

/** How a request body is sent. */
type Body = { json: unknown } | { yaml: string } | undefined;

/** A client for one server, optionally authenticated with a Bearer token. */
export class LauncherClient {
  readonly url: string;

  constructor(url: string, private readonly token?: string) {
    this.url = url.replace(/\/+$/, "");
  }

  /** Checks that the server answers. */
  async healthz(): Promise<void> {
    await drain(await this.request("GET", "/healthz"));
  }

  /** Exchanges the token password for a new token. */
  async createToken(password: string): Promise<string> {
    const res = await this.request("POST", "/token", { json: { password } });
    return v.parse(TokenResponseSchema, await res.json()).token;
  }

  /** Sends a manifest as YAML text; the server validates it. */
  async up(yaml: string): Promise<UpResult> {
    const res = await this.request("POST", "/manifest/up", { yaml });
    return v.parse(UpResultSchema, await res.json());
  }

  /** Marks every container of a manifest for removal. */
  async down(manifest: string): Promise<void> {
    await drain(await this.request("POST", "/manifest/down", { json: { manifest } }));
  }

  /** Lists containers of one manifest, or of all. */
  async ps(manifest?: string): Promise<ContainerStatus[]> {
    const res = await this.request("POST", "/manifest/ps", { json: manifest ? { manifest } : {} });
    return v.parse(ContainerListSchema, await res.json());
  }

  /** Requests stop, kill, restart or rm of one container. */
  async action(action: ContainerAction): Promise<void> {
    await drain(await this.request("POST", "/container/action", { json: action }));
  }

  /**
   * Fetches a host's desired list; when `afterIndex` is given, the server holds the request
   * until the host's index passes it or `waitMs` runs out.
   */
  async desired(
    host: string,
    afterIndex: number,
    waitMs: number,
    signal?: AbortSignal,
  ): Promise<HostDesired> {
    const query = new URLSearchParams({ host, index: String(afterIndex), wait: `${waitMs}ms` });
    const res = await this.request("GET", `/container?${query}`, undefined, signal);
    return v.parse(HostDesiredSchema, await res.json());
  }

  /** Reports observed states in one request; returns how many the server did not know. */
  async report(reports: StateReport[]): Promise<{ applied: number; unknown: number }> {
    const res = await this.request("POST", "/state", { json: reports });
    const result = v.parse(ReportManyResultSchema, await res.json());
    return { applied: result.applied, unknown: result.unknown.length };
  }

  private async request(
    method: string,
    path: string,
    body?: Body,
    signal?: AbortSignal,
  ): Promise<Response> {
    const headers: Record<string, string> = {};
    if (this.token) headers.authorization = `Bearer ${this.token}`;
    let payload: string | undefined;
    if (body && "json" in body) {
      headers["content-type"] = "application/json";
      payload = JSON.stringify(body.json);
    } else if (body) {
      headers["content-type"] = "application/x-yaml";
      payload = body.yaml;
    }
    let res: Response;
    try {
      res = await fetch(`${this.url}/api/v1${path}`, { method, headers, body: payload, signal });
    } catch (error) {
      if (signal?.aborted) throw error;
      throw new UnreachableError(this.url, error instanceof Error ? error.message : String(error));
    }
    if (res.ok) return res;
    const text = await res.text();
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    const error = v.safeParse(ErrorBodySchema, parsed);
    if (error.success) {
      const { code, message, details } = error.output.error;
      throw new ApiError(res.status, code, message, details);
    }
    throw new ApiError(res.status, "http_error", `server answered ${res.status}: ${text.trim()}`);
  }
}

/** Releases a body the caller does not read, so the connection is not held. */
async function drain(res: Response): Promise<void> {
  await res.body?.cancel();
}
