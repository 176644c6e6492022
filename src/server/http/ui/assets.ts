/**
 * The web UI's stylesheet and script, as string constants: they ship inside the program (also
 * after `deno compile`), so nothing is read from disk or fetched from elsewhere at run time.
 */

/** How many log lines the container page keeps in the DOM at most; older ones are dropped. */
export const MAX_LOG_LINES = 2000;

/** The stylesheet of every page: readable at 1280 px and on a phone-width screen. */
export const UI_CSS = `
:root { color-scheme: light; --fg: #1d2733; --muted: #5b6775; --line: #d9dee4; --bg: #f6f7f9;
  --card: #fff; --accent: #1f5fbf; --bad: #b3261e; --warn: #8a5a00; --good: #1e7a3c; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
  color: var(--fg); background: var(--bg); }
a { color: var(--accent); }
a:focus-visible, button:focus-visible, input:focus-visible, select:focus-visible,
  [tabindex]:focus-visible { outline: 3px solid #f0b400; outline-offset: 2px; }
header.top { display: flex; flex-wrap: wrap; align-items: center; gap: .5rem 1.25rem;
  padding: .6rem 1rem; background: #17212c; color: #fff; }
header.top a { color: #fff; text-decoration: none; }
header.top nav { display: flex; flex-wrap: wrap; gap: .25rem .9rem; flex: 1; }
header.top nav a[aria-current="page"] { text-decoration: underline; text-underline-offset: 4px; }
header.top .brand { font-weight: 700; }
header.top .who { display: flex; align-items: center; gap: .5rem; font-size: .9rem; }
header.top .who button { background: transparent; color: #fff; border-color: #8893a0; }
main { max-width: 1200px; margin: 0 auto; padding: 1rem; }
h1 { font-size: 1.4rem; margin: .2rem 0 .8rem; word-break: break-word; }
h2 { font-size: 1.1rem; margin: 1.4rem 0 .5rem; }
section.card > h2:first-child { margin-top: .2rem; }
section.card { background: var(--card); border: 1px solid var(--line); border-radius: 6px;
  padding: .75rem 1rem; margin-bottom: 1rem; }
.scroll { overflow-x: auto; }
table { border-collapse: collapse; width: 100%; font-size: .93rem; }
th, td { text-align: left; padding: .35rem .6rem; border-bottom: 1px solid var(--line);
  vertical-align: top; }
th { color: var(--muted); font-weight: 600; white-space: nowrap; }
td.num, th.num { text-align: right; }
.muted { color: var(--muted); }
.state { display: inline-block; padding: 0 .45rem; border-radius: 999px; font-size: .85rem;
  border: 1px solid var(--line); white-space: nowrap; }
.state.good { color: var(--good); border-color: #9fd0b0; background: #eef8f1; }
.state.bad { color: var(--bad); border-color: #e6a9a4; background: #fdf0ef; }
.state.warn { color: var(--warn); border-color: #e3c98f; background: #fdf6e6; }
.error { color: var(--bad); word-break: break-word; }
.counts { display: flex; flex-wrap: wrap; gap: .5rem; margin: 0; padding: 0; list-style: none; }
.counts li { background: var(--card); border: 1px solid var(--line); border-radius: 6px;
  padding: .4rem .8rem; }
.counts strong { font-size: 1.2rem; margin-right: .3rem; }
ul.failing { margin: 0; padding-left: 1.1rem; }
ul.failing li { margin: .2rem 0; }
.actions { display: flex; flex-wrap: wrap; gap: .5rem; margin: .5rem 0; }
.actions form { margin: 0; }
button { font: inherit; padding: .35rem .8rem; border: 1px solid #9aa6b3; border-radius: 4px;
  background: #fff; color: var(--fg); cursor: pointer; min-height: 2.2rem; }
button.danger { border-color: var(--bad); color: var(--bad); }
button.primary { background: var(--accent); border-color: var(--accent); color: #fff; }
input, select { font: inherit; padding: .3rem .45rem; border: 1px solid #9aa6b3;
  border-radius: 4px; min-height: 2.2rem; max-width: 100%; }
form.filters { display: flex; flex-wrap: wrap; gap: .6rem 1rem; align-items: flex-end; }
form.filters label, .log-controls label { display: flex; flex-direction: column; font-size: .85rem;
  color: var(--muted); gap: .15rem; }
.log-controls { display: flex; flex-wrap: wrap; gap: .6rem 1rem; align-items: flex-end;
  margin-bottom: .5rem; }
.log-controls label.check { flex-direction: row; align-items: center; gap: .35rem; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: .25rem 1rem; margin: 0; }
dl.facts dt { color: var(--muted); }
dl.facts dd { margin: 0; word-break: break-word; }
pre.spec { background: #f1f3f6; padding: .6rem; border-radius: 4px; overflow-x: auto;
  font-size: .85rem; margin: 0; }
.log { background: #10161d; color: #dce3ea; font: 12.5px/1.4 ui-monospace, SFMono-Regular, Menlo,
  Consolas, monospace; height: 28rem; max-height: 70vh; overflow: auto; padding: .4rem .6rem;
  border-radius: 4px; white-space: pre-wrap; word-break: break-all; }
.log .l { min-height: 1.4em; }
.log .l.e { color: #ffb4ab; border-left: 3px solid #ff6b5e; padding-left: .4rem; }
.log .l.e::before { content: "err "; color: #ff6b5e; }
.log .note { color: #8fa1b3; font-style: italic; }
.flash { padding: .6rem .8rem; border-radius: 4px; margin-bottom: 1rem; background: #fdf0ef;
  border: 1px solid #e6a9a4; color: var(--bad); }
.login { max-width: 26rem; margin: 3rem auto; }
.login label { display: block; margin-bottom: .3rem; font-weight: 600; }
.login input { width: 100%; margin-bottom: .8rem; }
.labels code { background: #eef1f4; padding: 0 .3rem; border-radius: 3px; margin-right: .25rem;
  white-space: nowrap; }
@media (max-width: 640px) {
  main { padding: .6rem; }
  th, td { padding: .3rem .4rem; }
  .hide-narrow { display: none; }
  header.top nav { order: 3; flex-basis: 100%; }
  .log { height: 22rem; }
}
`;

