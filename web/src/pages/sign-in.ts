import { ApiError, oidcConfig, signIn } from '../api.js';
import { h, replaceChildren } from '../dom.js';
import type { View } from '../main.js';

export function signInPage(reason: string | undefined, done: () => void): View {
  const email = h('input', { id: 'email', name: 'email', type: 'email', autocomplete: 'username', required: true, autofocus: true });
  const password = h('input', { id: 'password', name: 'password', type: 'password', autocomplete: 'current-password', required: true });
  const message = h('p', { class: 'form-error', role: 'alert' }, reason === 'expired' ? 'Your session expired. Sign in again.' : '');
  // Shown once the server says the account has a second factor.
  const code = h('input', { id: 'totp', name: 'totp', type: 'text', inputmode: 'numeric', autocomplete: 'one-time-code', maxlength: 64 });
  const codeField = h('div', { class: 'field', hidden: true }, h('label', { for: 'totp' }, 'Authenticator code (or a recovery code)'), code);
  const button = h('button', { type: 'submit', class: 'primary' }, 'Sign in');
  const sso = h('p', { class: 'sso', hidden: true });
  void oidcConfig().then((config) => {
    if (!config.enabled) return;
    replaceChildren(sso, h('a', { class: 'button', href: '/api/auth/oidc/login', id: 'sso' }, config.label ?? 'Sign in with SSO'));
    sso.hidden = false;
  });
  const form = h(
    'form',
    {
      class: 'card sign-in',
      novalidate: false,
      onsubmit: (e: Event) => {
        e.preventDefault();
        button.disabled = true;
        message.textContent = '';
        signIn(email.value.trim(), password.value, codeField.hidden ? undefined : code.value.trim())
          .then(() => done())
          .catch((err: unknown) => {
            message.textContent = err instanceof Error ? err.message : String(err);
            button.disabled = false;
            if (err instanceof ApiError && err.code === 'SECOND_FACTOR_REQUIRED') {
              codeField.hidden = false;
              code.value = '';
              code.focus();
            } else password.select();
          });
      },
    },
    h('h1', null, 'Sign in to Continuum'),
    h('div', { class: 'field' }, h('label', { for: 'email' }, 'Email'), email),
    h('div', { class: 'field' }, h('label', { for: 'password' }, 'Password'), password),
    codeField,
    message,
    button,
    sso,
  );
  const el = h('main', { id: 'main', class: 'sign-in-page' }, form);
  queueMicrotask(() => email.focus());
  return { title: 'Sign in', el };
}
