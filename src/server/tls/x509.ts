/**
 * The one import of `@peculiar/x509`. Version 2 resolves its parts through tsyringe, which needs
 * the `Reflect.metadata` polyfill loaded first (it throws at import otherwise); WebCrypto is
 * Deno's own `crypto`. Imported only by `tls init` and by a server started with TLS, so other
 * commands do not pay for it.
 */
import "reflect-metadata";
import * as x509 from "@peculiar/x509";

x509.cryptoProvider.set(crypto);

export { x509 };
