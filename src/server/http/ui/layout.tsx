/** The frame of every web UI page: head, navigation, who is signed in, and the main area. */
import type { Child, FC } from "hono/jsx";

/** The sections of the navigation. */
export type Section = "overview" | "hosts" | "events" | "none";

/** Who is looking: what the header shows and whether action buttons are drawn. */
export interface ViewerInfo {
  role: string;
  tokenId: string;
  csrf: string;
  admin: boolean;
}

const NAV: [Section, string, string][] = [
  ["overview", "/", "Overview"],
  ["hosts", "/hosts", "Hosts"],
  ["events", "/events", "Events"],
];

/** A whole page: `children` is what goes in `<main>`. */
export const Layout: FC<{
  title: string;
  section: Section;
  viewer?: ViewerInfo;
  children?: Child;
}> = ({ title, section, viewer, children }) => (
  <html lang="en">
    <head>
      <meta charset="utf-8" />
      <meta name="viewport" content="width=device-width, initial-scale=1" />
      <title>{title} · launcher</title>
      <link rel="stylesheet" href="/assets/ui.css" />
      <script src="/assets/ui.js" defer></script>
    </head>
    <body>
      <header class="top">
        <a class="brand" href="/">launcher</a>
        {viewer === undefined ? null : (
          <nav aria-label="Main">
            {NAV.map(([key, href, label]) => (
              <a href={href} aria-current={key === section ? "page" : undefined}>{label}</a>
            ))}
          </nav>
        )}
        {viewer === undefined ? null : (
          <div class="who">
            <span title={`token ${viewer.tokenId}`}>
              {viewer.admin ? "admin" : `${viewer.role} only`}
            </span>
            <form method="post" action="/logout">
              <input type="hidden" name="csrf" value={viewer.csrf} />
              <button type="submit" id="sign-out">Sign out</button>
            </form>
          </div>
        )}
      </header>
      <main>
        <p id="flash" class="flash" role="alert" hidden></p>
        {children}
      </main>
    </body>
  </html>
);

/**
 * A part of a page that follows the server's changes: the script fetches the page again on every
 * change after event `after` and swaps each such part for its fresh copy, by `id`.
 */
export const Live: FC<{ id: string; after: number; children?: Child }> = (
  { id, after, children },
) => <div id={id} data-live="" data-after={String(after)}>{children}</div>;
