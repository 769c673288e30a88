// The hub's GraphiQL page: a sign-in panel (OAuth2 client credentials) and GraphiQL.
//
// Served from the hub's origin as a file, since the page's Content-Security-Policy allows
// no inline script. The access token lives in this tab's sessionStorage only (never
// localStorage; GraphiQL's shouldPersistHeaders is off) and the client secret only in
// this script's memory, to renew the token before it expires; a reloaded tab keeps its
// token until it expires and then asks to sign in again. The secret is sent only in the
// Authorization header of POSTs to the token endpoint, never in a URL.
(function () {
  "use strict";

  var STORAGE_KEY = "hub-graphiql-token";
  var form = document.getElementById("hub-signin");
  var graphqlUrl = form.dataset.graphqlUrl;
  var tokenUrl = form.dataset.tokenUrl;
  var revokeUrl = form.dataset.revokeUrl;
  var demoFile = form.dataset.demoCredentials;
  var fields = document.getElementById("hub-signin-fields");
  var signedIn = document.getElementById("hub-signed-in");
  var status = document.getElementById("hub-signin-status");
  var clientIdInput = document.getElementById("hub-client-id");
  var secretInput = document.getElementById("hub-client-secret");
  var scopeInput = document.getElementById("hub-scope");

  var secret = null; // in memory only, for renewals
  var renewTimer = null;
  var generation = 0; // GraphiQL's key: a new sign-in mounts it anew (schema reloads)
  var root = ReactDOM.createRoot(document.getElementById("graphiql"));

  var WELCOME = [
    "# Welcome to the hub's GraphiQL.",
    "#",
    "# Sign in first, in the panel above, with a client id",
    "# and its secret. `make run` (it runs `hub demo`) writes",
    "# the demo clients to " + demoFile + ";",
    "# `hub clients create --name NAME --scopes customs:read`",
    "# makes one of your own.",
    "#",
    "# The token stays in this tab's sessionStorage and is",
    "# renewed before it expires. Once signed in, the Docs",
    "# button (top left) shows the schema. Run with Ctrl-Enter:",
    "{",
    "  me {",
    "    clientId",
    "    name",
    "    scopes",
    "  }",
    "}",
    "",
  ].join("\n");

  function stored() {
    try {
      var token = JSON.parse(window.sessionStorage.getItem(STORAGE_KEY) || "null");
      return token && typeof token.access_token === "string" ? token : null;
    } catch (e) {
      return null;
    }
  }

  function basicAuth(clientId, clientSecret) {
    // RFC 6749 section 2.3.1: each part form-encoded, then base64 of the UTF-8 bytes.
    var raw = encodeURIComponent(clientId) + ":" + encodeURIComponent(clientSecret);
    var bytes = new TextEncoder().encode(raw);
    var binary = "";
    bytes.forEach(function (b) { binary += String.fromCharCode(b); });
    return "Basic " + window.btoa(binary);
  }

  function showStatus(text, isError) {
    status.textContent = text;
    status.classList.toggle("hub-error", Boolean(isError));
  }

  function render() {
    var token = stored();
    fields.hidden = Boolean(token);
    signedIn.hidden = !token;
    if (token) {
      document.getElementById("hub-signed-in-client").textContent = token.client_id;
      document.getElementById("hub-signed-in-scope").textContent =
        token.scope ? "(" + token.scope + ")" : "";
    }
    root.render(
      React.createElement(GraphiQL, {
        key: "graphiql-" + generation,
        fetcher: fetcher,
        defaultQuery: WELCOME,
        shouldPersistHeaders: false,
      })
    );
  }

  async function requestToken(clientId, clientSecret, scope) {
    var body = new URLSearchParams({ grant_type: "client_credentials" });
    if (scope) body.set("scope", scope);
    var response = await fetch(tokenUrl, {
      method: "POST",
      headers: {
        "Authorization": basicAuth(clientId, clientSecret),
        "Content-Type": "application/x-www-form-urlencoded",
        "Accept": "application/json",
      },
      body: body.toString(),
      credentials: "omit",
      cache: "no-store",
    });
    var answer = {};
    try { answer = await response.json(); } catch (e) { /* not JSON: reported below */ }
    if (!response.ok || typeof answer.access_token !== "string") {
      var reason = answer.error_description || answer.error || "no token in the answer";
      throw new Error(reason + " (HTTP " + response.status + ")");
    }
    var lifetime = Number(answer.expires_in) > 0 ? Number(answer.expires_in) : 300;
    var token = {
      access_token: answer.access_token,
      client_id: clientId,
      scope: answer.scope || "",
      expires_in: lifetime,
      expires_at: Date.now() + lifetime * 1000,
    };
    window.sessionStorage.setItem(STORAGE_KEY, JSON.stringify(token));
    return token;
  }

  function scheduleRenewal(token) {
    window.clearTimeout(renewTimer);
    // Renew a quarter of the lifetime (at most a minute) before expiry.
    var margin = Math.min(60000, token.expires_in * 250);
    var delay = Math.max(0, token.expires_at - margin - Date.now());
    renewTimer = window.setTimeout(renew, delay);
  }

  async function renew() {
    var token = stored();
    if (!token) return;
    if (secret === null) {
      // A reloaded tab has the token but not the secret: sign in again when it expires.
      var left = token.expires_at - Date.now();
      if (left > 0) {
        renewTimer = window.setTimeout(renew, left);
      } else {
        signOut("Your session expired: sign in again.", true);
      }
      return;
    }
    try {
      scheduleRenewal(await requestToken(token.client_id, secret, token.scope));
    } catch (error) {
      signOut("Could not renew the token: " + error.message + ". Sign in again.", true);
    }
  }

  async function signIn(event) {
    event.preventDefault();
    var clientId = clientIdInput.value.trim();
    var clientSecret = secretInput.value;
    if (!clientId || !clientSecret) {
      showStatus("Enter a client id and its secret (see " + demoFile + ").", true);
      return;
    }
    showStatus("Signing in…", false);
    try {
      var token = await requestToken(clientId, clientSecret, scopeInput.value.trim());
      secret = clientSecret;
      secretInput.value = ""; // not left in the page
      generation += 1;
      scheduleRenewal(token);
      showStatus("Signed in; the Docs button shows the schema.", false);
      render();
    } catch (error) {
      showStatus("Sign-in failed: " + error.message, true);
    }
  }

  function signOut(message, isError) {
    var token = stored();
    if (token && secret !== null) {
      // Best effort: the hub refuses a revoked token even before it expires.
      var body = new URLSearchParams({ token: token.access_token });
      fetch(revokeUrl, {
        method: "POST",
        headers: {
          "Authorization": basicAuth(token.client_id, secret),
          "Content-Type": "application/x-www-form-urlencoded",
        },
        body: body.toString(),
        credentials: "omit",
      }).catch(function () {});
    }
    window.clearTimeout(renewTimer);
    window.sessionStorage.removeItem(STORAGE_KEY);
    secret = null;
    generation += 1;
    showStatus(message || "Signed out. Enter a client id and secret to sign in.", isError);
    render();
  }

  async function authorizedFetch(url, init) {
    var token = stored();
    var headers = new Headers((init && init.headers) || {});
    if (token) headers.set("Authorization", "Bearer " + token.access_token);
    return fetch(url, Object.assign({}, init, { headers: headers, credentials: "omit" }));
  }

  var serverFetcher = GraphiQL.createFetcher({ url: graphqlUrl, fetch: authorizedFetch });

  async function fetcher(params, options) {
    var token = stored();
    if (token && token.expires_at - Date.now() < 1000 && secret !== null) {
      // Expired or about to (the renewal timer was late): renew before asking.
      try {
        token = await requestToken(token.client_id, secret, token.scope);
        scheduleRenewal(token);
      } catch (error) {
        signOut("Could not renew the token: " + error.message + ". Sign in again.", true);
        token = null;
      }
    }
    if (!token || token.expires_at <= Date.now()) {
      return {
        errors: [{
          message: "Not signed in: enter a client id and secret in the sign-in panel above " +
            "(the demo clients are in " + demoFile + ", written by `hub demo`).",
          extensions: { code: "UNAUTHENTICATED" },
        }],
      };
    }
    return serverFetcher(params, options);
  }

  form.addEventListener("submit", signIn);
  document.getElementById("hub-signout-button").addEventListener("click", function () {
    signOut();
  });
  var existing = stored();
  if (existing) {
    showStatus("Signed in (this tab's session).", false);
    renew(); // schedules the expiry check: the secret is not kept across reloads
  }
  render();
})();
