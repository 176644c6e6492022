/** The contract of secrets: the bodies of `POST /secrets`, `GET /secrets`, `POST /secrets/remove`. */
import * as v from "valibot";
import { LauncherError } from "../errors.ts";
import { SecretNameSchema } from "../manifest/schema.ts";
import { apiObject, apiStrictObject } from "./validation.ts";

/** The largest value a secret may have, in bytes of UTF-8. */
export const MAX_SECRET_BYTES = 64 * 1024;

/**
 * A secret's value. Its messages never describe what was sent: an error answer must not carry
 * the value back (or a part of it) into a log or a terminal.
 */
const SecretValueSchema = v.pipe(
  v.string("must be a string"),
  v.nonEmpty("must not be empty"),
  v.maxBytes(MAX_SECRET_BYTES, `must be at most ${MAX_SECRET_BYTES} bytes`),
);

/** `POST /secrets`: sets a secret, making it or replacing its value. */
export const SecretSetSchema = apiStrictObject({
  name: SecretNameSchema,
  value: SecretValueSchema,
});
export type SecretSet = v.InferOutput<typeof SecretSetSchema>;

/** What setting a secret did. */
export const SecretSetResultSchema = apiObject({
  name: SecretNameSchema,
  /** It did not exist before. */
  created: v.boolean(),
  /** Its value differs from the one it had (always true when created). */
  changed: v.boolean(),
  /** The containers (`manifest/name`) recreated with the new value, by manifest then name. */
  recreated: v.array(v.string()),
});
export type SecretSetResult = v.InferOutput<typeof SecretSetResultSchema>;

/** `GET /secrets`: one secret, never its value, and what refers to it. */
export const SecretInfoSchema = apiObject({
  name: SecretNameSchema,
  createdAt: v.string(),
  updatedAt: v.string(),
  /** The manifests whose containers refer to it, by name. */
  manifests: v.array(v.string()),
  /** The containers (`manifest/name`) that refer to it, by manifest then name. */
  containers: v.array(v.string()),
});
export type SecretInfo = v.InferOutput<typeof SecretInfoSchema>;

/** `POST /secrets/remove`. */
export const SecretRemoveSchema = apiStrictObject({ name: SecretNameSchema });

/** A server without a secret key (PostgreSQL without `--secret-key-file`) keeps no secrets. */
export class SecretsDisabledError extends LauncherError {
  override readonly status = 503;

  constructor() {
    super(
      "secrets_disabled",
      "this server keeps no secrets: start it with --secret-key-file (the same file on every " +
        "server of the store)",
    );
  }
}
