// The operations page: polls GET /_ops/status every two seconds and redraws. Plain browser
// JavaScript with no build step; every value from the server is put in with textContent (never
// innerHTML), so a microshard or node name can never become markup.
//
// The bearer token comes from the URL fragment (#token=…, which browsers never send to the
// server, so it stays out of access logs) or from the form, and is kept in sessionStorage only.

const POLL_MS = 2000;
const TOKEN_KEY = "archipelago-token";

function takeTokenFromFragment() {
  const match = /(?:^|&)token=([^&]+)/.exec(location.hash.slice(1));
  if (match) {
    sessionStorage.setItem(TOKEN_KEY, decodeURIComponent(match[1]));
    history.replaceState(null, "", location.pathname + location.search);
  }
}

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "className") node.className = value;
    // Through CSSOM, which the page's Content-Security-Policy allows (a style attribute it would not).
    else if (key === "style") Object.assign(node.style, value);
    else node.setAttribute(key, String(value));
  }
  for (const child of children) {
    if (child === null || child === undefined) continue;
    node.append(typeof child === "string" || typeof child === "number" ? String(child) : child);
  }
  return node;
}

function formatBytes(bytes) {
  if (bytes === null || bytes === undefined) return "?";
  const units = ["B", "kB", "MB", "GB", "TB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit += 1;
  }
  return `${value >= 10 || unit === 0 ? Math.round(value) : value.toFixed(1)} ${units[unit]}`;
}

function when(iso) {
  return iso ? new Date(iso).toLocaleTimeString() : "";
}

function route(job) {
  return job.source === null && job.target === null
    ? ""
    : `${job.source ?? "?"} → ${job.target ?? "?"}`;
}

function renderSummary(status) {
  const summary = document.getElementById("summary");
  summary.replaceChildren(
    "manager ",
    el("span", { className: status.state, "data-testid": "global-state" }, status.state),
    status.state_reason ? ` (${status.state_reason})` : "",
    ` · leader ${status.leader ?? "none"}`,
    ` · imbalance ${status.imbalance === null ? "?" : status.imbalance.toFixed(2)}`,
    status.violations > 0 ? ` · ${status.violations} placement violation(s)!` : "",
    ` · updated ${when(status.generated_at)}`,
  );
}

function renderIslands(status) {
  const largest = Math.max(
    1,
    ...status.islands.map((i) => i.microshards.reduce((t, m) => t + m.bytes, 0)),
  );
  const cards = status.islands.map((island) => {
    const total = island.microshards.reduce((t, m) => t + m.bytes, 0);
    const bar = el("div", {
      className: "bar",
      title: `${formatBytes(total)} on island ${island.island}`,
      style: { width: `${Math.max(4, (100 * total) / largest)}%` },
    });
    for (const m of island.microshards) {
      bar.append(
        el("span", {
          className: m.state === "active" ? "" : m.state === "receiving" ? "receiving" : "other",
          style: { flex: `${Math.max(m.bytes, 1)} 0 0` },
          title: `microshard ${m.microshard} (${m.state}): ${formatBytes(m.bytes)}`,
          "data-microshard": m.microshard,
        }),
      );
    }
    const active = island.microshards.filter((m) => m.state === "active").length;
    return el(
      "article",
      { className: "island", "data-island": island.island },
      el(
        "h3",
        {},
        `Island ${island.island}`,
        island.global ? el("span", { className: "badge" }, "shard 0") : null,
        island.draining ? el("span", { className: "badge draining" }, "draining") : null,
        island.error ? el("span", { className: "badge error" }, "catalog unreadable") : null,
      ),
      el(
        "ul",
        { className: "nodes" },
        ...island.nodes.map((n) =>
          el(
            "li",
            { "data-node": n.name },
            `${n.name} (${n.address}) `,
            el("span", { className: `role-${n.role}` }, n.role),
            n.lag_bytes ? ` · lag ${formatBytes(n.lag_bytes)}` : "",
          ),
        ),
      ),
      bar,
      el(
        "div",
        { className: "sizes" },
        `${active} active microshard(s), ${formatBytes(island.active_bytes)}`,
        island.load === null ? "" : ` · load ${island.load.toFixed(2)}`,
      ),
    );
  });
  document.getElementById("islands").replaceChildren(...cards);
}

function renderRows(tableId, rows, columns, empty) {
  const body = document.querySelector(`#${tableId} tbody`);
  if (rows.length === 0) {
    body.replaceChildren(el("tr", {}, el("td", { className: "empty", colspan: columns }, empty)));
    return;
  }
  body.replaceChildren(...rows);
}

function renderJobs(status) {
  const rows = status.jobs.map((job) =>
    el(
      "tr",
      { "data-job": job.id },
      el("td", {}, `#${job.id}`, job.parent_id ? ` (of #${job.parent_id})` : ""),
      el("td", {}, job.type),
      el("td", { title: job.state_reason || "" }, job.job_state),
      el("td", {}, job.microshard ?? ""),
      el("td", {}, route(job)),
      el("td", {}, job.step),
      el(
        "td",
        {},
        job.progress
          ? el("progress", { max: 1, value: job.progress.fraction, title: job.progress.detail })
          : "",
        job.progress ? ` ${Math.round(job.progress.fraction * 100)}%` : "",
      ),
    ),
  );
  renderRows("jobs", rows, 7, "no live jobs");
}

function renderMoves(status) {
  const rows = status.recent_moves.map((move) =>
    el(
      "tr",
      { "data-move": move.id, title: move.reason || "" },
      el("td", {}, `#${move.id}`),
      el("td", {}, move.microshard),
      el("td", {}, route(move)),
      el("td", {}, move.job_state),
      el("td", {}, move.write_block_ms === null ? "" : `${Math.round(move.write_block_ms)} ms`),
      el("td", {}, when(move.ended_at)),
    ),
  );
  renderRows("moves", rows, 6, "no moves yet");
}

function showProblem(text) {
  const problem = document.getElementById("problem");
  problem.hidden = !text;
  problem.textContent = text || "";
}

// One poll loop at a time, however often the form is submitted.
let timer;

async function poll() {
  clearTimeout(timer);
  const token = sessionStorage.getItem(TOKEN_KEY);
  if (!token) {
    document.getElementById("login").hidden = false;
    return;
  }
  try {
    const response = await fetch("/_ops/status", { headers: { authorization: `Bearer ${token}` } });
    if (response.status === 401) {
      sessionStorage.removeItem(TOKEN_KEY);
      document.getElementById("login").hidden = false;
      showProblem("The token was refused.");
      return;
    }
    const status = await response.json();
    if (!response.ok) throw new Error(status.reason || `HTTP ${response.status}`);
    showProblem("");
    document.getElementById("login").hidden = true;
    document.getElementById("main").hidden = false;
    renderSummary(status);
    renderIslands(status);
    renderJobs(status);
    renderMoves(status);
  } catch (error) {
    showProblem(`Could not read the status: ${error.message}`);
  }
  timer = setTimeout(poll, POLL_MS);
}

document.getElementById("login").addEventListener("submit", (event) => {
  event.preventDefault();
  sessionStorage.setItem(TOKEN_KEY, document.getElementById("token").value);
  document.getElementById("token").value = "";
  poll();
});

takeTokenFromFragment();
poll();
