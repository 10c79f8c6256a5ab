"use strict";
// The dashboard: a client of the /v1 API; the token stays in this tab's sessionStorage.
const $ = (sel) => document.querySelector(sel);
const esc = (v) => String(v ?? "").replace(/[&<>"']/g, (c) => ({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"}[c]));
let poller = null;

async function api(path, options = {}) {
  const headers = Object.assign({"Authorization": "Bearer " + sessionStorage.getItem("token")}, options.headers || {});
  if (options.body) headers["Content-Type"] = "application/json";
  const res = await fetch(path, Object.assign({}, options, {headers}));
  const body = res.headers.get("content-type")?.includes("json") ? await res.json() : await res.text();
  if (!res.ok) throw new Error(body.detail || res.statusText);
  return body;
}

function status(s) { return `<span class="status ${esc(s)}">${esc(s)}</span>`; }
function show(html) { const v = $("#view"); v.innerHTML = html; v.hidden = false; }
function fail(err) { show(`<p class="error" role="alert">${esc(err.message)}</p>`); }

async function login(token) {
  sessionStorage.setItem("token", token);
  try {
    const me = await api("/v1/me");
    $("#whoami").textContent = `${me.name} (${me.role})`;
    $("#login-view").hidden = true;
    $("#nav").hidden = false;
    if (!location.hash || location.hash === "#/login") location.hash = "#/requests"; else route();
  } catch (err) {
    sessionStorage.removeItem("token");
    $("#login-error").textContent = err.message;
  }
}

async function viewRequests() {
  const [page, counts] = await Promise.all([api("/v1/requests?limit=100"), api("/v1/stats").catch(() => null)]);
  const queue = counts ? `<p class="counts">${Object.entries(counts).map(([k, v]) => `<span>${status(k)} ${v}</span>`).join("")}</p>` : "";
  const rows = page.items.map((r) => `<tr><td><a href="#/requests/${esc(r.id)}">${esc(r.id.slice(0, 12))}</a></td><td>${esc(r.kind)}</td><td>${esc(r.subject)}</td><td>${status(r.status)}</td><td>${esc(r.created_at)}</td></tr>`).join("");
  show(`<h2>Requests</h2>${queue}<table id="requests"><tr><th>id</th><th>kind</th><th>subject</th><th>status</th><th>received</th></tr>${rows}</table><p>${page.total} request(s)</p>`);
}

async function viewRequest(id) {
  const [r, events] = await Promise.all([api(`/v1/requests/${id}`), api(`/v1/requests/${id}/history`)]);
  const timeline = events.map((e) => `<li>${status(e.status)} <small>${esc(e.at)}</small> ${esc(e.detail)}</li>`).join("");
  const tasks = (r.tasks || []).map((t) => `<tr><td>${esc(t.model)}</td><td>${status(t.status)}</td><td>${esc(t.from_version_id)} → ${esc(t.to_version_id)}</td><td>${(t.verification.checks || []).map((c) => `<span class="${c.passed ? "pass" : "fail"}">${esc(c.name)}</span>`).join(", ")}</td></tr>`).join("");
  const cert = r.certificate_id ? `<p><a id="open-certificate" href="#/requests/${esc(r.id)}/certificate">Open certificate</a></p>` : "";
  show(`<h2>Request <code>${esc(r.id)}</code></h2>
    <p>Status: <strong id="request-status">${esc(r.status)}</strong> ${r.error ? `<span class="error">${esc(r.error)}</span>` : ""}</p>
    <p>${esc(r.kind)} — subject ${esc(r.subject)} — reason ${esc(r.reason)}</p>${cert}
    <h3>Timeline</h3><ol class="timeline" id="timeline">${timeline}</ol>
    <h3>Models</h3><table><tr><th>model</th><th>task</th><th>versions</th><th>checks</th></tr>${tasks}</table>`);
  if (!["done", "failed"].includes(r.status)) poller = setTimeout(() => route(), 700);
}

