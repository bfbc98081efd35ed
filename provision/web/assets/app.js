// The labctl console's page. Everything shown comes from /api/classroom and the event
// stream /api/events, and is put in the page as text (textContent), never as markup: a
// hostile lab title or instance name stays text. Actions are POSTed to /api/actions with the
// session's CSRF value in a header.
"use strict";

const state = { csrf: "", role: "", data: null, progress: new Map(), pending: false };

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (key === "class") node.className = value;
    else if (key.startsWith("data-")) node.setAttribute(key, value);
    else if (key === "on") for (const [ev, fn] of Object.entries(value)) node.addEventListener(ev, fn);
    else node[key] = value;
  }
  for (const child of children) {
    if (child === null || child === undefined) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

async function api(path, options) {
  const response = await fetch(path, Object.assign({ credentials: "same-origin" }, options || {}));
  if (response.status === 401) { location.href = "/"; throw new Error("logged out"); }
  const body = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(body.error || ("HTTP " + response.status));
  return body;
}

async function act(request, confirmText) {
  if (confirmText && !window.confirm(confirmText)) return;
  try {
    await api("/api/actions", {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": state.csrf },
      body: JSON.stringify(request),
    });
  } catch (e) {
    note("refused: " + e.message, "failed");
  }
  load();
}

function note(text, cls) {
  const list = document.getElementById("actions");
  list.prepend(el("li", { class: "st-" + (cls || "info") }, text));
}

function healthOf(instance) {
  if (instance.healthy === true) return el("span", { class: "healthy" }, "up");
  if (instance.healthy === false) return el("span", { class: "unhealthy" }, "down");
  return el("span", { class: "unknown" }, "not probed");
}

function versionSelect(selected) {
  const select = el("select", { name: "version", class: "version" });
  const versions = (state.data && state.data.versions) || [];
  for (const v of versions) select.append(el("option", { value: v, selected: v === selected }, v));
  return select;
}

function instanceItem(team, vm, instance) {
  const item = el("li", { class: "instance", "data-instance": instance.name },
    el("span", { class: "name" }, instance.name), " ",
    el("span", { class: "version" }, instance.version), " ",
    healthOf(instance), " ",
    instance.url ? el("a", { href: instance.url, target: "_blank", rel: "noopener noreferrer", class: "mono" }, instance.url) : null);
  if (state.role === "instructor") {
    const select = versionSelect(instance.version);
    const upgrade = el("form", { class: "upgrade", on: { submit: (e) => {
      e.preventDefault();
      act({ kind: "upgrade", team, vm: vm.vm, name: instance.name, version: select.value },
        `Upgrade ${instance.name} on ${team}/${vm.vm} to ${select.value}? Its database is dumped first.`);
    } } }, select, el("button", { type: "submit", class: "do-upgrade" }, "Upgrade"));
    const remove = el("button", { type: "button", class: "danger do-remove", on: { click: () =>
      act({ kind: "remove", team, vm: vm.vm, name: instance.name },
        `Remove ${instance.name} from ${team}/${vm.vm}, with its data?`) } }, "Remove");
    item.append(" ", remove, " ", upgrade);
  }
  return item;
}

function vmRow(team, vm) {
  const key = team + "/" + vm.vm;
  const list = el("ul", { class: "instances" });
  for (const instance of vm.instances || []) list.append(instanceItem(team, vm, instance));
  const cells = [
    el("td", { class: "vm mono" }, vm.vm),
    el("td", { class: "state state-" + vm.state }, vm.state),
    el("td", { class: "stage" }, vm.stage || "", el("div", { class: "progress" }, state.progress.get(key) || "")),
  ];
  if (state.role === "instructor") {
    cells.push(el("td", { class: "address mono" }, vm.ip + (vm.ip_planned ? " (planned)" : "")));
  }
  cells.push(el("td", { class: "ssh mono" }, vm.ssh ? (typeof vm.ssh === "string" ? vm.ssh : vm.ssh.command) : ""));
  const instances = el("td", { class: "instances-cell" }, list);
  if (state.role === "instructor") {
    const select = versionSelect("");
    const name = el("input", { name: "name", class: "name", placeholder: "name (optional)", size: 12 });
    const db = el("select", { name: "db", class: "db", title: "its database" },
      ...["postgresql", "mariadb", "h2"].map((d) => el("option", { value: d }, d)));
    instances.append(el("form", { class: "add", on: { submit: (e) => {
      e.preventDefault();
      act({ kind: "add", team, vm: vm.vm, version: select.value, name: name.value, db: db.value });
    } } }, select, db, name, el("button", { type: "submit", class: "do-add" }, "Add instance")));
    cells.push(instances, el("td", {}, el("button", { type: "button", class: "danger do-reset", on: { click: () =>
      act({ kind: "reset", team, vm: vm.vm }, `Reset ${key} to first boot? Its disk is recreated.`) } }, "Reset")));
  } else {
    cells.push(instances);
  }
  return el("tr", { class: "vm-row", "data-vm": key }, ...cells);
}

function teamCard(team) {
  const head = el("div", { class: "team-head" }, el("h2", {}, team.name),
    team.host ? el("span", { class: "host mono" }, team.host) : null);
  if (state.role === "instructor") {
    const tools = el("div", { class: "tools" },
      el("button", { type: "button", class: "do-up", on: { click: () => act({ kind: "up", team: team.name }) } }, "Up"),
      el("button", { type: "button", class: "danger do-down", on: { click: () =>
        act({ kind: "down", team: team.name }, `Delete team ${team.name}'s VMs, disks and networks?`) } }, "Down"),
      el("a", { href: "/api/handout/" + encodeURIComponent(team.name) + "?format=html", class: "sheet" }, "Sheet"),
      el("a", { href: "/api/handout/" + encodeURIComponent(team.name) + "/bundle", class: "bundle" }, "Bundle"),
      team.view ? el("a", { href: team.view, class: "team-link", rel: "noreferrer", title: "the team's read-only view: hand this link to the team" }, "Team view") : null);
    head.append(tools);
  }
  const headers = ["VM", "State", "Stage"];
  if (state.role === "instructor") headers.push("Address");
  headers.push("SSH", "Instances");
  if (state.role === "instructor") headers.push("");
  const table = el("table", {}, el("thead", {}, el("tr", {}, ...headers.map((h) => el("th", {}, h)))));
  const body = el("tbody");
  for (const vm of team.vms || []) body.append(vmRow(team.name, vm));
  table.append(body);
  return el("section", { class: "team", "data-team": team.name }, head, table);
}

function render() {
  const data = state.data;
  document.getElementById("classroom").textContent = data.classroom;
  document.getElementById("title").textContent = data.title || "";
  document.title = "labctl: " + data.classroom;
  document.getElementById("probed").textContent = data.problem
    ? "probe failed: " + data.problem + (data.probed ? " (shown: the probe of " + data.probed + ")" : "")
    : data.probed ? "probed " + data.probed : "";
  document.getElementById("lock").textContent = data.lock ? "busy: " + data.lock : "";
  document.body.classList.toggle("team-view", state.role === "team");
  const teams = document.getElementById("teams");
  // A form being filled in is not redrawn under the instructor's hands.
  if (teams.contains(document.activeElement) && document.activeElement.tagName !== "BUTTON" &&
      document.activeElement.tagName !== "BODY") {
    state.pending = true;
    return;
  }
  teams.replaceChildren(...(data.teams || []).map(teamCard));
  if (performance.getEntriesByName("labctl:rendered").length === 0) {
    performance.mark("labctl:rendered");  // the first full drawing (bench/console_page.cpp)
  }
  const actions = document.getElementById("actions");
  if (state.role === "instructor") {
    actions.replaceChildren(...(data.actions || []).slice().reverse().map((a) =>
      el("li", { class: "action st-" + a.state, "data-action": a.id },
        `#${a.id} ${a.what}: ${a.state}` + (a.seconds ? ` (${a.seconds.toFixed(1)} s)` : "") +
        (a.message ? ` — ${a.message}` : ""))));
  }
}

let loading = null;
async function load() {
  if (loading) { state.reload = true; return loading; }
  loading = (async () => {
    try {
      state.data = await api("/api/classroom");
      render();
    } catch (e) {
      document.getElementById("probed").textContent = "not loaded: " + e.message;
    }
  })();
  await loading;
  loading = null;
  if (state.reload) { state.reload = false; load(); }
}

function listen() {
  const source = new EventSource("/api/events");
  const live = document.getElementById("live");
  source.onopen = () => { live.classList.remove("off"); window.labctlListening = true; };
  source.onerror = () => live.classList.add("off");
  source.addEventListener("classroom", () => load());
  source.addEventListener("action", () => load());
  source.addEventListener("progress", (e) => {
    const p = JSON.parse(e.data);
    window.labctlLastEvent = { subject: p.subject, at: Date.now() };
    const line = (p.state === "info" ? p.subject : `${p.subject}: ${p.state}`) +
      (p.message ? ` — ${p.message}` : "");
    if (p.team && p.vm) {
      state.progress.set(p.team + "/" + p.vm, line);
      const cell = document.querySelector(`tr[data-vm="${CSS.escape(p.team + "/" + p.vm)}"] .progress`);
      if (cell) cell.textContent = line;
    }
    const list = document.getElementById("progress");
    list.prepend(el("li", { class: "st-" + p.state }, (p.team ? p.team + (p.vm ? "/" + p.vm : "") + " " : "") + line));
    while (list.children.length > 200) list.lastChild.remove();
  });
}

document.addEventListener("focusout", () => {
  if (state.pending) { state.pending = false; setTimeout(render, 0); }
});

(async () => {
  const session = await api("/api/session");
  state.csrf = session.csrf;
  state.role = session.role;
  await load();
  listen();
})();
