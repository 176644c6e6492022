import assert from "node:assert/strict";
import { tokenTable } from "../../src/cli/token.ts";

Deno.test("token ls shows scope, status and times relative to now", () => {
  const now = Date.parse("2025-06-10T12:00:00.000Z");
  const text = tokenTable([
    {
      id: "3f9a1c0b7d2e",
      role: "admin",
      createdAt: "2025-06-01T12:00:00.000Z",
      lastUsedAt: "2025-06-10T11:59:00.000Z",
      revoked: false,
    },
    {
      id: "a41d07e9c3b5",
      role: "agent",
      host: "host-a",
      createdAt: "2025-06-10T11:59:59.000Z",
      expiresAt: "2025-07-10T11:59:59.000Z",
      revoked: false,
    },
    {
      id: "0c5e2f8a9b11",
      role: "read",
      createdAt: "2025-06-10T09:00:00.000Z",
      expiresAt: "2025-06-10T10:00:00.000Z",
      revoked: false,
    },
    {
      id: "77aa0e3c5d10",
      role: "read",
      createdAt: "2025-06-10T09:00:00.000Z",
      revoked: true,
    },
  ], now);
  assert.equal(
    text,
    [
      "ID             ROLE    HOST     STATUS    CREATED   EXPIRES   LAST USED",
      "3f9a1c0b7d2e   admin   -        active    9d ago    never     1m ago",
      "a41d07e9c3b5   agent   host-a   active    1s ago    in 30d    never",
      "0c5e2f8a9b11   read    -        expired   3h ago    2h ago    never",
      "77aa0e3c5d10   read    -        revoked   3h ago    never     never",
    ].join("\n"),
  );
});
