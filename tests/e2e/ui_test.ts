/**
 * The web UI in a real Chromium against a real server, agent and engine: sign-in (a wrong token
 * is refused), the overview following a manifest until it runs, its failing container listed first
 * and one click from its page and error output, a container's logs growing while the page is open
 * (stdout and stderr apart), restart from its page reaching the engine, a read token seeing no
 * buttons and its forged post refused, a stop made elsewhere showing on the open page, 50,000
 * lines of output leaving a bounded DOM and a page that answers, and a session outliving a killed
 * server (its sessions are in the store) until signing out. Screenshots of each page go to
 * test-output/ui/.
 */
import assert from "node:assert/strict";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { MAX_LOG_LINES } from "../../src/server/http/ui/assets.ts";
import { pollUntil } from "../poll_until.ts";
import { launchChromium, SCREENSHOTS } from "./browser.ts";
import { Cluster, SLEEPER } from "./cluster.ts";
import { TEST_IMAGE } from "./engines.ts";

/**
 * A line to stdout and one to stderr every second, until SIGTERM. `$$` is the shell's `$`: the
 * CLI resolves `$NAME` in manifests.
 */
const TICKER = [
  "sh",
  "-c",
  "trap 'exit 0' TERM; i=0; while true; do i=$$((i+1)); echo tick-$$i; echo warn-$$i >&2; " +
  "sleep 1; done",
];

/** 50,000 lines at once, then quiet. */
const FLOOD = ["sh", "-c", "seq 1 50000; trap 'exit 0' TERM; sleep 3600 & wait"];

const MANIFEST = `name: ui
containers:
  - name: web
    host: host-a
    image: ${TEST_IMAGE}
    cmd: ${JSON.stringify(SLEEPER)}
  - name: ticker
    host: host-a
    image: ${TEST_IMAGE}
    cmd: ${JSON.stringify(TICKER)}
  - name: flood
    host: host-a
    image: ${TEST_IMAGE}
    cmd: ${JSON.stringify(FLOOD)}
  - name: broken
    host: host-a
    image: ${TEST_IMAGE}
    cmd: ["sh", "-c", "echo cannot start >&2; exit 3"]
`;

/** Signs a fresh browser context in with `token` and returns its page on the overview. */
async function signIn(browser: Browser, url: string, token: string): Promise<Page> {
  const context: BrowserContext = await browser.newContext({
    viewport: { width: 1280, height: 900 },
  });
  const page = await context.newPage();
  await page.goto(`${url}/`);
  assert.equal(new URL(page.url()).pathname, "/login", "a page without a session asks to sign in");
  await page.fill("#token", token);
  await Promise.all([page.waitForURL(`${url}/`), page.click("#sign-in")]);
  return page;
}

/** The number in the last `tick-N` line the log viewer shows (0: none yet). */
async function lastTick(page: Page): Promise<number> {
  const lines = await page.locator("#log .l.o").allTextContents();
  for (let i = lines.length - 1; i >= 0; i--) {
    const match = /^tick-(\d+)$/.exec(lines[i]);
    if (match) return Number(match[1]);
  }
  return 0;
}

/** Whether the page fits its viewport's width (no sideways scrolling of the page itself). */
const FITS_WIDTH = "document.documentElement.scrollWidth <= window.innerWidth";

/** Keeps, in the page, every state its container page shows from now on (`seenStates`). */
const WATCH_STATES = `(() => {
  const seen = [];
  globalThis.seenStates = seen;
  const note = () => {
    const state = document.querySelector("#state [data-state]")?.dataset.state;
    if (state !== undefined && seen[seen.length - 1] !== state) seen.push(state);
  };
  note();
  new MutationObserver(note).observe(document.body, { childList: true, subtree: true });
})()`;