async function viewCertificate(requestId) {
  const doc = await api(`/v1/requests/${requestId}/certificate`);
  const c = doc.certificate;
  const models = c.models.map((m) => `<tr><td>${esc(m.model)}</td><td>v${esc(m.version_before.version)} → v${esc(m.version_after.version)}</td><td>${esc(m.guarantee_label)}</td><td>${esc(m.removed_samples)}</td><td>${m.verification.passed ? '<span class="pass">passed</span>' : '<span class="fail">failed</span>'}</td><td>${!m.superseded_artifact ? "—" : m.superseded_artifact.purged ? `v${esc(m.superseded_artifact.version)} purged` : `<span class="fail">v${esc(m.superseded_artifact.version)} still on disk</span>`}</td></tr>`).join("");
  show(`<h2>Certificate <code>${esc(c.certificate_id)}</code></h2>
    <table id="certificate"><tr><th>subject</th><td>${esc(c.subject)}</td></tr><tr><th>request</th><td><a href="#/requests/${esc(c.request_id)}">${esc(c.request_id)}</a></td></tr>
    <tr><th>guarantee</th><td>${esc(c.guarantee_label ?? "no model held the data")}</td></tr><tr><th>samples</th><td>${esc(c.samples.join(", "))}</td></tr>
    <tr><th>issued</th><td>${esc(c.issued_at)}</td></tr><tr><th>signed by key</th><td><code>${esc(doc.signature.key_id)}</code> (${esc(doc.signature.algorithm)})</td></tr></table>
    <h3>Models</h3><table id="certificate-models"><tr><th>model</th><th>versions</th><th>guarantee</th><th>samples removed</th><th>verification</th><th>old artifact</th></tr>${models}</table>
    <p>Save the JSON below and check it with <code>unlearnkit certificate verify FILE</code>.</p><pre id="certificate-json">${esc(JSON.stringify(doc, null, 2))}</pre>`);
}

async function viewSubmit() {
  show(`<h2>Submit an erasure</h2><form class="grid" id="submit-form">
    <label for="kind">kind</label><select id="kind"><option>erase_subject</option><option>items</option></select>
    <label for="subject">subject</label><input id="subject" placeholder="customer id">
    <label for="dataset">dataset (items)</label><input id="dataset">
    <label for="ids">sample ids (items)</label><input id="ids" placeholder="1, 2, 3">
    <label for="reason">reason</label><select id="reason"><option>privacy</option><option>copyright</option><option>bias</option><option>poison</option><option>usability</option><option>other</option></select>
    <span></span><button id="submit" type="submit">Submit</button></form><p id="submit-error" class="error" role="alert"></p>`);
  $("#submit-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const kind = $("#kind").value;
    const body = {kind, reason: $("#reason").value};
    if ($("#subject").value) body.subject = $("#subject").value.trim();
    if (kind === "items") {
      body.dataset = $("#dataset").value.trim();
      body.ids = $("#ids").value.split(",").map((s) => s.trim()).filter(Boolean).map((s) => (/^-?\d+$/.test(s) ? Number(s) : s));
    }
    try {
      const r = await api("/v1/requests", {method: "POST", body: JSON.stringify(body), headers: {"Idempotency-Key": crypto.randomUUID()}});
      location.hash = `#/requests/${r.id}`;
    } catch (err) { $("#submit-error").textContent = err.message; }
  });
}

async function viewModels() {
  const [models, versions, audits] = await Promise.all([api("/v1/models?limit=100"), api("/v1/model-versions?limit=200"), api("/v1/audit-reports?limit=100")]);
  const m = models.items.map((x) => `<tr><td>${esc(x.name)}</td><td>v${esc(x.head.version)}</td><td>${esc(x.versions)}</td><td>${esc(x.head.method.split(".").pop())}</td><td>${esc(x.head.guarantee.kind)}</td><td>${esc(x.head.n_samples)}</td></tr>`).join("");
  const v = versions.items.map((x) => `<tr><td>${esc(x.model)}</td><td>v${esc(x.version)}</td><td>${esc(x.parent_id ?? "—")}</td><td>${status(x.status)}</td><td>${x.artifact_state === "purged" ? `${status("purged")} <small>after <a href="#/requests/${esc(x.purged_by_request_id)}">${esc((x.purged_by_request_id || "").slice(0, 12))}</a></small>` : esc(x.artifact_state)}</td><td>${esc(x.n_samples)}</td><td><code>${esc(x.fingerprint.slice(0, 16))}</code></td><td>${x.request_id ? `<a href="#/requests/${esc(x.request_id)}">${esc(x.request_id.slice(0, 12))}</a>` : "registered"}</td></tr>`).join("");
  show(`<h2>Models</h2><table id="models"><tr><th>name</th><th>in service</th><th>versions</th><th>method</th><th>guarantee</th><th>samples</th></tr>${m}</table>
    <h3>Lineage</h3><table id="versions"><tr><th>model</th><th>version</th><th>parent id</th><th>status</th><th>artifact</th><th>samples</th><th>fingerprint</th><th>made by</th></tr>${v}</table>
    <h3>Audits</h3>${auditTable(audits)}<iframe id="audit-frame" sandbox="" title="audit report" hidden></iframe>`);
  document.querySelectorAll("button[data-audit]").forEach((b) => b.addEventListener("click", async () => {
    const res = await fetch(`/v1/audit-reports/${b.dataset.audit}/html`, {headers: {"Authorization": "Bearer " + sessionStorage.getItem("token")}});
    const frame = $("#audit-frame");
    frame.srcdoc = await res.text();
    frame.hidden = false;
  }));
}

