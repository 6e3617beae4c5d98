/**
 * A real OpenID provider for sign-in tests: oidc-provider (v8) on 127.0.0.1, port 0, with its
 * development login/consent pages (any login, any password). The listener starts first so the
 * issuer URL is known; the Provider is built once the relying party's callback URL is known
 * (`register`). Accounts and their claims come from the test.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import Provider from 'oidc-provider';

export type AccountClaims = Record<string, unknown>;

export interface TestOidcProvider {
  readonly issuer: string;
  /** Builds the provider with one public client (PKCE) allowed to redirect to `redirectUri`. */
  register(client: { clientId: string; redirectUri: string }): void;
  stop(): Promise<void>;
}

export async function startOidcProvider(accounts: Readonly<Record<string, AccountClaims>>): Promise<TestOidcProvider> {
  let handler: ((req: IncomingMessage, res: ServerResponse) => void) | undefined;
  const server: Server = createServer((req, res) => {
    if (handler) handler(req, res);
    else res.writeHead(503).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    issuer,
    register({ clientId, redirectUri }) {
      const provider = new Provider(issuer, {
        clients: [{ client_id: clientId, token_endpoint_auth_method: 'none', redirect_uris: [redirectUri], grant_types: ['authorization_code'], response_types: ['code'] }],
        pkce: { required: () => true },
        claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name', 'continuum_role', 'tenant', 'continuum_customer'] },
        features: { devInteractions: { enabled: true } },
        async findAccount(_ctx, id) {
          const claims = accounts[id];
          if (!claims) return undefined;
          return { accountId: id, claims: async () => ({ sub: id, ...claims }) };
        },
      });
      // The dev pages are enough; keep the provider's warnings about them out of test output.
      provider.on('server_error', (_ctx, err) => console.error('oidc-provider:', err));
      handler = provider.callback();
    },
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** fetch with a cookie jar and manual redirects, as a browser would walk the provider's pages. */
export class Browserish {
  private readonly cookies = new Map<string, string>();

  async get(url: string): Promise<Response> {
    return this.send(url, { method: 'GET' });
  }

  async postForm(url: string, form: Record<string, string>): Promise<Response> {
    return this.send(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(form).toString() });
  }

  /** Follows redirects until one leaves for `stopAt` (returned, not fetched) or a page answers. */
  async follow(start: Response, base: string, stopAt: string): Promise<{ response: Response; url: string }> {
    let response = start;
    let url = base;
    while (response.status >= 300 && response.status < 400) {
      const next = new URL(response.headers.get('location') ?? '', url).href;
      if (next.startsWith(stopAt)) return { response, url: next };
      url = next;
      response = await this.get(next);
    }
    return { response, url };
  }

  private async send(url: string, init: RequestInit): Promise<Response> {
    const cookie = [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    const res = await fetch(url, { ...init, redirect: 'manual', headers: { ...(init.headers as Record<string, string> | undefined), ...(cookie ? { cookie } : {}) } });
    for (const line of res.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const at = pair?.indexOf('=') ?? -1;
      if (!pair || at < 0) continue;
      const value = pair.slice(at + 1);
      if (value === '' || /expires=Thu, 01 Jan 1970/i.test(line)) this.cookies.delete(pair.slice(0, at));
      else this.cookies.set(pair.slice(0, at), value);
    }
    return res;
  }
}

/** The provider's dev login then consent pages: returns the redirect to our callback. */
export async function signInAtProvider(browser: Browserish, authorizationUrl: string, login: string, callbackPrefix: string): Promise<string> {
  let { response, url } = await browser.follow(await browser.get(authorizationUrl), authorizationUrl, callbackPrefix);
  for (let page = 0; page < 4 && !url.startsWith(callbackPrefix); page += 1) {
    const html = await response.text();
    const action = /<form[^>]*action="([^"]+)"/.exec(html)?.[1];
    if (!action) throw new Error(`no form on provider page ${url} (${response.status}): ${html.slice(0, 300)}`);
    const prompt = /name="prompt" value="([^"]+)"/.exec(html)?.[1];
    const submit = new URL(action.replace(/&amp;/g, '&'), url).href;
    const posted = await browser.postForm(submit, prompt === 'login' ? { prompt, login, password: 'any' } : { prompt: prompt ?? 'consent' });
    ({ response, url } = await browser.follow(posted, submit, callbackPrefix));
  }
  if (!url.startsWith(callbackPrefix)) throw new Error(`the provider did not redirect back (last page ${url})`);
  return url;
}
