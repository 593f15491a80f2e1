// Drives the official TypeScript MCP client's own OAuth flow headlessly against a
// Codifier server: discovery from the 401, dynamic registration, PKCE, the sign-in form
// (posted like a browser would, with the key), finishAuth, tool calls, a forced refresh,
// and a wrong key refused at sign-in. Prints one JSON object; tests/test_oauth_typescript.py
// asserts on it.
//
// usage: node oauth_flow.mjs <client package dir> <server url> <project key>
import { pathToFileURL } from "node:url";
import path from "node:path";

const [packageDir, serverUrl, projectKey] = process.argv.slice(2);
const sdk = await import(
  pathToFileURL(path.join(packageDir, "node_modules/@modelcontextprotocol/client/dist/index.mjs")).href
);
const { Client, StreamableHTTPClientTransport, UnauthorizedError } = sdk;

const REDIRECT = "http://127.0.0.1:8977/oauth/callback";

// What a browser does with the sign-in page: GET it (keeping its cookie), fill in the
// key, post the form with its hidden fields back to its action.
async function signInLikeABrowser(authorizationUrl, key) {
  const page = await fetch(authorizationUrl, { redirect: "manual" });
  const html = await page.text();
  const cookie = (page.headers.getSetCookie?.() ?? []).map((c) => c.split(";")[0]).join("; ");
  const form = new URLSearchParams();
  for (const match of html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)) {
    form.set(match[1], decodeEntities(match[2]));
  }
  form.set("api_key", key);
  const action = new URL(/<form method="post" action="([^"]+)"/.exec(html)[1], authorizationUrl);
  const answer = await fetch(action, {
    method: "POST",
    body: form,
    headers: { cookie, "content-type": "application/x-www-form-urlencoded" },
    redirect: "manual",
  });
  return {
    pageStatus: page.status,
    status: answer.status,
    location: answer.headers.get("location"),
    body: answer.status === 302 ? "" : await answer.text(),
  };
}

function decodeEntities(text) {
  return text
    .replaceAll("&#34;", '"')
    .replaceAll("&#39;", "'")
    .replaceAll("&lt;", "<")
    .replaceAll("&gt;", ">")
    .replaceAll("&amp;", "&");
}

class HeadlessProvider {
  constructor(key) {
    this.key = key;
    this._tokens = undefined;
    this._client = undefined;
    this._verifier = undefined;
    this._state = undefined;
    this.signIns = [];
    this.savedTokens = [];
    this.callback = undefined;
  }
  get redirectUrl() {
    return REDIRECT;
  }
  get clientMetadata() {
    return {
      client_name: "Codifier TypeScript OAuth test",
      redirect_uris: [REDIRECT],
      grant_types: ["authorization_code", "refresh_token"],
      response_types: ["code"],
      token_endpoint_auth_method: "none",
    };
  }
  state() {
    this._state = crypto.randomUUID();
    return this._state;
  }
  clientInformation() {
    return this._client;
  }
  saveClientInformation(info) {
    this._client = info;
  }
  tokens() {
    return this._tokens;
  }
  saveTokens(tokens) {
    this._tokens = tokens;
    this.savedTokens.push(tokens);
  }
  saveCodeVerifier(verifier) {
    this._verifier = verifier;
  }
  codeVerifier() {
    return this._verifier;
  }
  async redirectToAuthorization(url) {
    const result = await signInLikeABrowser(url, this.key);
    this.signIns.push({
      authorizationUrl: url.href,
      pageStatus: result.pageStatus,
      status: result.status,
      redirected: result.location !== null,
      alert: /role="alert"/.test(result.body),
      keyEchoed: result.body.includes(this.key),
    });
    if (result.location) this.callback = new URL(result.location);
  }
}

function connect(provider) {
  const transport = new StreamableHTTPClientTransport(new URL(`${serverUrl}/mcp`), {
    authProvider: provider,
  });
  return { transport, client: new Client({ name: "codifier-oauth-test", version: "1.0.0" }) };
}

