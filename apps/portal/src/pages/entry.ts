import { type Html, html } from '../html';
import { csrfField } from './layout';

export function signInPage(csrfToken: string, reason?: string): Html {
  return html`<h1>Sign in</h1>
    ${reason === undefined ? '' : html`<div class="notice notice-error" role="alert">${reason}</div>`}
    <p>Open the portal link your organisation sent you, or sign in with an API key.</p>
    <form class="card" method="post" action="/login">
      ${csrfField(csrfToken)}
      <label for="apiKey">API key</label>
      <input id="apiKey" name="apiKey" type="password" autocomplete="off" required placeholder="sk_…" />
      <div class="actions"><button type="submit">Sign in</button></div>
    </form>`;
}

export function messagePage(heading: string, text: string): Html {
  return html`<h1>${heading}</h1>
    <p class="card">${text}</p>
    <p><a href="/login">Sign in</a></p>`;
}
