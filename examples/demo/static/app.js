"use strict";
// The page's side of authx's browser sessions: tokens live in HttpOnly
// cookies the page cannot read; the page reads the CSRF cookie and sends it
// back in the X-CSRF-TOKEN header on every unsafe request.

const $ = (id) => document.getElementById(id);

function cookie(name) {
  const c = document.cookie.split("; ").find((c) => c.startsWith(name + "="));
  return c ? decodeURIComponent(c.slice(name.length + 1)) : "";
}

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
  watchCSRF();
  return { status: res.status, text: text.trim(), code };
}

// Implicit refresh shows up as a new CSRF cookie value.
let lastCSRF = "";
function watchCSRF() {
  const now = cookie("csrf_access_token");
  if (lastCSRF && now && now !== lastCSRF) $("renewals").value = String(Number($("renewals").value) + 1);
  lastCSRF = now || lastCSRF;
  $("csrf-now").textContent = now ? now.slice(0, 8) + "…" : "–";
}

$("login-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const r = await call("POST", "/auth/login/cookie", {
    body: { username: $("username").value, password: $("password").value },
  });
  $("status").value = r.status === 204 ? `logged in as ${$("username").value}` : `login failed: ${r.status} ${r.code}`;
});

$("logout").addEventListener("click", async () => {
  const r = await call("POST", "/auth/logout");
  $("status").value = r.status === 204 ? "logged out" : `logout failed: ${r.status} ${r.code}`;
  if (ws) ws.close(1000, "logged out");
  $("sessions-out").replaceChildren();
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

let ws = null;
$("ws-open").addEventListener("click", async () => {
  const r = await call("POST", "/ws/ticket");
  if (r.status !== 200) {
    $("ws-status").value = `no ticket: ${r.status} ${r.code}`;
    return;
  }
  const { ticket } = JSON.parse(r.text);
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  ws = new WebSocket(`${scheme}//${location.host}/ws/echo?ticket=${encodeURIComponent(ticket)}`);
  ws.onopen = () => { $("ws-status").value = "open"; };
  ws.onmessage = (ev) => { $("ws-log").textContent += ev.data + "\n"; };
  ws.onclose = (ev) => { $("ws-status").value = `closed ${ev.code} ${ev.reason}`.trim(); };
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

watchCSRF();
