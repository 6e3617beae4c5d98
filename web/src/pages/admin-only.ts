/** What a page for admins shows to anyone else (the API refuses them with 403 anyway). */
import { h } from '../dom.js';
import type { View } from '../main.js';

export function adminOnlyView(title: string, message: string): View {
  return {
    title,
    el: h('section', { class: 'page admin-only' }, h('h1', null, title), h('p', { class: 'form-error', role: 'alert' }, message), h('p', null, h('a', { href: '#/devices' }, 'Back to the fleet'))),
  };
}
