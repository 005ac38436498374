// The customer portal: a static page with no build step. It talks to the BlueHill API under
// `/api` on its own origin (CloudFront routes /api/* to API Gateway; `bluehill dev` proxies it
// locally) and signs in through Cognito (password) or a magic link. Every text from the API is
// put in the page as text nodes, never as HTML: tickets and forms carry what customers typed.

const state = { config: null, token: sessionStorage.getItem("portal.token"), branding: null, home: null };

function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith("on")) element.addEventListener(name.slice(2), value);
    else if (name === "dataset") Object.assign(element.dataset, value);
    else element.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return element;
}

function reporting(action) {
  // An action's failure is said on the page (the API's Problem Details), never swallowed.
  return async (event) => {
    try { await action(event); } catch (failure) { flash(failure.message); }
  };
}

// Navigating hides the last page's message; one said while leaving a page (`navigate`) is
// shown on the next one instead.
let messageForNextPage = null;

function navigate(hash, message) {
  messageForNextPage = message;
  location.hash = hash;
}

function flash(text) {
  const box = document.getElementById("flash");
  box.textContent = text;
  box.hidden = false;
  clearTimeout(flash.timer);
  flash.timer = setTimeout(() => { box.hidden = true; }, 4000);
}

class ApiError extends Error {
  constructor(status, problem) {
    super(problem.detail || problem.title || `HTTP ${status}`);
    this.status = status;
    this.problem = problem;
  }
}

