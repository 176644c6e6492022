/** The sign-in page, and the page of an answer that is an error. */
import type { FC } from "hono/jsx";

/** The sign-in form: a token (admin or read) becomes a session. */
export const LoginPage: FC<{ next: string; error?: string }> = ({ next, error }) => (
  <section class="card login" aria-labelledby="login-h">
    <h1 id="login-h">Sign in</h1>
    {error === undefined ? null : <p class="flash" role="alert" id="login-error">{error}</p>}
    <form method="post" action="/login">
      <input type="hidden" name="next" value={next} />
      <label for="token">Token (admin or read)</label>
      <input
        type="password"
        id="token"
        name="token"
        autocomplete="current-password"
        required
        autofocus
      />
      <button type="submit" class="primary" id="sign-in">Sign in</button>
    </form>
    <p class="muted">
      Make one with <code>launcher token generate</code> (admin) or{" "}
      <code>launcher token generate --role read</code>.
    </p>
  </section>
);

/** An error as a page: what went wrong and the way back. */
export const ErrorPage: FC<{ status: number; message: string }> = ({ status, message }) => (
  <section class="card" aria-labelledby="error-h">
    <h1 id="error-h">{status === 403 ? "Not allowed" : status === 404 ? "Not found" : "Error"}</h1>
    <p class="error" id="error-message">{message}</p>
    <p>
      <a href="/">Back to the overview</a>
    </p>
  </section>
);
