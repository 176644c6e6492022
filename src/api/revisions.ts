/**
 * The contract of revisions: each accepted version of a manifest (its text, who, when), its
 * history (`POST /manifest/history`), one revision (`/manifest/revision`) and a rollback
 * (`/manifest/rollback`).
 */
import * as v from "valibot";
import { NameSchema } from "../manifest/schema.ts";
import { UP_RESULT_ENTRIES } from "./containers.ts";
import { apiObject, apiStrictObject } from "./validation.ts";

/** How a manifest's text is written. */
export const MANIFEST_FORMATS = ["yaml", "json"] as const;
export const ManifestFormatSchema = v.picklist(MANIFEST_FORMATS);
export type ManifestFormat = v.InferOutput<typeof ManifestFormatSchema>;

/** A manifest as it was sent, its text and format: what a revision stores. */
export interface ManifestSource {
  text: string;
  format: ManifestFormat;
}

/** A revision number: from 1 per manifest. */
const RevisionNumberSchema = v.pipe(v.number(), v.integer(), v.minValue(1));

/** `POST /manifest/history`. */
export const ManifestHistoryRequestSchema = apiStrictObject({ manifest: NameSchema });

/** What every revision says of itself. */
const REVISION_ENTRIES = {
  number: v.number(),
  /** Who applied it, as events name callers. */
  actor: v.string(),
  at: v.string(),
};

/** One revision in a history, without its text. */
export const RevisionEntrySchema = apiObject({
  ...REVISION_ENTRIES,
  /** Whether it is the latest revision. */
  current: v.boolean(),
});

/** `POST /manifest/history`: a manifest's revisions, newest first. */
export const ManifestHistorySchema = apiObject({
  manifest: NameSchema,
  revisions: v.array(RevisionEntrySchema),
});
export type ManifestHistory = v.InferOutput<typeof ManifestHistorySchema>;

/** `POST /manifest/revision`. */
export const RevisionRequestSchema = apiStrictObject({
  manifest: NameSchema,
  number: RevisionNumberSchema,
});

/** `POST /manifest/revision`: one revision with the text it holds. */
export const RevisionSchema = apiObject({
  manifest: NameSchema,
  ...REVISION_ENTRIES,
  format: ManifestFormatSchema,
  text: v.string(),
});
export type Revision = v.InferOutput<typeof RevisionSchema>;

/** `POST /manifest/rollback`: without `to`, the revision before the current one. */
export const RollbackRequestSchema = apiStrictObject({
  manifest: NameSchema,
  to: v.optional(RevisionNumberSchema),
});

/** `POST /manifest/rollback`: what `up` did, the revision re-applied and the one it became. */
export const RollbackResultSchema = apiObject({
  ...UP_RESULT_ENTRIES,
  revision: v.number(),
  /** The revision whose text was re-applied. */
  to: v.number(),
});
export type RollbackResult = v.InferOutput<typeof RollbackResultSchema>;