async function api(method, path, body) {
  const headers = { "Content-Type": "application/json" };
  if (state.token) headers.Authorization = `Bearer ${state.token}`;
  if (method !== "GET") headers["Idempotency-Key"] = crypto.randomUUID();
  const response = await fetch(`${state.config.api_path}${path}`, {
    method, headers, body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  const data = text ? JSON.parse(text) : null;
  if (response.status === 401) {
    signOut();
    throw new ApiError(401, data || {});
  }
  if (!response.ok) throw new ApiError(response.status, data || {});
  return data;
}

function portalHost() {
  // The portal is found by its host (portal.acme-agency.example); `?host=` names it where the
  // page is served from somewhere else, as on the local stack.
  return new URLSearchParams(location.search).get("host") || location.host;
}

function signIn(token) {
  state.token = token;
  sessionStorage.setItem("portal.token", token);
}

function signOut() {
  state.token = null;
  state.home = null;
  sessionStorage.removeItem("portal.token");
  location.hash = "#/sign-in";
}

async function passwordToken(email, password) {
  const response = await fetch(state.config.cognito_url, {
    method: "POST",
    headers: {
      "Content-Type": "application/x-amz-json-1.1",
      "X-Amz-Target": "AWSCognitoIdentityProviderService.InitiateAuth",
    },
    body: JSON.stringify({
      AuthFlow: "USER_PASSWORD_AUTH", ClientId: state.config.client_id,
      AuthParameters: { USERNAME: email, PASSWORD: password },
    }),
  });
  const data = await response.json();
  if (!response.ok || !data.AuthenticationResult) throw new Error("That email and password did not match.");
  return data.AuthenticationResult.IdToken;
}

function applyBranding(branding) {
  state.branding = branding;
  if (!branding) return;
  if (branding.primary_color) document.documentElement.style.setProperty("--brand", branding.primary_color);
  const name = branding.portal_name || "Customer portal";
  document.getElementById("brand-name").textContent = name;
  document.title = name;
  const logo = document.getElementById("brand-logo");
  if (branding.logo_url) { logo.src = branding.logo_url; logo.alt = name; logo.hidden = false; }
}

function formatDate(value) {
  if (!value) return "";
  const date = new Date(value.length === 10 ? `${value}T00:00:00` : value);
  return Number.isNaN(date.getTime()) ? value : date.toLocaleDateString(undefined, { day: "numeric", month: "short", year: "numeric" });
}

function money(minor, currency) {
  if (minor === undefined || minor === null) return "";
  const digits = new Intl.NumberFormat(undefined, { style: "currency", currency: currency || "USD" }).resolvedOptions().maximumFractionDigits;
  return new Intl.NumberFormat(undefined, { style: "currency", currency: currency || "USD" }).format(minor / 10 ** digits);
}

function card(title, ...content) {
  return h("section", { class: "card" }, title ? h("h2", {}, title) : null, ...content);
}

function list(items, render, empty = "Nothing here.") {
  if (!items || items.length === 0) return h("p", { class: "muted" }, empty);
  return h("ul", { class: "items" }, items.map((item) => h("li", {}, render(item))));
}

// ---------------------------------------------------------------- views

const views = {
  async signIn() {
    // The emailed link opens `#/sign-in?link=…`: exchanged once for a session.
    const link = new URLSearchParams(location.hash.split("?")[1] || "").get("link");
    if (link) {
      try {
        signIn((await api("POST", "/portal/login/exchange", { link })).token);
      } catch {
        history.replaceState(null, "", `${location.pathname}${location.search}#/sign-in`);
        return card("Sign in", h("p", { class: "error" }, "That sign-in link is used or has expired. Ask for a new one."),
          h("a", { href: "#/sign-in", onclick: () => setTimeout(render) }, "Back to sign-in"));
      }
      location.hash = "#/home";
      return h("p", {}, "Signing you in…");
    }
    const email = h("input", { type: "email", name: "email", autocomplete: "username", required: true });
    const password = h("input", { type: "password", name: "password", autocomplete: "current-password" });
    const status = h("p", { class: "muted", id: "login-status" });
    const passwordForm = h("form", { class: "stack", id: "password-login", onsubmit: async (event) => {
      event.preventDefault();
      try {
        signIn(await passwordToken(email.value, password.value));
        location.hash = "#/home";
      } catch (error) { status.textContent = error.message; status.className = "error"; }
    } }, h("label", {}, "Email", email), h("label", {}, "Password", password),
    h("div", { class: "actions" },
      h("button", { class: "primary", type: "submit" }, "Sign in"),
      h("button", { class: "secondary", type: "button", id: "send-link", onclick: async () => {
        if (!email.reportValidity()) return;
        await api("POST", "/portal/login/link", { email: email.value, host: portalHost() });
        status.className = "muted";
        status.textContent = "If that address has portal access, a sign-in link is on its way. It works once, for 15 minutes.";
      } }, "Email me a sign-in link")));
    return card("Sign in", passwordForm, status);
  },

  async home() {
    const home = state.home = await api("GET", "/portal/home");
    const company = home.company || {};
    const csm = company.csm || home.csm;
    return h("div", {},
      h("h1", {}, company.name || "Your account"),
      h("div", { id: "home-grid" },
        card("Projects", list(home.projects, (project) => [
          h("a", { href: `#/projects/${project.id}` }, project.name),
          h("span", { class: "muted" }, `${project.progress ?? 0}% complete`),
          h("div", { class: "progress", style: "flex-basis:100%" }, h("span", { style: `width:${project.progress ?? 0}%` })),
          project.next_milestone ? h("span", { class: "muted" }, `Next milestone: ${project.next_milestone.title}`
            + (project.next_milestone.due_date ? ` on ${formatDate(project.next_milestone.due_date)}` : "")) : null,
        ], "No shared projects yet.")),
        card(`Waiting on you (${home.waiting_on_you_count ?? 0})`, h("a", { href: "#/waiting" }, "See what we need from you")),
        card("Open tickets", list(home.open_tickets, (ticket) => [
          h("a", { href: `#/tickets/${ticket.id}` }, ticket.subject), h("span", { class: "badge" }, ticket.status),
        ], "No open tickets."), h("a", { href: "#/tickets/new" }, "Open a ticket")),
        card("Forms to fill in", list(home.forms_waiting, (form) => [
          h("a", { href: `#/forms/${form.form_id}` }, form.form_name),
          form.due_date ? h("span", { class: "muted" }, `due ${formatDate(form.due_date)}`) : null,
        ], "No forms waiting.")),
        card("Recent documents", list(home.recent_documents, (file) => [
          h("span", {}, file.filename), h("span", { class: "muted" }, formatDate(file.created_at)),
        ], "No documents yet."), h("a", { href: "#/files" }, "All documents")),
        card("Invoices", list(home.invoices, (invoice) => [
          h("span", {}, invoice.number), h("span", { class: "badge" }, invoice.status),
          h("span", {}, money(invoice.total, invoice.currency)),
        ], "No invoices.")),
        csm ? card("Your team", h("p", {}, csm.name, h("br"), h("span", { class: "muted" }, csm.email || ""))) : null));
  },

  async waiting() {
    const waiting = await api("GET", "/portal/waiting-on-you");
    return h("div", {}, h("h1", {}, "Waiting on you"), card(null, list(waiting.items, (item) => [
      h("span", { class: "badge" }, item.kind.replace("_", " ")),
      h("span", {}, item.title),
      item.sla_clock && item.sla_clock.paused
        ? h("span", { class: "muted" }, `our response clock is paused since ${formatDate(item.sla_clock.paused_since)}`) : null,
      item.due_date ? h("span", { class: "muted" }, `due ${formatDate(item.due_date)}`) : null,
    ], "Nothing is waiting on you.")));
  },

  async project(projectId) {
    const project = await api("GET", `/portal/projects/${projectId}`);
    // A phase is a top-level shared task with its shared subtasks.
    return h("div", {}, h("h1", {}, project.name), h("p", { class: "muted" }, `${project.progress ?? 0}% complete`),
      h("div", { class: "progress" }, h("span", { style: `width:${project.progress ?? 0}%` })),
      card("Plan", list(project.phases, (phase) => [...taskRow(phase),
        phase.subtasks.length ? h("ul", { class: "items", style: "flex-basis:100%;padding-left:1rem" },
          phase.subtasks.map((task) => h("li", {}, taskRow(task)))) : null])));
  },

  async tickets() {
    const page = await api("GET", "/portal/tickets");  // company-wide where the customer shares, else mine
    return h("div", {}, h("h1", {}, "Tickets"), h("p", {}, h("a", { href: "#/tickets/new" }, "Open a ticket")),
      card(null, list(page.items, (ticket) => [
        h("a", { href: `#/tickets/${ticket.id}` }, ticket.subject), h("span", { class: "badge" }, ticket.status),
        h("span", { class: "muted" }, formatDate(ticket.updated_at || ticket.created_at)),
      ], "No tickets yet.")));
  },

  async newTicket() {
    const subject = h("input", { name: "subject", required: true, maxlength: 200 });
    const body = h("textarea", { name: "body", rows: 6, required: true });
    return card("Open a ticket", h("form", { class: "stack", onsubmit: reporting(async (event) => {
      event.preventDefault();
      const ticket = await api("POST", "/portal/tickets", { subject: subject.value, description: body.value });
      location.hash = `#/tickets/${ticket.id}`;
    }) }, h("label", {}, "Subject", subject), h("label", {}, "What do you need?", body),
    h("button", { class: "primary", type: "submit" }, "Send")));
  },

  async ticket(ticketId) {
    const ticket = await api("GET", `/portal/tickets/${ticketId}`);
    const reply = h("textarea", { name: "reply", rows: 4, required: true });
    const bubble = (message) => h("div", { class: `message${message.author_type === "customer" ? " mine" : ""}` },
      h("div", { class: "muted" }, `${message.author_type === "customer" ? "You" : "Us"} · ${formatDate(message.created_at)}`),
      message.body);
    const conversation = card("Conversation", ticket.messages.map(bubble));
    return h("div", {}, h("h1", {}, ticket.subject), h("p", {}, h("span", { class: "badge" }, ticket.status)),
      conversation,
      card("Reply", h("form", { class: "stack", id: "ticket-reply", onsubmit: reporting(async (event) => {
        event.preventDefault();
        // The posted message is shown as the API answered it (the thread's list follows a moment later).
        conversation.append(bubble(await api("POST", `/portal/tickets/${ticketId}/messages`, { body: reply.value })));
        reply.value = "";
        flash("Reply sent.");
      }) }, reply, h("button", { class: "primary", type: "submit" }, "Send reply"))));
  },

  async form(formId) {
    // A portal user reading a form gets its live (published) version.
    const form = await api("GET", `/forms/${formId}`);
    return h("div", {}, h("h1", {}, form.name), form.description ? h("p", {}, form.description) : null,
      card(null, formEditor(form, async (answers) => {
        await api("POST", `/forms/${formId}/submissions`, { answers });
        navigate("#/home", "Thank you — we have your answers.");
      })));
  },

  async files() {
    const page = await api("GET", "/portal/files");
    const input = h("input", { type: "file", name: "file", required: true });
    return h("div", {}, h("h1", {}, "Documents"),
      card("Upload a document", h("form", { class: "stack", onsubmit: reporting(async (event) => {
        event.preventDefault();
        await upload(input.files[0]);
        flash("Uploaded.");
        render();
      }) }, input, h("button", { class: "primary", type: "submit" }, "Upload"))),
      card(null, list(page.items, (file) => [
        h("a", { href: "#", onclick: reporting(async (event) => {
          event.preventDefault();
          const detail = await api("GET", `/files/${file.id}`);
          location.href = detail.download_url;
        }) }, file.filename),
        h("span", { class: "muted" }, `${formatDate(file.created_at)} · ${file.status || ""}`),
      ], "No documents yet.")));
  },
};

function taskRow(task) {
  const row = [h("span", {}, task.title), h("span", { class: "badge" }, task.status),
    task.due_date ? h("span", { class: "muted" }, `due ${formatDate(task.due_date)}`) : null];
  if (task.blocker) row.push(h("span", { class: "muted", style: "flex-basis:100%" }, task.blocker));
  if (task.awaiting_approval) {
    const comment = h("input", { name: "comment", placeholder: "What should change?" });
    // The decision is recorded on the task a moment later (the team's board follows the event),
    // so the answer replaces the buttons here rather than re-reading the project.
    const decided = (state, at) => actions.replaceWith(
      h("span", { class: "muted", dataset: { decision: task.id } }, `${state.replace("_", " ")} ${formatDate(at)}`));
    const actions = h("div", { class: "actions", style: "flex-basis:100%", dataset: { milestone: task.id } },
      h("button", { class: "primary", type: "button", onclick: reporting(async () => {
        const decision = await api("POST", `/portal/milestones/${task.id}/approve`, {});
        decided(decision.state, decision.decided_at);
        flash("Milestone approved.");
      }) }, "Approve"),
      comment,
      h("button", { class: "secondary", type: "button", onclick: reporting(async () => {
        if (!comment.value.trim()) { comment.focus(); flash("Tell us what should change."); return; }
        const decision = await api("POST", `/portal/milestones/${task.id}/request-changes`, { comment: comment.value });
        decided(decision.state, decision.decided_at);
        flash("Change request sent.");
      }) }, "Request changes"));
    row.push(actions);
  } else if (task.approval) {
    row.push(h("span", { class: "muted" }, `${task.approval.state.replace("_", " ")} ${formatDate(task.approval.at)}`));
  }
  return row;
}

async function upload(file) {
  const grant = await api("POST", "/portal/files", {
    filename: file.name, content_type: file.type || "application/octet-stream", size: file.size,
  });
  const post = grant.upload || grant;
  const body = new FormData();
  for (const [name, value] of Object.entries(post.fields)) body.append(name, value);
  body.append("file", file);
  const response = await fetch(post.url, { method: "POST", body });
  if (!response.ok) throw new Error("The upload was refused.");
}

// ---------------------------------------------------------------- forms

const CHOICE_TYPES = new Set(["radio", "dropdown"]);
const MULTI_TYPES = new Set(["checkboxes", "multi_select"]);
const SCALES = { rating: [1, 5], csat: [1, 5], ces: [1, 7], nps: [0, 10] };

function optionsOf(field) {
  return (field.options || []).map((option) => (typeof option === "string" ? { value: option, label: option } : option));
}

function fieldInput(field) {
  const name = field.key || field.id;
  const type = field.type;
  if (type === "section") return h("div", {}, h("h2", {}, field.label), field.text ? h("p", {}, field.text) : null);
  if (type === "long_text") return h("textarea", { name, rows: 4 });
  if (CHOICE_TYPES.has(type) || type === "yes_no") {
    const options = type === "yes_no" ? [{ value: "true", label: "Yes" }, { value: "false", label: "No" }] : optionsOf(field);
    return h("fieldset", { dataset: { name } }, options.map((option) => h("label", {},
      h("input", { type: "radio", name, value: option.value }), option.label)));
  }
  if (MULTI_TYPES.has(type)) {
    return h("fieldset", { dataset: { name, multi: "1" } }, optionsOf(field).map((option) => h("label", {},
      h("input", { type: "checkbox", name, value: option.value }), option.label)));
  }
  if (type in SCALES || type === "linear_scale") {
    const [low, high] = SCALES[type] || [field.min ?? 1, field.max ?? 5];
    const values = Array.from({ length: high - low + 1 }, (_, index) => low + index);
    return h("fieldset", { dataset: { name, number: "1" } }, values.map((value) => h("label", {},
      h("input", { type: "radio", name, value }), value)));
  }
  if (type === "consent") return h("label", {}, h("input", { type: "checkbox", name, value: "true" }), field.text || field.label);
  if (type === "signature") return h("input", { name, placeholder: "Type your full name" });
  const htmlTypes = { email: "email", phone: "tel", url: "url", number: "number", currency: "number", date: "date", time: "time" };
  return h("input", { name, type: htmlTypes[type] || "text" });
}

function readAnswer(form, field) {
  const name = field.key || field.id;
  const inputs = [...form.querySelectorAll(`[name="${CSS.escape(name)}"]`)];
  if (inputs.length === 0) return undefined;
  const type = field.type;
  if (MULTI_TYPES.has(type)) return inputs.filter((input) => input.checked).map((input) => input.value);
  if (type === "consent") return inputs[0].checked;
  if (inputs[0].type === "radio") {
    const chosen = inputs.find((input) => input.checked);
    if (!chosen) return undefined;
    if (type === "yes_no") return chosen.value === "true";
    return type in SCALES || type === "linear_scale" ? Number(chosen.value) : chosen.value;
  }
  const value = inputs[0].value;
  if (value === "") return undefined;
  if (type === "number" || type === "currency") return Number(value);
  if (type === "signature") return { full_name: value, consent: true };
  return value;
}

function formEditor(form, submit) {
  const fields = form.fields || [];
  const error = h("p", { class: "error", role: "alert" });
  const element = h("form", { class: "stack", id: "portal-form", onsubmit: async (event) => {
    event.preventDefault();
    const answers = {};
    for (const field of fields) {
      if (field.type === "section" || field.type === "hidden") continue;
      const value = readAnswer(element, field);
      if (value !== undefined) answers[field.key || field.id] = value;
    }
    try { await submit(answers); } catch (failure) {
      const problems = failure.problem && failure.problem.errors;
      error.textContent = problems ? problems.map((problem) => `${problem.field || ""}: ${problem.message || problem.detail || ""}`).join("; ") : failure.message;
    }
  } }, fields.filter((field) => field.type !== "hidden").map((field) => (field.type === "section"
    ? fieldInput(field)
    : h("label", { dataset: { field: field.key || field.id } }, `${field.label}${field.required ? " *" : ""}`, fieldInput(field)))),
  error, h("button", { class: "primary", type: "submit" }, "Submit"));
  return element;
}

// ---------------------------------------------------------------- routing

const routes = [
  [/^#\/sign-in/, () => views.signIn()],
  [/^#\/home$/, () => views.home()],
  [/^#\/waiting$/, () => views.waiting()],
  [/^#\/projects\/([^/]+)$/, (id) => views.project(id)],
  [/^#\/tickets$/, () => views.tickets()],
  [/^#\/tickets\/new$/, () => views.newTicket()],
  [/^#\/tickets\/([^/]+)$/, (id) => views.ticket(id)],
  [/^#\/forms\/([^/]+)$/, (id) => views.form(id)],
  [/^#\/files$/, () => views.files()],
];

async function render() {
  const hash = location.hash || "#/home";
  const signedIn = Boolean(state.token);
  document.getElementById("nav").hidden = !signedIn;
  if (!signedIn && !hash.startsWith("#/sign-in")) { location.hash = "#/sign-in"; return; }
  const view = document.getElementById("view");
  for (const [pattern, show] of routes) {
    const match = hash.match(pattern);
    if (!match) continue;
    try {
      view.replaceChildren(await show(...match.slice(1).map(decodeURIComponent)));
      view.dataset.view = pattern.source;
    } catch (error) {
      view.replaceChildren(card("Something went wrong", h("p", { class: "error" }, error.message)));
    }
    return;
  }
  location.hash = "#/home";
}

async function start() {
  state.config = await (await fetch("config.json")).json();
  try {
    applyBranding(await api("GET", `/portal/branding?host=${encodeURIComponent(portalHost())}`));
  } catch { applyBranding(null); }
  document.getElementById("sign-out").addEventListener("click", signOut);
  window.addEventListener("hashchange", async () => {
    const message = messageForNextPage;
    messageForNextPage = null;
    document.getElementById("flash").hidden = true;
    await render();
    if (message) flash(message);
  });
  await render();
}

start();
