/**
 * My account → Two-step sign-in: enrol a TOTP authenticator (the otpauth URI and the secret as
 * text to paste or type), confirm it with a first code, keep the recovery codes shown once, or
 * remove the factor with a current code.
 */
import { api, get, post } from '../api.js';
import { field, h, replaceChildren } from '../dom.js';
import { errorText } from './users.js';

interface TotpStatus {
  active: boolean;
  pending: boolean;
  recoveryCodesLeft: number;
}

export function totpCard(): HTMLElement {
  const card = h('section', { class: 'card', 'aria-labelledby': 'totp-h' });
  const body = h('div');
  const error = h('p', { class: 'form-error', role: 'alert' });

  function codeForm(label: string, action: string, submit: (code: string) => Promise<void>): HTMLFormElement {
    const code = h('input', { type: 'text', inputmode: 'numeric', autocomplete: 'one-time-code', required: true, maxlength: 64 });
    const button = h('button', { type: 'submit', class: 'primary' }, action);
    return h(
      'form',
      {
        class: 'toolbar',
        onsubmit: (e: Event) => {
          e.preventDefault();
          error.textContent = '';
          button.disabled = true;
          submit(code.value.trim())
            .catch((err: unknown) => (error.textContent = errorText(err)))
            .finally(() => (button.disabled = false));
        },
      },
      field(label, code),
      button,
    );
  }

  function showEnrolment(offer: { secret: string; uri: string }): void {
    const uri = h('input', { type: 'text', readonly: true, value: offer.uri, class: 'key-value', id: 'totp-uri', spellcheck: 'false' });
    const secret = h('input', { type: 'text', readonly: true, value: offer.secret, class: 'key-value', id: 'totp-secret', spellcheck: 'false' });
    replaceChildren(
      body,
      h('p', { class: 'hint' }, 'Add this to your authenticator app (paste the link, or type the secret), then enter the code it shows.'),
      field('otpauth link', uri),
      field('Secret', secret),
      codeForm('Code from the app', 'Turn on', async (code) => {
        const { recoveryCodes } = await post<{ recoveryCodes: string[] }>('/api/auth/totp/confirm', { code });
        showRecovery(recoveryCodes);
      }),
    );
  }

  function showRecovery(codes: string[]): void {
    replaceChildren(
      body,
      h('p', { class: 'notice' }, 'Two-step sign-in is on. Keep these recovery codes somewhere safe: each works once, and they are not shown again.'),
      h('ul', { class: 'recovery-codes', id: 'recovery-codes' }, codes.map((c) => h('li', null, h('code', null, c)))),
      h('button', { type: 'button', onclick: () => void load() }, 'Done'),
    );
  }

  async function load(): Promise<void> {
    error.textContent = '';
    try {
      const status = await get<TotpStatus>('/api/auth/totp');
      if (status.active) {
        replaceChildren(
          body,
          h('p', null, `Two-step sign-in is on (${status.recoveryCodesLeft} recovery codes left).`),
          codeForm('Current code, to turn it off', 'Turn off', async (code) => {
            await api('DELETE', '/api/auth/totp', { code });
            await load();
          }),
        );
      } else {
        const start = h('button', { type: 'button', class: 'primary', id: 'totp-enroll' }, 'Set up an authenticator app');
        start.onclick = () => {
          post<{ secret: string; uri: string }>('/api/auth/totp/enroll')
            .then(showEnrolment)
            .catch((err: unknown) => (error.textContent = errorText(err)));
        };
        replaceChildren(body, h('p', { class: 'hint' }, 'Two-step sign-in is off: your password alone signs in.'), start);
      }
      // Not data-loaded: pages wait for the API keys card by that name.
      card.dataset.totp = 'loaded';
    } catch (err) {
      error.textContent = errorText(err);
    }
  }

  replaceChildren(card, h('h2', { id: 'totp-h' }, 'Two-step sign-in'), body, error);
  void load();
  return card;
}

