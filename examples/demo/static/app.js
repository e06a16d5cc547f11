"use strict";
// The page's side of authx's browser sessions: tokens live in HttpOnly
// cookies the page cannot read; the page reads the CSRF cookie and sends it
// back in the X-CSRF-TOKEN header on every unsafe request. What it knows of
// its token it learns from GET /api/me, which answers the token's claims
// (never the token).

const $ = (id) => document.getElementById(id);

function cookie(name) {
  const c = document.cookie.split("; ").find((c) => c.startsWith(name + "="));
  return c ? decodeURIComponent(c.slice(name.length + 1)) : "";
}

const pad = (n) => String(n).padStart(2, "0");
// clock shows a time as the log and the claims panel do: local hh:mm:ss.
const clock = (d) => `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
const short = (id) => (id ? id.slice(0, 8) + "…" : "–");

async function call(method, path, { body, csrf = true } = {}) {
  const headers = {};
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (csrf && !["GET", "HEAD", "OPTIONS"].includes(method)) {
    headers["X-CSRF-TOKEN"] = cookie(path === "/auth/refresh" ? "csrf_refresh_token" : "csrf_access_token");
  }
  const res = await fetch(path, {
    method, headers, credentials: "same-origin",
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  let code = "";
  try { code = JSON.parse(text).code || ""; } catch { /* not JSON */ }
  watchCSRF(`${method} ${path}`);
  return { status: res.status, text: text.trim(), code };
}

// A renewal shows up as a new CSRF cookie value on the answer to a request
// (the access cookie beside it is HttpOnly). The page then asks /api/me for
// the new token's claims.
let lastCSRF = "";
// renewedBy lists the requests whose answers carried new cookies since the
// page last saw the claims change (two can race: the page's own request
// and a click).
let renewedBy = [];
function watchCSRF(request) {
  const now = cookie("csrf_access_token");
  const login = request.startsWith("POST /auth/login") || request.startsWith("POST /auth/logout");
  if (lastCSRF && now && now !== lastCSRF && !login) {
    $("renewals").value = String(Number($("renewals").value) + 1);
    if (!renewedBy.includes(request)) renewedBy.push(request);
    loadClaims();
  }
  lastCSRF = now || lastCSRF;
  $("csrf-now").textContent = now ? now.slice(0, 8) + "…" : "–";
}

// The log: sign-ins, renewals, expiries, WebSocket opens and closes.
function log(kind, text) {
  const li = document.createElement("li");
  li.className = kind;
  li.append(Object.assign(document.createElement("time"), { textContent: clock(new Date()) }), " " + text);
  const list = $("log");
  list.append(li);
  while (list.children.length > 200) list.firstElementChild.remove();
  li.scrollIntoView({ block: "nearest" });
}

// me holds the claims /api/me last answered, null when not signed in;
// meNote says why not, last is the login's latest claims until a login or
// logout. epoch counts logins and logouts, so that an answer to a request
// sent before one is dropped.
let me = null;
let last = null;
let meNote = "not signed in";
let epoch = 0;
let loaded = false; // whether /api/me has answered since the page loaded

// loadClaims asks GET /api/me for the current token's claims; calls made
// while one is running are folded into one more request after it.
let loading = null;
let again = false;
function loadClaims() {
  if (loading) {
    again = true;
    return loading;
  }
  loading = (async () => {
    try {
      do {
        again = false;
        await fetchClaims();
      } while (again);
    } finally {
      loading = null;
    }
  })();
  return loading;
}

async function fetchClaims() {
  const sent = epoch;
  const r = await call("GET", "/api/me");
  if (sent !== epoch) return;
  const was = me;
  const onLoad = !loaded;
  loaded = true;
  if (r.status !== 200) {
    me = null;
    meNote = `not signed in (GET /api/me: ${r.status} ${r.code})`.replace(" )", ")");
    if (was) {
      log("signed-out", `signed out: GET /api/me answered ${r.status} ${r.code}`.trim() +
        " (POST /auth/refresh renews the login while its refresh cookie lives)");
    }
    else if (onLoad) log("page", "page loaded: not signed in");
    render();
    return;
  }
  const c = JSON.parse(r.text);
  // A token of the login the page last knew (even one whose token has
  // expired since: POST /auth/refresh renews it) is a renewal.
  const prev = was || last;
  me = last = c;
  const exp = clock(new Date(c.exp));
  if (!prev || prev.sid !== c.sid || prev.sub !== c.sub) {
    log("signed-in", `${onLoad ? "page loaded: " : ""}signed in as ${c.sub} (${c.scopes.join(" ") || "no scopes"}), session ${short(c.sid)}: ` +
      `token ${short(c.jti)} expires ${exp}, renewal window opens ${clock(new Date(c.renew_from))}`);
  } else if (prev.jti !== c.jti) {
    const by = renewedBy.length ? `on the answer${renewedBy.length > 1 ? "s" : ""} to ${renewedBy.join(" and ")}` : "by a request";
    renewedBy = [];
    log("renewal", `renewed ${by}: new token ${short(c.jti)} ` +
      `expires ${exp} (was ${clock(new Date(prev.exp))}), fresh ${c.fresh ? "yes" : "no"}`);
  }
  render();
}

// render writes the claims panel; tick, each second, the countdowns.
function render() {
  const panel = $("claims");
  if (!me) {
    panel.replaceChildren(Object.assign(document.createElement("p"), { id: "claims-none", textContent: meNote }));
    $("delta").value = "last –";
    tick();
    return;
  }
  const dl = document.createElement("dl");
  for (const [id, label, value] of [
    ["sub", "subject (sub)", me.name ? `${me.sub} (${me.name})` : me.sub],
    ["scopes", "scopes", me.scopes.length ? me.scopes.join(" ") : "none"],
    ["fresh", "fresh", me.fresh ? "yes: issued by a login" : "no: issued by a refresh"],
    ["jti", "token id (jti)", short(me.jti)],
    ["iat", "issued (iat)", clock(new Date(me.iat))],
    ["exp", "expires (exp)", clock(new Date(me.exp))],
    ["sid", "session (sid)", short(me.sid)],
  ]) {
    dl.append(Object.assign(document.createElement("dt"), { textContent: label }),
      Object.assign(document.createElement("dd"), { id: "claim-" + id, textContent: value }));
  }
  panel.replaceChildren(dl);
  $("delta").value = `last ${Math.round((Date.parse(me.exp) - Date.parse(me.renew_from)) / 1000)} s`;
  tick();
}

// The page's own renewal request: once the window of the token it knows
// is open, one GET /api/me, and again each second until the claims change.
let askedFor = "";
let askedAt = 0;
let expiredFor = "";
function tick() {
  if (!me) {
    $("exp-in").value = "– (not signed in)";
    $("renew-in").value = "–";
    $("renew-note").textContent = "";
    return;
  }
  const now = Date.now();
  const exp = Date.parse(me.exp);
  const from = Date.parse(me.renew_from);
  const left = (t) => `${Math.max(0, Math.ceil((t - now) / 1000))} s`;
  $("exp-in").value = left(exp);
  $("renew-in").value = left(from);
  const at = clock(new Date(from));
  if (now < from) {
    $("renew-note").textContent = `(at ${at}): from then on, the next request renews the token`;
  } else if (now < exp) {
    $("renew-note").textContent = $("auto-renew").checked
      ? `— open since ${at}: the page sends GET /api/me to renew the token`
      : `— open since ${at}: the next request renews the token`;
  } else {
    $("renew-note").textContent = "— the token expired with no request in its renewal window";
  }
  // The server renews when less than the window is left: a little past it.
  if ($("auto-renew").checked && now > from + 50 && now < exp && !(askedFor === me.jti && now - askedAt < 1000)) {
    if (askedFor !== me.jti) log("window", `renewal window of token ${short(me.jti)} open: the page sends GET /api/me`);
    askedFor = me.jti;
    askedAt = now;
    loadClaims();
  }
  if (now >= exp && expiredFor !== me.jti) {
    expiredFor = me.jti;
    log("expired", `token ${short(me.jti)} expired at ${clock(new Date(exp))} with no request in its renewal window`);
    loadClaims();
  }
}
setInterval(tick, 250);

$("login-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const r = await call("POST", "/auth/login/cookie", {
    body: { username: $("username").value, password: $("password").value },
  });
  $("status").value = r.status === 204 ? `logged in as ${$("username").value}` : `login failed: ${r.status} ${r.code}`;
  if (r.status === 204) {
    epoch++;
    me = last = null;
    renewedBy = [];
    await loadClaims();
  }
});

$("logout").addEventListener("click", async () => {
  const r = await call("POST", "/auth/logout");
  $("status").value = r.status === 204 ? "logged out" : `logout failed: ${r.status} ${r.code}`;
  if (r.status === 204) {
    epoch++;
    if (me) log("signed-out", "logged out: the token, its login and its session are revoked");
    me = last = null;
    renewedBy = [];
    meNote = "not signed in (logged out)";
    render();
  }
  if (ws) ws.close(1000, "logged out");
  $("sessions-out").replaceChildren();
});

$("refresh").addEventListener("click", async () => {
  const r = await call("POST", "/auth/refresh");
  if (r.status !== 204) log("refresh", `POST /auth/refresh: ${r.status} ${r.code}`.trim());
});

for (const [id, path] of [["me", "/api/me"], ["admin", "/api/admin"], ["reports", "/api/reports"]]) {
  $(id).addEventListener("click", async () => {
    const r = await call("GET", path);
    $("me-out").textContent = `${r.status} ${r.text}`;
  });
}

$("password").addEventListener("click", async () => {
  const r = await call("POST", "/api/me/password");
  $("password-out").textContent = `${r.status} ${r.code}`.trim();
});
$("password-nocsrf").addEventListener("click", async () => {
  const r = await call("POST", "/api/me/password", { csrf: false });
  $("password-out").textContent = `${r.status} ${r.code}`.trim();
});

// What a WebSocket close code means, for the log.
const closeCodes = {
  1000: "normal closure",
  1001: "going away",
  1006: "abnormal: no close frame",
  1008: "policy violation: the token that opened it expired or was revoked",
  1011: "server error",
  1013: "try again later: authentication unavailable",
};

let ws = null;
$("ws-open").addEventListener("click", async () => {
  const r = await call("POST", "/ws/ticket");
  if (r.status !== 200) {
    $("ws-status").value = `no ticket: ${r.status} ${r.code}`;
    return;
  }
  const { ticket } = JSON.parse(r.text);
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  if (ws) ws.close(1000, "another socket opened");
  const sock = new WebSocket(`${scheme}//${location.host}/ws/echo?ticket=${encodeURIComponent(ticket)}`);
  ws = sock;
  sock.onopen = () => {
    if (ws === sock) $("ws-status").value = "open";
    log("ws-open", "WebSocket open (opened with a one-time ticket)");
  };
  sock.onmessage = (ev) => { $("ws-log").textContent += ev.data + "\n"; };
  sock.onclose = (ev) => {
    if (ws === sock) $("ws-status").value = `closed ${ev.code} ${ev.reason}`.trim();
    const meaning = closeCodes[ev.code] || "";
    log("ws-close", `WebSocket closed: ${ev.code}${ev.reason ? ` "${ev.reason}"` : ""}${meaning ? ` (${meaning})` : ""}`);
  };
});
$("ws-send").addEventListener("click", () => {
  if (ws && ws.readyState === WebSocket.OPEN) ws.send($("ws-input").value);
});

$("sessions").addEventListener("click", async () => {
  const r = await call("GET", "/api/sessions");
  const list = $("sessions-out");
  list.replaceChildren();
  if (r.status !== 200) {
    list.append(Object.assign(document.createElement("li"), { textContent: `${r.status} ${r.code}` }));
    return;
  }
  for (const s of JSON.parse(r.text)) {
    const li = document.createElement("li");
    li.textContent = `${s.id.slice(0, 8)}… ${s.ip} ${s.user_agent.slice(0, 40)} since ${s.created_at}` +
      (s.current ? " (current)" : " ");
    if (!s.current) {
      const b = Object.assign(document.createElement("button"), { textContent: "revoke" });
      b.addEventListener("click", async () => {
        await call("DELETE", `/api/sessions/${encodeURIComponent(s.id)}`);
        $("sessions").click();
      });
      li.append(b);
    }
    list.append(li);
  }
});

$("auto-renew").addEventListener("change", tick);
lastCSRF = cookie("csrf_access_token");
$("csrf-now").textContent = lastCSRF ? lastCSRF.slice(0, 8) + "…" : "–";
loadClaims();
