import { signIn } from '../api.js';
import { h } from '../dom.js';
import type { View } from '../main.js';

export function signInPage(reason: string | undefined, done: () => void): View {
  const email = h('input', { id: 'email', name: 'email', type: 'email', autocomplete: 'username', required: true, autofocus: true });
  const password = h('input', { id: 'password', name: 'password', type: 'password', autocomplete: 'current-password', required: true });
  const message = h('p', { class: 'form-error', role: 'alert' }, reason === 'expired' ? 'Your session expired. Sign in again.' : '');
  const button = h('button', { type: 'submit', class: 'primary' }, 'Sign in');
  const form = h(
    'form',
    {
      class: 'card sign-in',
      novalidate: false,
      onsubmit: (e: Event) => {
        e.preventDefault();
        button.disabled = true;
        message.textContent = '';
        signIn(email.value.trim(), password.value)
          .then(() => done())
          .catch((err: unknown) => {
            message.textContent = err instanceof Error ? err.message : String(err);
            button.disabled = false;
            password.select();
          });
      },
    },
    h('h1', null, 'Sign in to Continuum'),
    h('div', { class: 'field' }, h('label', { for: 'email' }, 'Email'), email),
    h('div', { class: 'field' }, h('label', { for: 'password' }, 'Password'), password),
    message,
    button,
  );
  const el = h('main', { id: 'main', class: 'sign-in-page' }, form);
  queueMicrotask(() => email.focus());
  return { title: 'Sign in', el };
}
