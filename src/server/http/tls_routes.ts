/**
 * `GET /tls/ca`: the CA certificate (PEM) of a server that runs TLS with `--tls-ca`. Needs no
 * token: a joining agent fetches it before it trusts the server, and checks it against the hash
 * its join string carries before it sends anything else (docs/security.md).
 */
import { Hono } from "hono";
import { NoTlsCaError } from "../../api/errors.ts";
import type { AppEnv } from "./env.ts";

/** The CA route; `ca` is the PEM handed out, absent when the server has none. */
export function tlsRoutes(ca: string | undefined) {
  return new Hono<AppEnv>()
    .get("/tls/ca", (c) => {
      if (ca === undefined) throw new NoTlsCaError();
      return c.body(ca, 200, { "content-type": "application/x-pem-file" });
    });
}
