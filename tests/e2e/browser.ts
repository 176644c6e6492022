/**
 * A real Chromium for UI tests: Debian's `chromium`, driven by playwright-core, headless and kept
 * off the network (this machine's is closed), in a fresh profile that Playwright removes again.
 */
import { type Browser, chromium } from "playwright-core";

/** Where Chromium is (`CHROMIUM` overrides Debian's path). */
export const CHROMIUM = Deno.env.get("CHROMIUM") ?? "/usr/bin/chromium";

/** Where UI tests write their screenshots (gitignored). */
export const SCREENSHOTS = new URL("../../test-output/ui/", import.meta.url).pathname;

/** Starts Chromium; close it in a `finally`. */
export async function launchChromium(): Promise<Browser> {
  return await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    // Playwright gives every launch a fresh --user-data-dir of its own and removes it on close.
    args: [
      ...(Deno.uid() === 0 ? ["--no-sandbox"] : []),
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
}
