import assert from "node:assert/strict";
import * as v from "valibot";
import {
  EventPageSchema,
  type ManifestHistory,
  ManifestHistorySchema,
  type Revision,
  RevisionSchema,
  type RollbackResult,
  RollbackResultSchema,
} from "../../src/api/schemas.ts";
import { assertError, find, type Harness, openHarness, SHOP_YAML } from "./harness.ts";

/** SHOP_YAML with web on another image: each one a different revision. */
const shop = (image: string) => SHOP_YAML.replace("nginx:1.27", image);

/** Applies shop once per image, in order: revisions 1, 2, ... when each image differs. */
async function applyImages(h: Harness, ...images: string[]): Promise<void> {
  for (const image of images) await h.up(shop(image));
}

/** Sends `body` to a revision route and parses a 200 answer with `schema`. */
async function ask<S extends v.GenericSchema>(
  h: Harness,
  path: string,
  body: unknown,
  schema: S,
): Promise<v.InferOutput<S>> {
  const res = await h.call("POST", path, body);
  const json = await res.json();
  assert.equal(res.status, 200, JSON.stringify(json));
  return v.parse(schema, json);
}

const history = (h: Harness, manifest = "shop"): Promise<ManifestHistory> =>
  ask(h, "/manifest/history", { manifest }, ManifestHistorySchema);
const revision = (h: Harness, number: number, manifest = "shop"): Promise<Revision> =>
  ask(h, "/manifest/revision", { manifest, number }, RevisionSchema);
const rollback = (h: Harness, to?: number): Promise<RollbackResult> =>
  ask(
    h,
    "/manifest/rollback",
    to === undefined ? { manifest: "shop" } : { manifest: "shop", to },
    RollbackResultSchema,
  );

/** The revision numbers of a history, newest first, the current one starred. */
function numbers(list: ManifestHistory): string[] {
  return list.revisions.map((r) => `${r.number}${r.current ? "*" : ""}`);
}

Deno.test("every up that changes something is a revision; a no-op up stores none", async () => {
  const h = await openHarness();
  try {
    assert.equal((await h.up(shop("nginx:1.27"))).revision, 1);
    const noop = await h.up(shop("nginx:1.27"));
    assert.deepEqual(noop.unchanged, ["web", "db"]);
    assert.ok(!("revision" in noop), "nothing changed, nothing stored");
    assert.equal((await h.up(shop("nginx:1.28"))).revision, 2);

    const list = await history(h);
    assert.equal(list.manifest, "shop");
    assert.deepEqual(numbers(list), ["2*", "1"]);
    for (const r of list.revisions) {
      assert.match(r.actor, /^token [0-9a-f]{12} \(admin\)$/);
      assert.ok(!Number.isNaN(Date.parse(r.at)));
      assert.ok(!("text" in r), "a history leaves texts out");
    }
    const first = await revision(h, 1);
    assert.deepEqual(
      { ...first, at: "" },
      {
        manifest: "shop",
        number: 1,
        actor: list.revisions[1].actor,
        at: "",
        format: "yaml",
        text: shop("nginx:1.27"),
      },
    );
  } finally {
    await h.close();
  }
});

Deno.test("a revision keeps the text and format as sent: JSON stays JSON", async () => {
  const h = await openHarness();
  try {
    const json =
      '{"name": "shop",\n "containers": [{"name": "web", "host": "host-a", "image": "nginx:1.27"}]}';
    assert.equal((await h.up(json, "application/json")).revision, 1);
    const stored = await revision(h, 1);
    assert.equal(stored.format, "json");
    assert.equal(stored.text, json, "byte for byte, not a rendering");
  } finally {
    await h.close();
  }
});

Deno.test("history survives a down, and a later up of the name carries on numbering", async () => {
  const h = await openHarness();
  try {
    await applyImages(h, "nginx:1.27", "nginx:1.28");
    assert.equal((await h.call("POST", "/manifest/down", { manifest: "shop" })).status, 202);
    for (const [host, name] of [["host-a", "web"], ["host-b", "db"]]) {
      const res = await h.call("POST", "/state", {
        host,
        name,
        manifest: "shop",
        state: "removed",
      });
      assert.equal(res.status, 204);
    }
    await assertError(
      await h.call("POST", "/manifest/ps", { manifest: "shop" }),
      404,
      "not_found",
    );
    assert.deepEqual(
      numbers(await history(h)),
      ["2*", "1"],
      "the manifest is gone, its history is not",
    );

    assert.equal((await h.up(shop("nginx:1.29"))).revision, 3);
    assert.deepEqual(numbers(await history(h)), ["3*", "2", "1"]);
  } finally {
    await h.close();
  }
});

