/** Builders for the values unit tests pass around. */
import type { ContainerStatus } from "../../src/api/schemas.ts";

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
