// The Micro dashboard (micro web). No framework and no HTML built from strings: every value
// that comes from the registry or a service goes into the page through textContent or an
// attribute, so a service named "<script>..." is shown, never run.
"use strict";

const state = {
  services: [],       // the summary from /events: [{name, versions, nodes, web}]
  registryError: "",  // the dashboard could not read the registry
  page: null,         // what is shown: {kind: "services"|"service"|"registry", name?}
  detail: null,       // the service page's data: {services: [...]}
};

// --- small DOM helpers --------------------------------------------------------------------

// el("tag.class", {attr: value}, child...): children are nodes or strings (as text).
function el(spec, attrs, ...children) {
  const [tag, ...classes] = spec.split(".");
  const node = document.createElement(tag);
  if (classes.length) node.className = classes.join(" ");
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else if (k === "dataset") Object.assign(node.dataset, v);
    else node.setAttribute(k, v === true ? "" : String(v));
  }
  for (const c of children.flat()) {
    if (c === undefined || c === null || c === false) continue;
    node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return node;
}

function clear(node) {
  while (node.firstChild) node.removeChild(node.firstChild);
  return node;
}

const main = () => document.getElementById("main");

function showBanner(message) {
  const banner = document.getElementById("banner");
  banner.textContent = message || "";
  banner.hidden = !message;
}

function errorText(err) {
  return err && err.message ? err.message : String(err);
}

// A go-micro error JSON ({id, code, detail, status}) as one readable line, or the text itself.
function describeError(status, text) {
  try {
    const e = JSON.parse(text);
    if (e && typeof e === "object" && ("detail" in e || "id" in e)) {
      return `${e.code || status} ${e.status || ""} ${e.id ? "(" + e.id + ")" : ""}: ${e.detail || ""}`
        .replace(/\s+/g, " ").trim();
    }
  } catch (_) { /* not JSON */ }
  return `${status}: ${text}`;
}

async function getJson(url) {
  const rsp = await fetch(url, {headers: {Accept: "application/json"}, cache: "no-store"});
  const text = await rsp.text();
  if (!rsp.ok) {
    const err = new Error(describeError(rsp.status, text));
    err.status = rsp.status;
    throw err;
  }
  return JSON.parse(text);
}

// --- routing ------------------------------------------------------------------------------