Deno.test("web UI in Chromium against a real server, agent and engine", async (t) => {
  await Deno.mkdir(SCREENSHOTS, { recursive: true });
  const cluster = await Cluster.start(["host-a"]);
  let browser: Browser | undefined;
  try {
    const read = await cluster.cli(["token", "generate", "--role", "read"]);
    assert.equal(read.code, 0, read.stderr);
    const readToken = read.stdout.trim();
    browser = await launchChromium();
    const b = browser;
    let admin: Page | undefined;

    await cluster.step(t, "a wrong token is refused with a message", async () => {
      const context = await b.newContext();
      const page = await context.newPage();
      await page.goto(`${cluster.url}/login`);
      await page.fill("#token", "not-a-token");
      const [response] = await Promise.all([
        page.waitForResponse((r) => r.url().endsWith("/login") && r.request().method() === "POST"),
        page.click("#sign-in"),
      ]);
      assert.equal(response.status(), 401);
      assert.match(await page.textContent("#login-error") ?? "", /does not sign in/);
      assert.deepEqual(await context.cookies(), [], "no session cookie for a wrong token");
      await page.goto(`${cluster.url}/`);
      assert.equal(new URL(page.url()).pathname, "/login");
      await page.screenshot({ path: `${SCREENSHOTS}login.png` });
      await context.close();
    });

    await cluster.step(t, "signed in, the overview follows a manifest until it runs", async () => {
      admin = await signIn(b, cluster.url, cluster.token);
      const cookie = (await admin.context().cookies()).find((c) => c.name === "launcher_session");
      assert.ok(cookie, "a session cookie");
      assert.equal(cookie.httpOnly, true);
      assert.equal(cookie.sameSite, "Strict");
      const path = cluster.writeManifest("ui", MANIFEST);
      const up = await cluster.cli(["manifest", "up", "-f", path]);
      assert.equal(up.code, 0, up.stderr);
      // The page was open before the manifest ran: the live region brings it, without a reload.
      await admin.locator('#manifests tr[data-manifest="ui"]').waitFor({ timeout: 20_000 });
      await pollUntil(
        "the overview to show 3 of 4 running",
        async () =>
          (await admin!.textContent('#manifests tr[data-manifest="ui"] td:nth-child(2)'))
            ?.includes("3 / 4"),
        { timeoutMs: 60_000 },
      );
      const failing = admin.locator('#failing a[href="/manifests/ui/containers/broken"]');
      await failing.waitFor({ timeout: 20_000 });
      assert.match(await admin.textContent("#failing li") ?? "", /failed \(exit 3\)/);
      await admin.screenshot({ path: `${SCREENSHOTS}overview.png`, fullPage: true });
      // On a phone's width the page fits: nothing runs off to the side.
      await admin.setViewportSize({ width: 390, height: 844 });
      assert.ok(await admin.evaluate<boolean>(FITS_WIDTH), "the overview fits 390 px");
      await admin.screenshot({ path: `${SCREENSHOTS}overview-phone.png`, fullPage: true });
      await admin.setViewportSize({ width: 1280, height: 900 });
      // One click from what fails to its page.
      await failing.click();
      await admin.waitForURL(`${cluster.url}/manifests/ui/containers/broken`);
      await admin.locator("#log .l.e", { hasText: "cannot start" }).waitFor();
      await admin.goto(`${cluster.url}/`);
      await admin.click('#manifests a[href="/manifests/ui"]');
      await admin.waitForURL(`${cluster.url}/manifests/ui`);
      assert.equal(await admin.locator("#containers tbody tr").count(), 4);
      await admin.screenshot({ path: `${SCREENSHOTS}manifest.png`, fullPage: true });
    });

    await cluster.step(t, "a container's new lines show while its page is open", async () => {
      const page = admin!;
      await page.click('#containers a[href="/manifests/ui/containers/ticker"]');
      await page.waitForURL(`${cluster.url}/manifests/ui/containers/ticker`);
      const first = await pollUntil("a tick line", () => lastTick(page).then((n) => n || false));
      const later = await pollUntil(
        `a tick after ${first}`,
        () => lastTick(page).then((n) => n > first + 1 ? n : false),
        { timeoutMs: 20_000 },
      );
      assert.ok(later > first + 1);
      const err = await page.locator("#log .l.e").first().textContent();
      assert.match(err ?? "", /^warn-\d+$/, "stderr lines are marked apart from stdout");
      await page.screenshot({ path: `${SCREENSHOTS}container.png`, fullPage: true });
      await page.setViewportSize({ width: 390, height: 844 });
      assert.ok(await page.evaluate<boolean>(FITS_WIDTH), "the container page fits 390 px");
      await page.screenshot({ path: `${SCREENSHOTS}container-phone.png`, fullPage: true });
      await page.setViewportSize({ width: 1280, height: 900 });
    });

    await cluster.step(t, "restart shows the state cycle and restarts on the engine", async () => {
      const page = admin!;
      await page.goto(`${cluster.url}/manifests/ui/containers/web`);
      const before = await cluster.inspect("host-a", "ui_web");
      assert.equal(before?.State.Running, true);
      // Every state the page shows from now on, as the live region changes.
      await page.evaluate(WATCH_STATES);
      // Restart with the keyboard alone: Tab to the button, Enter. The form posts in place: the
      // page, its logs and its watcher stay.
      await pollUntil("Tab to reach the restart button", async () => {
        await page.keyboard.press("Tab");
        return await page.evaluate<string>("document.activeElement.id") === "action-restart";
      }, { everyMs: 0, timeoutMs: 10_000 });
      await page.keyboard.press("Enter");
      const after = await pollUntil("the engine to restart ui_web", async () => {
        const now = await cluster.inspect("host-a", "ui_web");
        return now?.State.Running && now.State.StartedAt !== before.State.StartedAt && now;
      });
      assert.equal(after.Id, before.Id, "the same container, restarted");
      // The page shows the request, then the state events, without a reload.
      await page.locator('#live-details tr[data-kind="action"]', { hasText: "action restart" })
        .waitFor({ timeout: 10_000 });
      await page.locator('#state [data-state="running"]').waitFor({ timeout: 10_000 });
      // The cycle, as the page's event rows show it (newest first): after the restart request, the
      // container left running and came back. The state line may skip the short stop between two
      // refreshes; the rows keep it.
      const cycleRows = (rows: string[]) => {
        const newer = rows.slice(0, rows.findIndex((e) => e.includes("action restart")));
        return newer.some((e) => /running → (?!running)/.test(e)) &&
          newer.some((e) => /→ running/.test(e));
      };
      const events = await pollUntil("the page's events to show the restart's cycle", async () => {
        const rows = await page.locator("#live-details tbody tr").allTextContents();
        return cycleRows(rows) && rows;
      }, { timeoutMs: 10_000 });
      const seen = await page.evaluate<string[]>("globalThis.seenStates");
      const cycle = `states shown: ${seen.join(" -> ")}; events: ${events.slice(0, 4).join(" | ")}`;
      assert.equal(seen[0], "running", cycle);
      assert.equal(seen.at(-1), "running", cycle);
      await page.screenshot({ path: `${SCREENSHOTS}container-restarted.png`, fullPage: true });
    });

    await cluster.step(
      t,
      "a read token sees no buttons and its forged post is refused",
      async () => {
        const page = await signIn(b, cluster.url, readToken);
        for (const path of ["/", "/manifests/ui", "/manifests/ui/containers/web", "/hosts"]) {
          await page.goto(`${cluster.url}${path}`);
          const buttons = await page.locator("main form[method=post]").count();
          assert.equal(buttons, 0, `${path} shows a read token no action`);
        }
        await page.goto(`${cluster.url}/manifests/ui/containers/web`);
        // The session's own CSRF token (the sign-out form's) and cookie: only the role is wrong.
        const csrf = await page.inputValue("header input[name=csrf]");
        const res = await page.request.post(
          `${cluster.url}/manifests/ui/containers/web/action`,
          { form: { csrf, action: "stop" }, headers: { origin: cluster.url } },
        );
        assert.equal(res.status(), 403);
        assert.match(await res.text(), /needs role admin/);
        const web = (await cluster.ps("ui")).find((c) => c.config.name === "web");
        assert.equal(web?.desired, "running", "the refused stop changed nothing");
        await page.context().close();
      },
    );

    await cluster.step(t, "a stop made elsewhere shows on the open page", async () => {
      const page = admin!;
      await page.goto(`${cluster.url}/manifests/ui/containers/web`);
      const stop = await cluster.cli(["container", "stop", "-h", "host-a", "-c", "web"]);
      assert.equal(stop.code, 0, stop.stderr);
      await page.locator('#state [data-state="exited"]').waitFor({ timeout: 20_000 });
      const seenAt = Date.now();
      assert.equal(await page.textContent("#desired"), "stopped");
      // How long after the server recorded the change the page showed it (a figure, not a test).
      const events = await cluster.client().events({ manifest: "ui" });
      const exited = events.events.findLast((e) => e.container === "web" && e.to === "exited (0)");
      assert.ok(exited, "the state event of the stop");
      console.log(
        `the page showed the stop ${seenAt - Date.parse(exited.time)} ms after the event`,
      );
    });

    await cluster.step(t, "50,000 lines keep the DOM bounded and the page answering", async () => {
      const page = admin!;
      await page.goto(`${cluster.url}/manifests/ui/containers/flood`);
      await page.selectOption("#log-tail", "all");
      await page.locator("#log .l:last-child", { hasText: /^50000$/ }).waitFor({
        timeout: 120_000,
      });
      const lines = await page.locator("#log .l").count();
      assert.ok(lines <= MAX_LOG_LINES, `${lines} lines in the DOM, at most ${MAX_LOG_LINES}`);
      assert.ok(lines >= MAX_LOG_LINES / 2, `${lines} lines in the DOM: the newest are shown`);
      assert.equal(
        await page.locator("#log .l").first().textContent(),
        String(50_000 - lines + 1),
        "the oldest lines went first",
      );
      const started = performance.now();
      await page.title();
      console.log(
        `${lines} lines in the DOM; the page answered in ${
          Math.round(performance.now() - started)
        } ms`,
      );
      await page.click('header nav a[href="/hosts"]');
      await page.waitForURL(`${cluster.url}/hosts`);
      await page.screenshot({ path: `${SCREENSHOTS}hosts.png`, fullPage: true });
      await page.goto(`${cluster.url}/events?manifest=ui`);
      await page.screenshot({ path: `${SCREENSHOTS}events.png`, fullPage: true });
    });

    await cluster.step(t, "a killed and restarted server keeps the browser signed in", async () => {
      const page = admin!;
      await cluster.killServer();
      await cluster.startServer();
      await page.goto(`${cluster.url}/manifests/ui`);
      assert.equal(new URL(page.url()).pathname, "/manifests/ui", "not sent to /login");
      await page.getByRole("heading", { name: "Manifest ui" }).waitFor();
      await page.click("#sign-out");
      await page.waitForURL(/\/login$/);
      await page.goto(`${cluster.url}/`);
      await page.waitForURL(/\/login\?next=%2F$/);
    });
  } finally {
    await browser?.close();
    await cluster.stop();
  }
});
