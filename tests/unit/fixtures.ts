/** Builders for the values unit tests pass around, and the problems of a manifest. */
import assert from "node:assert/strict";
import type { ContainerStatus, ErrorDetail } from "../../src/api/schemas.ts";
import { ManifestError, parseManifest } from "../../src/manifest/parse.ts";

/** A desired container with sensible defaults; override what the test is about. */
export function status(overrides: Partial<ContainerStatus> = {}): ContainerStatus {
  return {
    manifestName: "shop",
    config: { name: "web", host: "host-a", image: "launcher-test:1" },
    normalized: {
      name: "web",
      host: "host-a",
      image: "launcher-test:1",
      ports: [],
      environment: {},
      options: [],
      runOptions: {},
      volumes: [],
      labels: {},
      resources: {},
    },
    host: "host-a",
    desired: "running",
    state: "pending",
    specHash: "h1",
    generation: 1,
    restartGeneration: 0,
    createdAt: "2026-01-01T00:00:00.000Z",
    updatedAt: "2026-01-01T00:00:00.000Z",
    ...overrides,
  };
}

/** The details of a manifest that must not parse. */
export function manifestProblems(text: string, format: "yaml" | "json" = "yaml"): ErrorDetail[] {
  try {
    parseManifest(text, format);
  } catch (error) {
    assert.ok(error instanceof ManifestError);
    return error.details ?? [];
  }
  assert.fail("the manifest parsed");
}