function parseHash() {
  const hash = location.hash.replace(/^#/, "") || "/";
  if (hash === "/registry") return {kind: "registry"};
  if (hash.startsWith("/service/")) {
    try {
      return {kind: "service", name: decodeURIComponent(hash.slice("/service/".length))};
    } catch (_) {
      return {kind: "services"};
    }
  }
  return {kind: "services"};
}

function serviceHref(name) {
  return "#/service/" + encodeURIComponent(name);
}

function route() {
  state.page = parseHash();
  for (const a of document.querySelectorAll("nav a")) {
    a.classList.toggle("active", a.dataset.nav === (state.page.kind === "registry" ? "registry" : "services"));
  }
  if (state.page.kind === "registry") return renderRegistry();
  if (state.page.kind === "service") return renderService(state.page.name);
  return renderServices();
}

// --- services -----------------------------------------------------------------------------

function renderServices() {
  document.title = "Services · Micro";
  const search = el("input", {
    type: "search", id: "search", placeholder: "Search services", autocomplete: "off",
    "aria-label": "Search services", oninput: fillServices,
  });
  const root = clear(main());
  root.append(
    el("div.page-head", {}, el("h1", {}, "Services"), el("span.muted", {id: "count"})),
    search,
    el("div.table-wrap", {},
      el("table.services", {id: "services"},
        el("thead", {}, el("tr", {}, el("th", {}, "Name"), el("th", {}, "Versions"),
                                      el("th.num", {}, "Nodes"), el("th", {}, ""))),
        el("tbody", {}))),
    el("p.empty.muted", {id: "empty", hidden: true}));
  fillServices();
}

function fillServices() {
  const table = document.getElementById("services");
  if (!table) return;
  const query = (document.getElementById("search").value || "").trim().toLowerCase();
  const shown = state.services.filter((s) => !query || s.name.toLowerCase().includes(query));
  const body = clear(table.tBodies[0]);
  for (const s of shown) {
    body.append(el("tr", {dataset: {service: s.name}},
      el("td", {}, el("a.service-link", {href: serviceHref(s.name)}, s.name)),
      el("td", {}, s.versions.map((v) => el("span.chip", {}, v || "(none)"))),
      el("td.num", {}, s.nodes),
      el("td", {}, s.web ? el("a.web-link", {href: s.web + "/"}, "open ↗") : "")));
  }
  document.getElementById("count").textContent =
    `${shown.length} of ${state.services.length}`;
  const empty = document.getElementById("empty");
  empty.hidden = shown.length > 0;
  empty.textContent = state.services.length ? "No service matches the search." :
    "No services are registered.";
}

// --- one service --------------------------------------------------------------------------

async function renderService(name) {
  document.title = name + " · Micro";
  const root = clear(main());
  root.append(el("p.muted", {}, "Loading ", name, "…"));
  let data;
  try {
    data = await getJson("/registry?service=" + encodeURIComponent(name));
  } catch (err) {
    if (state.page.kind !== "service" || state.page.name !== name) return;
    clear(root).append(el("h1", {}, name), el("p.error-text", {}, errorText(err)),
                       el("p", {}, el("a", {href: "#/"}, "← All services")));
    return;
  }
  if (state.page.kind !== "service" || state.page.name !== name) return;  // navigated away
  state.detail = data;
  clear(root).append(
    el("p.crumbs", {}, el("a", {href: "#/"}, "Services"), " / "),
    el("h1.service-name", {id: "service-name"}, name));
  for (const svc of data.services) root.append(versionSection(svc));
}

function versionSection(svc) {
  const section = el("section.version", {dataset: {version: svc.version}},
    el("h2", {}, "Version ", el("span.chip", {}, svc.version || "(none)")),
    metadataList(svc.metadata),
    el("h3", {}, "Nodes"),
    el("div.nodes", {}, nodesTable(svc.nodes || [])),
    el("h3", {}, "Endpoints"));
  const endpoints = svc.endpoints || [];
  if (!endpoints.length) section.append(el("p.muted", {}, "No endpoints are advertised."));
  for (const ep of endpoints) section.append(endpointCard(svc, ep));
  return section;
}

function metadataList(md) {
  const keys = Object.keys(md || {}).sort();
  if (!keys.length) return null;
  return el("dl.metadata", {}, keys.map((k) => [el("dt", {}, k), el("dd", {}, md[k])]));
}

function nodesTable(nodes) {
  if (!nodes.length) return el("p.muted", {}, "No nodes.");
  return el("div.table-wrap", {}, el("table.nodes", {},
    el("thead", {}, el("tr", {}, el("th", {}, "Id"), el("th", {}, "Address"), el("th", {}, "Metadata"))),
    el("tbody", {}, nodes.map((n) => el("tr", {},
      el("td.mono", {}, n.id), el("td.mono", {}, n.address),
      el("td", {}, Object.keys(n.metadata || {}).sort().map(
        (k) => el("span.chip", {}, k, "=", n.metadata[k]))))))));
}

// The fields of a request/response description as a nested list.
function fieldsTree(value, depth = 0) {
  const fields = (value && value.values) || [];
  if (!fields.length || depth > 8) return null;
  return el("ul.fields", {}, fields.map((f) => el("li", {},
    el("span.field", {}, f.name), " ", el("span.type", {}, f.type), fieldsTree(f, depth + 1))));
}

const numberTypes = new Set(["int32", "int64", "uint32", "uint64", "sint32", "sint64", "fixed32",
  "fixed64", "sfixed32", "sfixed64", "float", "double", "int", "uint", "float32", "float64"]);

// A JSON request with every described field present, for the call form.
function skeleton(value, depth = 0) {
  const out = {};
  for (const f of (value && value.values) || []) {
    if (f.values && f.values.length && depth < 6) out[f.name] = skeleton(f, depth + 1);
    else if (f.type === "bool") out[f.name] = false;
    else if (numberTypes.has(f.type)) out[f.name] = 0;
    else if (f.type === "string" || f.type === "bytes") out[f.name] = "";
    else out[f.name] = null;
  }
  return out;
}

// One side of an endpoint: its message type (when it says more than the label) and fields.
function ioColumn(label, value) {
  const type = value && value.type && value.type !== label ? value.type : "";
  return el("div", {}, el("h5", {}, label, type ? el("span.type", {}, " ", type) : null),
            fieldsTree(value) || el("p.muted", {}, "No fields."));
}

function endpointCard(svc, ep) {
  const request = el("textarea.request", {
    rows: 6, spellcheck: "false", "aria-label": "Request JSON for " + ep.name,
  });
  request.value = JSON.stringify(skeleton(ep.request), null, 2);
  const result = el("div.result", {"aria-live": "polite"});
  const button = el("button.call", {type: "submit"}, "Call");
  const form = el("form.call-form", {onsubmit: (e) => {
    e.preventDefault();
    callEndpoint(svc.name, ep.name, request, button, result);
  }}, el("label", {}, "Request"), request, el("div.actions", {}, button), result);
  const stream = ep.metadata && ep.metadata.stream === "true";
  return el("section.endpoint", {dataset: {endpoint: ep.name}},
    el("h4", {}, ep.name, stream ? el("span.chip", {}, "stream") : null),
    el("div.io", {}, ioColumn("Request", ep.request), ioColumn("Response", ep.response)),
    metadataList(ep.metadata),
    stream ? el("p.muted", {}, "Stream endpoints cannot be called from this form.") : form);
}

async function callEndpoint(service, endpoint, textarea, button, result) {
  clear(result);
  let body;
  try {
    body = textarea.value.trim() ? JSON.parse(textarea.value) : {};
  } catch (err) {
    result.append(el("pre.error", {}, "The request is not valid JSON: " + errorText(err)));
    return;
  }
  button.disabled = true;
  result.append(el("p.muted", {}, "Calling…"));
  const started = performance.now();
  try {
    const rsp = await fetch("/rpc", {
      method: "POST",
      headers: {"Content-Type": "application/json"},
      body: JSON.stringify({service, endpoint, request: body}),
    });
    const text = await rsp.text();
    const took = performance.now() - started;
    clear(result);
    const latency = el("span.latency", {}, took.toFixed(1) + " ms");
    if (rsp.ok) {
      let pretty = text;
      try { pretty = JSON.stringify(JSON.parse(text), null, 2); } catch (_) { /* as it is */ }
      result.append(el("div.result-head", {}, el("span.ok", {}, "OK " + rsp.status), latency),
                    el("pre.answer", {}, pretty));
    } else {
      result.append(el("div.result-head", {}, el("span.bad", {}, "Error"), latency),
                    el("pre.error", {}, describeError(rsp.status, text)));
    }
  } catch (err) {
    clear(result).append(el("pre.error", {}, "The call failed: " + errorText(err)));
  } finally {
    button.disabled = false;
  }
}

// Live: when the service on screen changes, its node tables are redrawn (the call forms are
// left alone, so nothing being typed is lost).
async function refreshServiceNodes(name) {
  let data;
  try {
    data = await getJson("/registry?service=" + encodeURIComponent(name));
  } catch (err) {
    if (err.status === 404) showBanner(`${name} is no longer registered.`);
    return;
  }
  if (state.page.kind !== "service" || state.page.name !== name) return;
  const before = (state.detail ? state.detail.services : []).map((s) => s.version).join("\n");
  const after = data.services.map((s) => s.version).join("\n");
  if (before !== after) return renderService(name);
  state.detail = data;
  for (const svc of data.services) {
    for (const section of document.querySelectorAll("section.version")) {
      if (section.dataset.version === svc.version) {
        clear(section.querySelector(".nodes")).append(nodesTable(svc.nodes || []));
      }
    }
  }
}

// --- registry -----------------------------------------------------------------------------

async function renderRegistry() {
  document.title = "Registry · Micro";
  const root = clear(main());
  const pre = el("pre.json", {id: "registry-json"}, "Loading…");
  root.append(el("div.page-head", {}, el("h1", {}, "Registry"),
                 el("a.muted", {href: "/registry", download: "registry.json"}, "registry.json")),
              pre);
  try {
    const data = await getJson("/registry");
    pre.textContent = JSON.stringify(data, null, 2);
  } catch (err) {
    pre.textContent = "";
    pre.append(el("span.error-text", {}, errorText(err)));
  }
}

// --- live updates -------------------------------------------------------------------------

function setLive(on, text) {
  const live = document.getElementById("live");
  live.textContent = text;
  live.classList.toggle("on", on);
  live.classList.toggle("off", !on);
}

function connectEvents() {
  const events = new EventSource("/events");
  events.onopen = () => setLive(true, "live");
  events.onerror = () => setLive(false, "reconnecting");
  events.addEventListener("services", (e) => {
    let data;
    try {
      data = JSON.parse(e.data);
    } catch (err) {
      showBanner("A bad update came from the dashboard: " + errorText(err));
      return;
    }
    const previous = new Map(state.services.map((s) => [s.name, JSON.stringify(s)]));
    state.services = data.services || [];
    state.registryError = data.error || "";
    showBanner(state.registryError ? "The registry cannot be read: " + state.registryError : "");
    if (state.page.kind === "services") fillServices();
    if (state.page.kind === "service") {
      const now = state.services.find((s) => s.name === state.page.name);
      if (JSON.stringify(now) !== previous.get(state.page.name)) {
        refreshServiceNodes(state.page.name);
      }
    }
    if (state.page.kind === "registry") renderRegistry();
  });
}

window.addEventListener("hashchange", route);
window.addEventListener("error", (e) => showBanner("Dashboard error: " + e.message));
window.addEventListener("unhandledrejection", (e) => showBanner("Dashboard error: " + errorText(e.reason)));
document.addEventListener("DOMContentLoaded", () => {
  route();
  connectEvents();
});