Deno.test("rollback re-applies the revision before the current one as a new revision", async () => {
  const h = await openHarness();
  try {
    await applyImages(h, "nginx:1.27", "nginx:1.28");
    assert.equal(find(await h.ps(), "shop", "web").config.image, "nginx:1.28");

    const result = await rollback(h);
    assert.deepEqual(result, {
      manifest: "shop",
      created: [],
      updated: ["web"],
      unchanged: ["db"],
      removed: [],
      revision: 3,
      to: 1,
    });
    const web = find(await h.ps(), "shop", "web");
    assert.equal(web.config.image, "nginx:1.27", "the old spec is back");
    assert.equal(web.state, "pending");
    assert.deepEqual(numbers(await history(h)), ["3*", "2", "1"]);
    const [now, old] = [await revision(h, 3), await revision(h, 1)];
    assert.equal(now.text, old.text, "the new revision holds the old text");
    assert.equal(now.format, old.format);

    const res = await h.call("GET", "/events?manifest=shop");
    const { events } = v.parse(EventPageSchema, await res.json());
    const last = events.slice(-2).map(({ kind, container, action, changes }) => ({
      kind,
      container,
      action,
      changes,
    }));
    assert.deepEqual(last, [
      {
        kind: "up",
        container: "web",
        action: "recreate",
        changes: [{ field: "image", from: "nginx:1.28", to: "nginx:1.27" }],
      },
      {
        kind: "up",
        container: undefined,
        action: "rollback",
        changes: [{ field: "revision", from: 2, to: 1 }],
      },
    ]);

    // Rolling back again goes back to what the rollback replaced.
    assert.equal((await rollback(h)).to, 2);
    assert.equal(find(await h.ps(), "shop", "web").config.image, "nginx:1.28");
  } finally {
    await h.close();
  }
});

Deno.test("rollback --to re-applies any earlier revision", async () => {
  const h = await openHarness();
  try {
    await applyImages(h, "nginx:1.27", "nginx:1.28", "nginx:1.29");
    const result = await rollback(h, 1);
    assert.equal(result.to, 1);
    assert.equal(result.revision, 4);
    assert.equal(find(await h.ps(), "shop", "web").config.image, "nginx:1.27");
    assert.deepEqual(numbers(await history(h)), ["4*", "3", "2", "1"]);
  } finally {
    await h.close();
  }
});

Deno.test("rollback refuses what it cannot do, and changes nothing then", async () => {
  const h = await openHarness();
  try {
    const roll = (body: unknown) => h.call("POST", "/manifest/rollback", body);
    for (const path of ["/manifest/history", "/manifest/rollback"]) {
      await assertError(
        await h.call("POST", path, { manifest: "nope" }),
        404,
        "not_found",
        /^manifest nope has no revisions$/,
      );
    }
    await assertError(
      await h.call("POST", "/manifest/revision", { manifest: "nope", number: 1 }),
      404,
      "not_found",
      /^manifest nope has no revisions$/,
    );

    await h.up(shop("nginx:1.27"));
    await assertError(
      await roll({ manifest: "shop" }),
      409,
      "conflict",
      /^manifest shop has only one revision$/,
    );
    await applyImages(h, "nginx:1.28", "nginx:1.27");
    const before = await h.ps();
    await assertError(
      await roll({ manifest: "shop", to: 3 }),
      409,
      "conflict",
      /^revision 3 is already the current one$/,
    );
    await assertError(
      await roll({ manifest: "shop", to: 9 }),
      404,
      "not_found",
      /^manifest shop has no revision 9$/,
    );
    await assertError(
      await h.call("POST", "/manifest/revision", { manifest: "shop", number: 9 }),
      404,
      "not_found",
    );
    // Revision 1 holds what revision 3 holds: re-applying it would change nothing.
    await assertError(
      await roll({ manifest: "shop", to: 1 }),
      409,
      "conflict",
      /^revision 1 holds what shop runs now: nothing to roll back$/,
    );
    for (const to of [0, 1.5, "2"]) {
      await assertError(
        await roll({ manifest: "shop", to }),
        400,
        "invalid_body",
        /^request body is invalid: to: /,
      );
    }
    assert.deepEqual(await h.ps(), before);
    assert.deepEqual(numbers(await history(h)), ["3*", "2", "1"]);
  } finally {
    await h.close();
  }
});

Deno.test("a read token lists history and reads revisions but cannot roll back", async () => {
  const h = await openHarness();
  try {
    await applyImages(h, "nginx:1.27", "nginx:1.28");
    const issued = await h.call("POST", "/tokens", { role: "read" });
    assert.equal(issued.status, 201);
    const { token } = (await issued.json()) as { token: string };
    const send = (path: string, body: unknown) =>
      h.app.request(`/api/v1${path}`, {
        method: "POST",
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
        body: JSON.stringify(body),
      });

    const listed = await send("/manifest/history", { manifest: "shop" });
    assert.equal(listed.status, 200);
    assert.deepEqual(await listed.json(), await history(h));
    const read = await send("/manifest/revision", { manifest: "shop", number: 1 });
    assert.equal(read.status, 200);
    assert.equal(v.parse(RevisionSchema, await read.json()).text, shop("nginx:1.27"));
    await assertError(
      await send("/manifest/rollback", { manifest: "shop" }),
      403,
      "forbidden",
      /role read, but POST \/manifest\/rollback needs role admin/,
    );
    assert.equal(find(await h.ps(), "shop", "web").config.image, "nginx:1.28");
  } finally {
    await h.close();
  }
});

Deno.test("revisions survive a store reopen, and rollback works on them", async () => {
  const first = await openHarness();
  let second: Harness | undefined;
  try {
    await applyImages(first, "nginx:1.27", "nginx:1.28");
    const before = await history(first);
    await first.close(true);

    second = await openHarness({ location: first.location, token: first.token });
    assert.deepEqual(await history(second), before);
    assert.equal((await rollback(second)).revision, 3);
    assert.equal(find(await second.ps(), "shop", "web").config.image, "nginx:1.27");
  } finally {
    if (second) await second.close();
    else await first.close();
  }
});