function auditTable(page) {
  if (!page.items.length) return "<p>No audit report attached yet (attach one with <code>unlearnkit ledger attach-audit</code>).</p>";
  const rows = page.items.map((a) => `<tr><td>${esc(a.model)}</td><td>v${esc(a.version)}</td><td class="${a.verdict === "forgotten" ? "pass" : a.verdict === "not_forgotten" ? "fail" : ""}">${esc(a.verdict)}</td><td>${esc(a.confidence?.toFixed?.(3) ?? "")}</td><td>${esc(a.reason)}</td><td>${a.has_html ? `<button type="button" data-audit="${esc(a.id)}">plots</button>` : ""}</td></tr>`).join("");
  return `<table id="audits"><tr><th>model</th><th>version</th><th>verdict</th><th>confidence</th><th>reason</th><th>report</th></tr>${rows}</table>`;
}

async function viewCertificates() {
  const page = await api("/v1/certificates?limit=100");
  const rows = page.items.map((c) => `<tr><td><a href="#/requests/${esc(c.request_id)}/certificate">${esc(c.id.slice(0, 12))}</a></td><td>${esc(c.subject)}</td><td>${esc(c.guarantee?.kind ?? "—")}</td><td>${esc(c.models)}</td><td>${esc(c.issued_at)}</td></tr>`).join("");
  show(`<h2>Certificates</h2><table><tr><th>id</th><th>subject</th><th>guarantee</th><th>models</th><th>issued</th></tr>${rows}</table><p>${page.total} certificate(s)</p>`);
}

async function viewAudit() {
  const [check, page] = await Promise.all([api("/v1/audit/verify"), api("/v1/audit?limit=500")]);
  const verdict = check.ok ? `<p class="pass" id="chain">Hash chain intact: ${check.entries} entries.</p>` : `<p class="fail" id="chain">Chain broken at entry ${check.first_bad_seq}: ${esc(check.problem)}</p>`;
  const rows = page.items.map((e) => `<tr><td>${e.seq}</td><td>${esc(e.at)}</td><td>${esc(e.actor)}</td><td>${esc(e.action)}</td><td>${esc(e.entity)}</td><td><code>${esc(e.hash.slice(0, 12))}</code></td></tr>`).join("");
  show(`<h2>Audit log</h2>${verdict}<table><tr><th>#</th><th>at</th><th>actor</th><th>action</th><th>entity</th><th>hash</th></tr>${rows}</table>`);
}

async function route() {
  clearTimeout(poller);
  if (!sessionStorage.getItem("token")) { $("#nav").hidden = true; $("#view").hidden = true; $("#login-view").hidden = false; return; }
  const parts = location.hash.replace(/^#\//, "").split("/");
  document.querySelectorAll("nav a").forEach((a) => a.classList.toggle("active", a.getAttribute("href") === `#/${parts[0]}`));
  try {
    if (parts[0] === "requests" && parts[1] && parts[2] === "certificate") await viewCertificate(parts[1]);
    else if (parts[0] === "requests" && parts[1]) await viewRequest(parts[1]);
    else if (parts[0] === "submit") await viewSubmit();
    else if (parts[0] === "models") await viewModels();
    else if (parts[0] === "certificates") await viewCertificates();
    else if (parts[0] === "audit") await viewAudit();
    else await viewRequests();
  } catch (err) { fail(err); }
}

$("#login-form").addEventListener("submit", (ev) => { ev.preventDefault(); login($("#token").value.trim()); });
$("#logout").addEventListener("click", () => { sessionStorage.removeItem("token"); location.hash = "#/login"; route(); });
window.addEventListener("hashchange", route);
if (sessionStorage.getItem("token")) login(sessionStorage.getItem("token")); else route();
