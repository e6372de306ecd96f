// The sign-in page: exchanges an API token for a session cookie (POST /api/session), then opens
// the dashboard. The token is sent once and never stored by the page.
const form = document.getElementById('login-form');
const input = document.getElementById('token');
const error = document.getElementById('login-error');

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
  const body = res ? await res.json().catch(() => ({})) : {};
  error.textContent = body.error ?? 'the dashboard did not answer; try again';
  error.hidden = false;
});
