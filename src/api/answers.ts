/**
 * The small answers that no richer contract file holds: what `GET /healthz`, `POST /manifest/down`,
 * `POST /hosts/remove` and a batch of `POST /state` answer. The OpenAPI document describes them
 * from here.
 */
import * as v from "valibot";
import { HostSchema, NameSchema } from "../manifest/schema.ts";
import { StateReportSchema } from "./containers.ts";
import { apiObject } from "./validation.ts";

/** `GET /healthz`: the server answers. */
export const HealthSchema = apiObject({ ok: v.literal(true) });

/** `POST /manifest/down` (202): the manifest whose containers are now desired removed. */
export const ManifestDownResultSchema = apiObject({ manifest: NameSchema });

/** `POST /hosts/remove`: the host forgotten. */
export const HostRemoveResultSchema = apiObject({ host: HostSchema });

/** `POST /state` with a list: what was applied, and the reports that named no known container. */
export const StateBatchResultSchema = apiObject({
  applied: v.number(),
  unknown: v.array(StateReportSchema),
  /** Reports about a spec the container no longer has, dropped. */
  stale: v.number(),
});