/**
 * The script of every page: relative times that count on, the live region that follows the
 * server's changes (server-sent events from `/live`), and the container page's log viewer.
 */
export const UI_JS = `
(() => {
  "use strict";
  const MAX_LINES = ${MAX_LOG_LINES};
  const ago = (ms) => {
    const s = Math.max(0, Math.floor(ms / 1000));
    if (s < 60) return s + " s ago";
    if (s < 3600) return Math.floor(s / 60) + " min ago";
    if (s < 172800) return Math.floor(s / 3600) + " h ago";
    return Math.floor(s / 86400) + " d ago";
  };
  const tick = () => {
    for (const t of document.querySelectorAll("time[data-ago]")) {
      const at = Date.parse(t.dateTime);
      if (!Number.isNaN(at)) t.textContent = ago(Date.now() - at);
    }
  };
  setInterval(tick, 1000);

  const flash = document.getElementById("flash");

  // The live regions: on every change the server announces, their fresh HTML replaces the old.
  let busy = false, again = false;
  const refresh = async () => {
    if (busy) { again = true; return; }
    busy = true;
    try {
      const res = await fetch(location.href, {
        headers: { "X-Launcher-Fragment": "live" }, credentials: "same-origin", cache: "no-store",
      });
      if (res.status === 401) { location.reload(); return; }
      const doc = new DOMParser().parseFromString(await res.text(), "text/html");
      if (!res.ok) {
        // What the page shows is gone (a manifest taken down): say so over the last view.
        const message = doc.getElementById("error-message");
        if (res.status === 404 && message && flash) {
          flash.textContent = message.textContent; flash.hidden = false;
        }
        return;
      }
      const focused = document.activeElement && document.activeElement.id;
      for (const next of doc.querySelectorAll("[data-live]")) {
        const current = document.getElementById(next.id);
        if (current !== null) current.replaceWith(document.adoptNode(next));
      }
      tick();
      if (focused) document.getElementById(focused)?.focus();
    } catch (_) {
      // The next change or the periodic refresh tries again.
    } finally {
      busy = false;
      if (again) { again = false; refresh(); }
    }
  };
  const regions = document.querySelectorAll("[data-live]");
  if (regions.length > 0) {
    const after = regions[0].dataset.after || "0";
    const source = new EventSource("/live?after=" + encodeURIComponent(after));
    source.addEventListener("change", refresh);
    source.addEventListener("signed-out", () => location.reload());
    // Liveness (hosts going offline) changes without an event: look again now and then.
    setInterval(refresh, 10000);
  }

  // The log viewer: lines arrive in batches; at most MAX_LINES stay in the DOM.
  const log = document.getElementById("log");
  if (log !== null) {
    const status = document.getElementById("log-status");
    const follow = document.getElementById("log-follow");
    const tail = document.getElementById("log-tail");
    const which = document.getElementById("log-stream");
    let source, queue = [], dropped = 0, scheduled = false;
    const say = (text) => { if (status) status.textContent = text; };
    const flush = () => {
      scheduled = false;
      if (queue.length === 0) return;
      const lines = queue;
      queue = [];
      const fragment = document.createDocumentFragment();
      for (const [stream, text] of lines) {
        const div = document.createElement("div");
        div.className = stream === "stderr" ? "l e" : "l o";
        div.textContent = text;
        fragment.appendChild(div);
      }
      log.appendChild(fragment);
      let extra = log.childElementCount - MAX_LINES;
      while (extra-- > 0) { log.firstElementChild.remove(); dropped++; }
      log.dataset.dropped = String(dropped);
      if (dropped > 0) say(dropped + " earlier lines dropped: the view keeps the last " + MAX_LINES);
      if (!follow || follow.checked) log.scrollTop = log.scrollHeight;
    };
    const note = (text) => {
      const div = document.createElement("div");
      div.className = "note";
      div.textContent = text;
      log.appendChild(div);
    };
    const open = () => {
      if (source) source.close();
      log.textContent = "";
      queue = []; dropped = 0;
      const params = new URLSearchParams();
      if (tail && tail.value !== "all") params.set("tail", tail.value);
      if (which && which.value !== "all") params.set("stream", which.value);
      source = new EventSource(log.dataset.src + "?" + params);
      say("connecting");
      source.addEventListener("open", () => say("following"));
      source.addEventListener("lines", (event) => {
        const lines = JSON.parse(event.data);
        for (const line of lines) queue.push(line);
        if (queue.length > MAX_LINES) { dropped += queue.length - MAX_LINES; queue = queue.slice(-MAX_LINES); }
        if (!scheduled) { scheduled = true; requestAnimationFrame(flush); setTimeout(flush, 250); }
      });
      source.addEventListener("problem", (event) => {
        source.close(); flush(); note(event.data); say("stopped: " + event.data);
      });
      source.addEventListener("end", () => {
        source.close(); flush(); note("the log stream ended"); say("ended");
      });
      // Reconnecting on its own would show the tail again: say so and let the user choose.
      source.addEventListener("error", () => {
        source.close(); flush(); say("disconnected: change a setting or reload to follow again");
      });
    };
    tail?.addEventListener("change", open);
    which?.addEventListener("change", open);
    follow?.addEventListener("change", () => { if (follow.checked) log.scrollTop = log.scrollHeight; });
    open();
  }

  // Action forms (also those a live region brings in later) ask first when they say so, and post
  // without leaving the page, so that its logs and live regions stay; an error shows on top.
  document.addEventListener("submit", async (event) => {
    const form = event.target;
    if (!(form instanceof HTMLFormElement)) return;
    if (form.dataset.confirm && !confirm(form.dataset.confirm)) { event.preventDefault(); return; }
    if (!form.hasAttribute("data-inline")) return;
    event.preventDefault();
    const button = form.querySelector("button");
    if (button) button.disabled = true;
    if (flash) flash.hidden = true;
    try {
      // Not form.action: the action forms' field named "action" shadows it.
      const res = await fetch(form.getAttribute("action"), {
        method: "POST", body: new URLSearchParams(new FormData(form)), credentials: "same-origin",
      });
      if (!res.ok) {
        const doc = new DOMParser().parseFromString(await res.text(), "text/html");
        const message = doc.getElementById("error-message")?.textContent || res.statusText;
        if (flash) { flash.textContent = message; flash.hidden = false; }
      } else if (new URL(res.url).pathname !== location.pathname) {
        location.href = res.url;
      } else {
        refresh();
      }
    } catch (_) {
      if (flash) { flash.textContent = "the server did not answer"; flash.hidden = false; }
    } finally {
      if (button) button.disabled = false;
    }
  });
})();
`;
