// The sign-in page: exchanges an API token for a session cookie (POST /api/session), then opens
// the dashboard. The token is sent once and never stored by the page.
// No import of dom.js: a signed-out browser may fetch only this script (auth.ts's public paths).
const form = /** @type {HTMLFormElement} */ (document.getElementById('login-form'));
const input = /** @type {HTMLInputElement} */ (document.getElementById('token'));
const error = /** @type {HTMLElement} */ (document.getElementById('login-error'));

form.addEventListener('submit', async (event) => {
  event.preventDefault();
  error.hidden = true;
  const res = await fetch('/api/session', {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json' },
    body: JSON.stringify({ token: input.value.trim() }),
  }).catch(() => null);
  if (res?.ok) {
    input.value = '';
    window.location.assign('/');
    return;
  }
  const body = /** @type {{ error?: string }} */ (res ? await res.json().catch(() => ({})) : {});
  error.textContent = body.error ?? 'the dashboard did not answer; try again';
  error.hidden = false;
});