function structured(result) {
  if (result.isError) throw new Error(result.content.map((c) => c.text).join(" "));
  return result.structuredContent;
}

const out = {};

// 1. The first connection has no token: the 401 starts the OAuth flow, which ends in
//    redirectToAuthorization (our headless sign-in) and an UnauthorizedError.
const provider = new HeadlessProvider(projectKey);
let first = connect(provider);
try {
  await first.client.connect(first.transport);
  out.firstConnect = "connected without signing in";
} catch (error) {
  out.firstConnect = error instanceof UnauthorizedError ? "unauthorized" : `${error}`;
}
out.registeredClient = provider._client
  ? {
      hasClientId: Boolean(provider._client.client_id),
      hasSecret: Boolean(provider._client.client_secret),
      authMethod: provider._client.token_endpoint_auth_method,
    }
  : null;
out.signIn = provider.signIns[0] ?? null;
const authorization = out.signIn ? new URL(out.signIn.authorizationUrl).searchParams : null;
out.authorizationRequest = authorization
  ? {
      codeChallengeMethod: authorization.get("code_challenge_method"),
      hasChallenge: Boolean(authorization.get("code_challenge")),
      resource: authorization.get("resource"),
      hasState: Boolean(authorization.get("state")),
    }
  : null;
out.callback = provider.callback
  ? {
      hasCode: provider.callback.searchParams.has("code"),
      stateMatches: provider.callback.searchParams.get("state") === provider._state,
      iss: provider.callback.searchParams.get("iss"),
    }
  : null;

// 2. Back from the sign-in page: the SDK checks iss, exchanges the code with the verifier.
await first.transport.finishAuth(provider.callback.searchParams);
out.tokensAfterExchange = provider.savedTokens.length;
out.clientId = provider._client.client_id;
out.firstRefreshToken = provider._tokens?.refresh_token ?? null;

// 3. Connected with the access token: tools scoped to the key's project.
let second = connect(provider);
await second.client.connect(second.transport);
const tools = await second.client.listTools();
out.toolNames = tools.tools.map((t) => t.name).sort();
out.projects = structured(
  await second.client.callTool({ name: "manage_projects", arguments: { operation: "list" } })
).projects.map((p) => p.name);
out.memories = structured(
  await second.client.callTool({ name: "fetch_context", arguments: {} })
).memories.map((m) => m.title);

// 4. A refresh: the access token stops working (here: replaced by one the server never
//    issued), the next call gets 401, and the SDK refreshes with the refresh token.
const beforeRefresh = provider.savedTokens.length;
provider._tokens = { ...provider._tokens, access_token: "cdat_expired-or-unknown" };
await second.client.close();
let third = connect(provider);
await third.client.connect(third.transport);
out.memoriesAfterRefresh = structured(
  await third.client.callTool({ name: "fetch_context", arguments: {} })
).memories.map((m) => m.title);
out.refreshed = provider.savedTokens.length > beforeRefresh;
out.signInsTotal = provider.signIns.length; // a refresh needs no new sign-in
out.rotated = provider._tokens.refresh_token !== out.firstRefreshToken;
await third.client.close();

// 5. A wrong key: the page refuses it, no redirect, no code, and the client cannot connect.
const wrong = new HeadlessProvider(`cdf_wrong-${crypto.randomUUID()}`);
let refused = connect(wrong);
try {
  await refused.client.connect(refused.transport);
  out.wrongKeyConnect = "connected";
} catch (error) {
  out.wrongKeyConnect = error instanceof UnauthorizedError ? "unauthorized" : `${error}`;
}
out.wrongKeySignIn = wrong.signIns[0] ?? null;
out.wrongKeyTokens = wrong.savedTokens.length;

console.log(JSON.stringify(out));
process.exit(0);
