// gouache image playground: one ES module, no framework, no build step.
//
// It speaks the same public API any client uses: the Azure OpenAI DALL-E 2 async operation routes
// (POST /openai/images/generations:submit, then GET the operation-location, honouring retry-after;
// DELETE to remove an operation), and /readyz for the deployments that fill the form. While an
// operation runs, its events route (GET …/operations/images/{id}/events, a gouache extension)
// brings live previews and progress. Edit mode posts a multipart form to /v1/images/edits,
// streaming previews as Server-Sent Events when the deployment makes them.

const API_VERSION = "2023-06-01-preview";
const SUBMIT_PATH = `openai/images/generations:submit?api-version=${API_VERSION}`;
const STORE_KEY = "gouache.apiKey";
const STORE_HISTORY = "gouache.operations";
const STORE_FORM = "gouache.form";
const HISTORY_MAX = 30;
const N_CAP = 5; // the seed's picklist: 1..5 images, narrowed by the deployment's max_n
// Used only when /readyz does not say a deployment's prompt_max: the profiles' documented limits.
const PROMPT_MAX_BY_PROFILE = { "dall-e-2": 1000, "dall-e-3": 4000, "gpt-image-1": 32000 };
const PROMPT_MAX_DEFAULT = 1000;
const TERMINAL = new Set(["succeeded", "failed", "canceled", "deleted"]);
const TRANSIENT = new Set([0, 429, 502, 503, 504]);
const POLL_RETRIES = 5;
const FIELD_FOR_PARAM = {
  prompt: "prompt",
  n: "n-group",
  size: "size",
  user: "user",
  model: "deployment",
  image: "edit-image",
  mask: "edit-mask",
};
const EDIT_PATH = "v1/images/edits";
const PARTIAL_IMAGES = 2; // previews asked for, where the deployment's engine makes them

const $ = (id) => document.getElementById(id);
const els = {
  form: $("generate-form"),
  prompt: $("prompt"),
  counter: $("prompt-counter"),
  promptHelp: $("prompt-help"),
  deployment: $("deployment"),
  deploymentHelp: $("deployment-help"),
  size: $("size"),
  nGroup: $("n-group"),
  user: $("user"),
  generate: $("generate"),
  status: $("status"),
  steps: $("steps"),
  error: $("error"),
  grid: $("grid"),
  empty: $("empty"),
  opMeta: $("op-meta"),
  recent: $("recent"),
  recentEmpty: $("recent-empty"),
  keyPanel: $("key-panel"),
  keyForm: $("key-form"),
  keyInput: $("api-key"),
  keyForget: $("key-forget"),
  keyNote: $("key-note"),
  keySummary: $("key-summary"),
  keyDot: $("key-dot"),
  modeGroup: $("mode-group"),
  editFields: $("edit-fields"),
  editImage: $("edit-image"),
  editMask: $("edit-mask"),
  editThumbs: $("edit-thumbs"),
  progress: $("progress"),
  progressBar: $("progress-bar"),
};

let deployments = {};
let run = 0; // increases whenever a new submit or reopen supersedes the one on screen
let controller = null;
let shownId = null;
let submitting = false; // between pressing Generate and the service's answer to the POST

// -- storage (never fatal: private windows and full quotas throw) ----------------------------

function readStore(name, fallback) {
  try {
    const raw = localStorage.getItem(name);
    return raw === null ? fallback : JSON.parse(raw);
  } catch {
    return fallback;
  }
}

function writeStore(name, value) {
  try {
    if (value === null || value === undefined) localStorage.removeItem(name);
    else localStorage.setItem(name, JSON.stringify(value));
  } catch {
    /* storage unavailable: the page still works for this visit */
  }
}

const loadKey = () => readStore(STORE_KEY, "") || "";
const loadHistory = () => {
  const list = readStore(STORE_HISTORY, []);
  return Array.isArray(list) ? list.filter((e) => e && e.id && e.location) : [];
};
const saveHistory = (list) => writeStore(STORE_HISTORY, list.slice(0, HISTORY_MAX));

// -- HTTP ---------------------------------------------------------------------------------------

class ApiError extends Error {
  constructor(message, { status = 0, code = "", param = null, retryAfter = null, title = "" } = {}) {
    super(message);
    this.title = title;
    this.status = status;
    this.code = code;
    this.param = param;
    this.retryAfter = retryAfter;
  }
}

function retryAfterSeconds(response, fallback = 1) {
  const raw = response.headers.get("retry-after");
  if (raw === null) return fallback;
  let seconds = Number.parseFloat(raw);
  if (Number.isNaN(seconds)) {
    const when = Date.parse(raw); // the HTTP-date form
    seconds = Number.isNaN(when) ? fallback : (when - Date.now()) / 1000;
  }
  return Math.min(60, Math.max(0.5, seconds));
}

// operation-location is absolute. The page talks to the server that served it, so a location on
// another origin (a public_url that differs from the address in the address bar) is followed on
// this origin: same path, same query, no CORS preflight.
function onThisOrigin(url) {
  const target = new URL(url, document.baseURI);
  if (target.origin === location.origin) return target.href;
  return new URL(target.pathname + target.search, location.origin).href;
}

async function api(url, { method = "GET", body, signal } = {}) {
  const headers = { Accept: "application/json" };
  const key = loadKey();
  if (key) headers["api-key"] = key;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  let response;
  try {
    response = await fetch(url, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      cache: "no-store",
      signal,
    });
  } catch (err) {
    if (err.name === "AbortError") throw err;
    throw new ApiError(`Could not reach the gouache server (${err.message}). Is it still running?`);
  }
  const text = await response.text();
  let data = null;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = null;
    }
  }
  if (!response.ok) {
    const error = data && typeof data === "object" ? data.error || {} : {};
    const message =
      error.message || `The server answered ${response.status} ${response.statusText}`.trim() + ".";
    throw new ApiError(message, {
      status: response.status,
      code: error.code || "",
      param: error.param || null,
      retryAfter: response.headers.get("retry-after"),
    });
  }
  return { response, data };
}

function sleep(ms, signal) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener(
      "abort",
      () => {
        clearTimeout(timer);
        reject(new DOMException("superseded", "AbortError"));
      },
      { once: true },
    );
  });
}

// -- small DOM helpers --------------------------------------------------------------------------

function h(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (name === "class") node.className = value;
    else if (name === "text") node.textContent = value;
    else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else if (name === "style") node.style.cssText = value;
    else node.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

const codePoints = (text) => [...text].length;
const plural = (count, word) => `${count} ${word}${count === 1 ? "" : "s"}`;

function shorten(text, max = 80) {
  const chars = [...text.trim().replace(/\s+/g, " ")];
  return chars.length > max ? `${chars.slice(0, max - 1).join("")}…` : chars.join("");
}

function parseSize(size) {
  const match = /^(\d+)x(\d+)$/.exec(size || "");
  return match ? { width: Number(match[1]), height: Number(match[2]) } : null;
}

function formatLeft(seconds) {
  if (seconds <= 0) return null;
  const s = Math.floor(seconds);
  const days = Math.floor(s / 86400);
  const hh = String(Math.floor((s % 86400) / 3600)).padStart(2, "0");
  const mm = String(Math.floor((s % 3600) / 60)).padStart(2, "0");
  const ss = String(s % 60).padStart(2, "0");
  return `${days ? `${days} d ` : ""}${hh}:${mm}:${ss}`;
}

const relative = new Intl.RelativeTimeFormat(undefined, { numeric: "auto" });
function ago(unixSeconds) {
  const diff = unixSeconds - Date.now() / 1000;
  const abs = Math.abs(diff);
  if (abs < 45) return "just now";
  if (abs < 3600) return relative.format(Math.round(diff / 60), "minute");
  if (abs < 86400) return relative.format(Math.round(diff / 3600), "hour");
  return relative.format(Math.round(diff / 86400), "day");
}

const clock = (unixSeconds) =>
  new Date(unixSeconds * 1000).toLocaleString(undefined, {
    dateStyle: "medium",
    timeStyle: "short",
  });

// -- form: deployments, sizes, n, prompt counter ----------------------------------------------

function currentDeployment() {
  return deployments[els.deployment.value] || null;
}

function promptLimit() {
  const d = currentDeployment();
  if (!d) return PROMPT_MAX_DEFAULT;
  return d.prompt_max || PROMPT_MAX_BY_PROFILE[d.profile] || PROMPT_MAX_DEFAULT;
}

function selectedN() {
  const checked = els.nGroup.querySelector("input:checked");
  return checked ? Number(checked.value) : 1;
}

function updateCounter() {
  const used = codePoints(els.prompt.value);
  const limit = promptLimit();
  const over = used > limit;
  els.counter.textContent = over
    ? `${used.toLocaleString()} / ${limit.toLocaleString()} · ${(used - limit).toLocaleString()} over`
    : `${used.toLocaleString()} / ${limit.toLocaleString()}`;
  els.counter.classList.toggle("over", over);
  els.counter.classList.toggle("near", !over && used > limit * 0.9);
  els.prompt.toggleAttribute("aria-invalid", over);
  els.prompt.closest(".field").classList.toggle("invalid", over);
  els.promptHelp.classList.toggle("over", over);
  els.promptHelp.textContent = over
    ? `The prompt is ${plural(used - limit, "character")} over the ${limit.toLocaleString()}-character limit of ${els.deployment.value || "this deployment"}. Shorten it to generate.`
    : "";
  if (!over) {
    els.promptHelp.append("Describe the picture. ", h("kbd", { text: "Ctrl" }), " + ", h("kbd", { text: "Enter" }), " generates.");
  }
  els.generate.disabled = over || submitting;
  return !over;
}

function fillSizes(d, wanted) {
  const previous = wanted || els.size.value;
  els.size.replaceChildren(
    ...d.sizes.map((size) => {
      const dims = parseSize(size);
      const label = dims ? `${dims.width} × ${dims.height}` : size === "auto" ? "auto (the model picks)" : size;
      return h("option", { value: size, text: label });
    }),
  );
  const fallback = d.sizes.includes("1024x1024") ? "1024x1024" : d.sizes[0];
  els.size.value = d.sizes.includes(previous) ? previous : fallback;
}

function fillN(d, wanted) {
  const previous = wanted || selectedN();
  const max = Math.max(1, Math.min(N_CAP, d.max_n || 1));
  els.nGroup.replaceChildren();
  for (let n = 1; n <= N_CAP; n += 1) {
    const id = `n-${n}`;
    const disabled = n > max;
    els.nGroup.append(
      h("input", { type: "radio", name: "n", id, value: n, disabled, checked: n === Math.min(previous, max) }),
      h("label", {
        for: id,
        text: n,
        title: disabled ? `${els.deployment.value} makes at most ${plural(max, "image")} per request` : plural(n, "image"),
      }),
    );
  }
}

function applyDeployment(wanted = {}) {
  const d = currentDeployment();
  if (!d) return;
  fillSizes(d, wanted.size);
  fillN(d, wanted.n);
  const max = Math.min(N_CAP, d.max_n);
  els.deploymentHelp.textContent = `Profile ${d.profile} · engine ${d.engine} · up to ${plural(max, "image")} · prompts up to ${promptLimit().toLocaleString()} characters`;
  updateCounter();
}

function rememberForm() {
  writeStore(STORE_FORM, {
    deployment: els.deployment.value,
    size: els.size.value,
    n: selectedN(),
    user: els.user.value,
  });
}

async function loadDeployments() {
  let data = null;
  let failure = "";
  try {
    const response = await fetch("readyz", { cache: "no-store" });
    data = await response.json();
  } catch (err) {
    failure = `Could not load the deployments from /readyz (${err.message}).`;
  }
  if (!data || !data.deployments || !Object.keys(data.deployments).length) {
    els.deployment.replaceChildren(h("option", { value: "", text: "no deployments" }));
    showError(new ApiError(failure || "This server lists no deployments on /readyz."));
    return;
  }
  const first = !Object.keys(deployments).length;
  deployments = data.deployments;
  if (first) {
    const saved = readStore(STORE_FORM, {}) || {};
    const names = Object.keys(deployments);
    els.deployment.replaceChildren(...names.map((name) => h("option", { value: name, text: name })));
    els.deployment.value = names.includes(saved.deployment) ? saved.deployment : names.includes("dall-e-2") ? "dall-e-2" : names[0];
    if (typeof saved.user === "string") els.user.value = saved.user;
    applyDeployment(saved.deployment === els.deployment.value ? saved : {});
    applyMode();
  }
  if (data.status === "loading") {
    if (!els.status.dataset.state || els.status.dataset.state === "loading") {
      setStatus("The engine is still loading. Requests you make now wait in the queue.", "loading");
    }
    setTimeout(loadDeployments, 3000);
  } else if (data.status === "failed") {
    showError(new ApiError(`The server's engine failed to start: ${data.error}`, { status: 503 }));
  } else if (els.status.dataset.state === "loading") {
    setStatus("Ready when you are.");
  }
}

// -- status, steps, errors ----------------------------------------------------------------------

function setStatus(text, state = "") {
  els.status.textContent = text;
  els.status.dataset.state = state;
}

const STEP_ORDER = ["notRunning", "running", "succeeded"];
const STATUS_TEXT = {
  notRunning: "Queued (notRunning): waiting for a worker…",
  running: "Painting (running)…",
  succeeded: "Done (succeeded).",
  failed: "Failed.",
  canceled: "Canceled: the operation timed out before it finished.",
  deleted: "Deleted: this operation and its images are gone.",
};

function setStep(status) {
  const index = STEP_ORDER.indexOf(status);
  els.steps.dataset.status = status || "";
  els.steps.querySelectorAll("li").forEach((li, i) => {
    li.classList.toggle("done", index >= 0 && (i < index || status === "succeeded"));
    li.classList.toggle("current", i === index && status !== "succeeded");
    li.classList.toggle("bad", index < 0 && !!status && i === 2);
  });
}

function showStatus(status, id) {
  setStep(status);
  const text = STATUS_TEXT[status] || `Status: ${status}`;
  setStatus(id && !TERMINAL.has(status) ? `${text}` : text, status);
}

function clearError() {
  els.error.hidden = true;
  els.error.replaceChildren();
  document.querySelectorAll(".field.server-invalid").forEach((f) => f.classList.remove("server-invalid"));
}

const ERROR_TITLE = {
  0: "Cannot reach the server",
  400: "The service rejected the request",
  401: "The API key was not accepted",
  403: "Not allowed",
  404: "Not found",
  409: "Not possible right now",
  413: "The request is too large",
  429: "The service is busy",
  500: "The service had an error",
  503: "The service is not ready",
};

// A request that failed: the grid cleared, the status line saying whether the server answered
// (an error it sent) or not (`unanswered`), and the error itself.
function showFailure(err, unanswered) {
  clearGrid();
  setStep(null);
  setStatus(err.status ? "The request did not go through." : unanswered, "error");
  showError(err);
}

// The end of a generate or edit run, unless a newer run has started since.
function endRun(token) {
  if (token !== run) return;
  submitting = false;
  els.generate.classList.remove("busy");
  updateCounter();
  els.grid.setAttribute("aria-busy", "false");
}

function showError(err) {
  const status = err.status ?? 0;
  const title =
    err.title || ERROR_TITLE[status] || (status >= 500 ? "The service had an error" : "Something went wrong");
  const detail = [status ? `HTTP ${status}` : "", err.code || "", err.param ? `param: ${err.param}` : ""]
    .filter(Boolean)
    .join(" · ");
  const children = [h("strong", { text: title }), h("p", { class: "error-message", text: err.message })];
  if (status === 401) {
    children.push(
      h("p", { class: "error-hint" }, "Enter the key under ",
        h("button", { type: "button", class: "link", text: "API key", onclick: openKeyPanel }), " at the top."),
    );
    els.keyPanel.open = true;
  }
  if (status === 429 && err.retryAfter) {
    children.push(h("p", { class: "error-hint", text: `The server suggests retrying after ${err.retryAfter} s.` }));
  }
  if (detail) children.push(h("small", { text: detail }));
  els.error.replaceChildren(...children);
  els.error.hidden = false;
  const fieldId = FIELD_FOR_PARAM[err.param];
  if (fieldId) $(fieldId).closest(".field")?.classList.add("server-invalid");
}

function openKeyPanel() {
  els.keyPanel.open = true;
  els.keyInput.focus();
}

// -- results grid ---------------------------------------------------------------------------------

function clearGrid() {
  setProgress(null);
  els.grid.replaceChildren(els.empty);
  els.empty.hidden = false;
  els.opMeta.hidden = true;
}

function showSkeleton(n, size) {
  const dims = parseSize(size) || { width: 1, height: 1 };
  els.empty.hidden = true;
  els.grid.replaceChildren(
    els.empty,
    ...Array.from({ length: n }, (_, i) =>
      h("div", {
        class: "card skeleton",
        style: `--ratio: ${dims.width} / ${dims.height}; --delay: ${i * 120}ms`,
        "aria-hidden": "true",
      }, h("div", { class: "frame" }), h("div", { class: "caption" }, h("span", { class: "bar" }))),
    ),
  );
}

function linkExpiry(url, fallback) {
  try {
    const se = new URL(url, document.baseURI).searchParams.get("se");
    if (se && /^\d+$/.test(se)) return Number(se);
  } catch {
    /* not a URL: fall back to the operation's expiry */
  }
  return fallback;
}

function imageCard(item, index, total, op, entry) {
  const promptText = entry?.prompt ? shorten(entry.prompt, 60) : "";
  if (!item || !item.url) {
    const message = item?.error?.message || "This image has no URL.";
    return h("figure", { class: "card failed", style: "--ratio: 1 / 1" },
      h("div", { class: "frame" }, h("p", { class: "card-error", text: message })),
      h("figcaption", { class: "caption" }, h("span", { class: "dims", text: `Image ${index + 1} of ${total}` }),
        h("span", { class: "expiry", text: item?.error?.code || "error" })));
  }
  const dims = parseSize(entry?.size) || { width: 1, height: 1 };
  const expires = linkExpiry(item.url, op.expires);
  const ext = (/\.(png|jpe?g|webp)(\?|$)/i.exec(item.url)?.[1] || /^data:image\/(png|jpeg|webp)/.exec(item.url)?.[1] || "png").toLowerCase();
  const filename = `gouache-${op.id.slice(0, 8)}-${index + 1}.${ext}`;
  const dimsLabel = h("span", { class: "dims", text: entry?.size && parseSize(entry.size) ? `${dims.width} × ${dims.height}` : `Image ${index + 1}` });
  const img = h("img", {
    src: item.url,
    alt: `Generated image ${index + 1} of ${total}${promptText ? ` for “${promptText}”` : ""}`,
    decoding: "async",
  });
  const card = h("figure", { class: "card loading", style: `--ratio: ${dims.width} / ${dims.height}` });
  img.addEventListener("load", () => {
    card.classList.remove("loading");
    card.style.setProperty("--ratio", `${img.naturalWidth} / ${img.naturalHeight}`);
    dimsLabel.textContent = `${img.naturalWidth} × ${img.naturalHeight}`;
  });
  img.addEventListener("error", () => {
    card.classList.remove("loading");
    card.classList.add("failed");
    img.replaceWith(h("p", { class: "card-error", text: "This image did not load: its link may have expired or the operation was deleted. Reopen the operation for fresh links." }));
  });
  const inline = item.url.startsWith("data:");
  const expiry = inline
    ? h("span", { class: "expiry", text: "kept in this page only", title: "This image came inline: download it to keep it" })
    : h("time", {
        class: "expiry",
        "data-expires": expires,
        datetime: new Date(expires * 1000).toISOString(),
        title: `This image link expires ${clock(expires)}`,
      });
  card.append(
    h("a", { class: "frame", href: item.url, target: "_blank", rel: "noopener", "aria-label": `Open image ${index + 1} full size in a new tab` }, img),
    h("figcaption", { class: "caption" },
      dimsLabel,
      h("a", { class: "button small", href: item.url, download: filename, "aria-label": `Download image ${index + 1} of ${total}` },
        downloadIcon(), "Download"),
      expiry),
  );
  return card;
}

function downloadIcon() {
  const ns = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(ns, "svg");
  svg.setAttribute("viewBox", "0 0 16 16");
  svg.setAttribute("aria-hidden", "true");
  svg.setAttribute("class", "icon");
  const path = document.createElementNS(ns, "path");
  path.setAttribute("d", "M8 2v8m0 0L4.5 6.5M8 10l3.5-3.5M3 13.5h10");
  svg.append(path);
  return svg;
}

function renderOperation(op, entry) {
  setProgress(null);
  shownId = op.id;
  highlightRecent();
  showStatus(op.status, op.id);
  els.grid.setAttribute("aria-busy", String(!TERMINAL.has(op.status)));
  if (op.status === "succeeded") {
    const items = op.result?.data || [];
    els.empty.hidden = true;
    els.grid.replaceChildren(els.empty, ...items.map((item, i) => imageCard(item, i, items.length, op, entry)));
    setStatus(`Done (succeeded): ${plural(items.length, "image")}.`, "succeeded");
    tick();
  } else if (op.status === "failed") {
    clearGrid();
    showError(new ApiError(op.error?.message || "The operation failed without a message.", {
      code: op.error?.code,
      title: "The operation failed",
    }));
  } else if (op.status === "canceled" || op.status === "deleted") {
    clearGrid();
  }
  const parts = [];
  if (entry?.prompt) parts.push(h("span", { class: "meta-prompt", text: `“${shorten(entry.prompt, 140)}”` }));
  const facts = [
    entry?.deployment,
    entry?.size,
    op.created ? `created ${clock(op.created)}` : "",
    op.inline ? "edited in this page" : `id ${op.id}`,
  ].filter(Boolean);
  parts.push(h("span", { text: facts.join(" · ") }));
  els.opMeta.replaceChildren(...parts);
  els.opMeta.hidden = false;
}

// -- generate and poll ------------------------------------------------------------------------

function supersede() {
  run += 1;
  controller?.abort();
  controller = new AbortController();
  return { token: run, signal: controller.signal };
}

async function poll(entry, firstWait, token, signal) {
  let wait = firstWait;
  let failures = 0;
  for (;;) {
    await sleep(wait * 1000, signal);
    if (token !== run) return;
    let result;
    try {
      result = await api(onThisOrigin(entry.location), { signal });
      failures = 0;
    } catch (err) {
      if (err.name === "AbortError") throw err;
      if (TRANSIENT.has(err.status) && failures < POLL_RETRIES) {
        failures += 1;
        wait = Math.min(10, 2 ** failures);
        setStatus(`Lost contact with the server; retrying in ${wait} s… (${err.message})`, "retrying");
        continue;
      }
      throw err;
    }
    if (token !== run) return;
    const op = result.data;
    updateHistory(entry.id, { status: op.status, expires: op.expires });
    if (TERMINAL.has(op.status)) {
      renderOperation(op, entry);
      return;
    }
    if (els.status.dataset.state !== op.status) showStatus(op.status, op.id);
    wait = retryAfterSeconds(result.response);
  }
}

async function generate() {
  if (currentMode() === "edit") {
    await editImage();
    return;
  }
  clearError();
  if (!updateCounter()) {
    els.prompt.focus();
    return;
  }
  const d = currentDeployment();
  const body = {
    prompt: els.prompt.value,
    n: selectedN(),
    size: els.size.value,
    model: els.deployment.value,
  };
  const user = els.user.value.trim();
  if (user) body.user = user;
  if (d?.previews) body.partial_images = PARTIAL_IMAGES;
  rememberForm();

  const { token, signal } = supersede();
  shownId = null;
  highlightRecent();
  submitting = true;
  els.generate.disabled = true;
  els.generate.classList.add("busy");
  setStep(null);
  setStatus("Submitting…", "submitting");
  showSkeleton(body.n, body.size);
  if (window.matchMedia("(max-width: 860px)").matches) {
    els.status.closest("section").scrollIntoView({ behavior: "smooth", block: "start" });
  }
  els.grid.setAttribute("aria-busy", "true");
  els.opMeta.hidden = true;
  try {
    const { response, data } = await api(SUBMIT_PATH, { method: "POST", body, signal });
    const location_ = response.headers.get("operation-location");
    if (!location_) {
      throw new ApiError("The server accepted the request but sent no operation-location header to poll.", { status: response.status });
    }
    const entry = {
      id: data.id,
      prompt: body.prompt,
      created: data.created || Math.floor(Date.now() / 1000),
      location: location_,
      deployment: body.model,
      size: body.size,
      n: body.n,
      status: data.status,
    };
    addHistory(entry);
    shownId = entry.id;
    highlightRecent();
    showStatus(data.status, data.id);
    submitting = false;
    els.generate.classList.remove("busy");
    updateCounter();
    if (body.partial_images) followEvents(entry, token, signal);
    await poll(entry, retryAfterSeconds(response), token, signal);
  } catch (err) {
    if (err.name === "AbortError" || token !== run) return;
    showFailure(err, "The server could not be reached.");
    if (d && err.status === 401) els.keyInput.focus();
  } finally {
    endRun(token);
  }
}

// -- live previews and progress -------------------------------------------------------------------

function setProgress(fraction) {
  const show = typeof fraction === "number";
  els.progress.hidden = !show;
  if (show) els.progressBar.style.setProperty("--done", `${Math.round(fraction * 100)}%`);
}

// The cards on screen while an operation runs are skeletons; a preview takes the place of
// skeleton `index` until the finished images replace them all.
function showPreview(index, src, progress) {
  const cards = [...els.grid.querySelectorAll(".card")];
  const card = cards[index];
  if (!card || !(card.classList.contains("skeleton") || card.classList.contains("previewing"))) return;
  card.classList.remove("skeleton");
  card.classList.add("previewing");
  const note = typeof progress === "number" ? `Preview · ${Math.round(progress * 100)}%` : "Preview";
  const frame = h("div", { class: "frame" },
    h("img", { class: "preview", src, alt: `Preview of image ${index + 1}, still being painted` }),
    h("span", { class: "preview-note", text: note }));
  card.querySelector(".frame").replaceWith(frame);
}

// Server-Sent Events read with fetch, not EventSource: EventSource cannot send the api-key header.
async function* readEvents(response, signal) {
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  for (;;) {
    if (signal?.aborted) return;
    const { value, done } = await reader.read();
    if (done) break;
    buffer += decoder.decode(value, { stream: true }).replace(/\r\n/g, "\n");
    let cut;
    while ((cut = buffer.indexOf("\n\n")) >= 0) {
      const block = buffer.slice(0, cut);
      buffer = buffer.slice(cut + 2);
      let name = "message";
      const data = [];
      for (const line of block.split("\n")) {
        if (line.startsWith("event:")) name = line.slice(6).trim();
        else if (line.startsWith("data:")) data.push(line.slice(5).trimStart());
      }
      if (!data.length) continue;
      try {
        yield { name, data: JSON.parse(data.join("\n")) };
      } catch {
        /* not JSON: nothing this page shows */
      }
    }
  }
}

function eventsUrl(location_) {
  const url = new URL(onThisOrigin(location_));
  url.pathname = `${url.pathname.replace(/\/$/, "")}/events`;
  return url.href;
}

// Previews and progress of a queued operation; the poll stays in charge of the final result, so
// a server without the events route (or a dropped stream) only means no previews.
async function followEvents(entry, token, signal) {
  const headers = { Accept: "text/event-stream" };
  const key = loadKey();
  if (key) headers["api-key"] = key;
  try {
    const response = await fetch(eventsUrl(entry.location), { headers, signal, cache: "no-store" });
    if (!response.ok || !response.body) return;
    for await (const { name, data } of readEvents(response, signal)) {
      if (token !== run) return;
      if (name === "status" && data.status === "running") setProgress(data.progress || 0);
      if (name === "preview") {
        setProgress(data.progress);
        showPreview(data.image_index, data.url, data.progress);
        setStatus(`Painting (running)… ${Math.round(data.progress * 100)}%`, "running");
      }
      if (name === "operation") return;
    }
  } catch {
    /* superseded, or the stream broke: the poll carries on */
  }
}

// -- edit mode --------------------------------------------------------------------------------------

function currentMode() {
  return els.modeGroup.querySelector("input:checked")?.value || "generate";
}

function applyMode() {
  const editing = currentMode() === "edit";
  els.editFields.hidden = !editing;
  els.generate.querySelector(".button-label").textContent = editing ? "Edit" : "Generate";
  let firstAble = null;
  for (const option of els.deployment.options) {
    const d = deployments[option.value];
    const able = !editing || !!d?.edits;
    option.disabled = !able;
    if (able && firstAble === null) firstAble = option.value;
  }
  if (editing && !deployments[els.deployment.value]?.edits && firstAble) {
    els.deployment.value = firstAble;
    applyDeployment();
  }
}

function showThumbs() {
  const thumbs = [];
  for (const [input, label] of [[els.editImage, "image"], [els.editMask, "mask"]]) {
    const file = input.files?.[0];
    if (!file) continue;
    const url = URL.createObjectURL(file);
    thumbs.push(h("figure", {}, h("img", { src: url, alt: `The chosen ${label}` }), h("figcaption", { text: shorten(file.name, 18) })));
  }
  els.editThumbs.replaceChildren(...thumbs);
}

function inlineItem(b64, format) {
  return { url: `data:image/${format === "jpeg" ? "jpeg" : format || "png"};base64,${b64}` };
}

async function editImage() {
  clearError();
  if (!updateCounter()) {
    els.prompt.focus();
    return;
  }
  const file = els.editImage.files?.[0];
  if (!file) {
    showError(new ApiError("Choose the image to edit first.", { title: "No image chosen", param: "image" }));
    els.editImage.focus();
    return;
  }
  const d = currentDeployment();
  const form = new FormData();
  form.append("image", file, file.name);
  const mask = els.editMask.files?.[0];
  if (mask) form.append("mask", mask, mask.name);
  form.append("prompt", els.prompt.value);
  form.append("model", els.deployment.value);
  form.append("n", String(selectedN()));
  form.append("size", els.size.value);
  const user = els.user.value.trim();
  if (user) form.append("user", user);
  const stream = d?.profile === "gpt-image-1";
  if (stream) {
    form.append("stream", "true");
    if (d.previews) form.append("partial_images", String(PARTIAL_IMAGES));
  }
  rememberForm();

  const { token, signal } = supersede();
  const entry = { prompt: els.prompt.value, size: els.size.value === "auto" ? null : els.size.value, deployment: els.deployment.value };
  shownId = null;
  highlightRecent();
  submitting = true;
  els.generate.disabled = true;
  els.generate.classList.add("busy");
  setStep("running");
  setStatus("Editing (running)…", "running");
  showSkeleton(selectedN(), els.size.value);
  els.grid.setAttribute("aria-busy", "true");
  els.opMeta.hidden = true;
  const headers = {};
  const key = loadKey();
  if (key) headers["api-key"] = key;
  try {
    let response;
    try {
      response = await fetch(EDIT_PATH, { method: "POST", headers, body: form, cache: "no-store", signal });
    } catch (err) {
      if (err.name === "AbortError") throw err;
      throw new ApiError(`Could not reach the gouache server (${err.message}). Is it still running?`);
    }
    if (!response.ok) {
      let error = {};
      try {
        error = (await response.json()).error || {};
      } catch {
        /* not JSON */
      }
      throw new ApiError(error.message || `The server answered ${response.status}.`, {
        status: response.status, code: error.code || "", param: error.param || null, retryAfter: response.headers.get("retry-after"),
      });
    }
    const created = Math.floor(Date.now() / 1000);
    let items = [];
    if (stream) {
      for await (const { data } of readEvents(response, signal)) {
        if (token !== run) return;
        if (data.error) throw new ApiError(data.error.message || "The edit failed.", { code: data.error.code, title: "The edit failed" });
        if (data.type === "image_edit.partial_image") {
          showPreview(data.image_index || 0, inlineItem(data.b64_json, data.output_format).url, null);
          setStatus(`Editing (running)… preview ${data.partial_image_index + 1}`, "running");
        } else if (data.type === "image_edit.completed") {
          items.push(inlineItem(data.b64_json, data.output_format));
        }
      }
    } else {
      const body = await response.json();
      items = (body.data || []).map((item) => (item.url ? { url: item.url } : inlineItem(item.b64_json, body.output_format)));
    }
    if (token !== run) return;
    const op = { id: `edit-${created}`, inline: true, created, expires: created + 86400, status: "succeeded", result: { data: items } };
    renderOperation(op, entry);
    shownId = null;
    setStatus(`Done (succeeded): ${plural(items.length, "edited image")}.`, "succeeded");
  } catch (err) {
    if (err.name === "AbortError" || token !== run) return;
    showFailure(err, "The edit did not finish.");
  } finally {
    endRun(token);
  }
}

// -- recent operations ----------------------------------------------------------------------------

function addHistory(entry) {
  const list = loadHistory().filter((e) => e.id !== entry.id);
  list.unshift(entry);
  saveHistory(list);
  renderRecent();
}

function updateHistory(id, changes) {
  const list = loadHistory();
  const entry = list.find((e) => e.id === id);
  if (!entry) return;
  Object.assign(entry, changes);
  saveHistory(list);
  const item = els.recent.querySelector(`[data-id="${CSS.escape(id)}"] .badge`);
  if (item && changes.status) {
    item.textContent = changes.status;
    item.className = `badge status-${changes.status}`;
  }
}

function removeHistory(id) {
  saveHistory(loadHistory().filter((e) => e.id !== id));
}

function highlightRecent() {
  els.recent.querySelectorAll(".recent-item").forEach((li) => {
    li.classList.toggle("shown", li.dataset.id === shownId);
    if (li.dataset.id === shownId) li.setAttribute("aria-current", "true");
    else li.removeAttribute("aria-current");
  });
}

function renderRecent() {
  const list = loadHistory();
  els.recentEmpty.hidden = list.length > 0;
  els.recent.replaceChildren(
    ...list.map((entry) => {
      const label = shorten(entry.prompt || "(empty prompt)", 48);
      const itemError = h("p", { class: "recent-error", role: "alert", hidden: true });
      const meta = [entry.deployment, entry.size, entry.n ? plural(entry.n, "image") : ""].filter(Boolean).join(" · ");
      return h("li", { class: "recent-item", "data-id": entry.id },
        h("p", { class: "recent-prompt", title: entry.prompt || "", text: entry.prompt || "(empty prompt)" }),
        h("p", { class: "recent-meta" },
          h("span", { class: `badge status-${entry.status || "unknown"}`, text: entry.status || "unknown" }),
          h("time", { class: "ago", "data-created": entry.created, datetime: new Date(entry.created * 1000).toISOString(), title: clock(entry.created), text: ago(entry.created) }),
          h("span", { class: "recent-details", text: meta })),
        h("div", { class: "recent-actions" },
          h("button", { type: "button", class: "button small ghost", "data-action": "open", "aria-label": `Reopen “${label}”`, text: "Reopen" }),
          h("button", { type: "button", class: "button small ghost danger", "data-action": "delete", "aria-label": `Delete “${label}”`, text: "Delete" })),
        itemError);
    }),
  );
  highlightRecent();
}

function itemErrorShow(li, err, extra) {
  const box = li.querySelector(".recent-error");
  box.replaceChildren(document.createTextNode(err.message), ...(extra ? [" ", extra] : []));
  box.hidden = false;
}

async function reopen(entry, li) {
  clearError();
  li.querySelector(".recent-error").hidden = true;
  const { token, signal } = supersede();
  shownId = entry.id;
  highlightRecent();
  setStatus("Fetching the operation…", "fetching");
  els.grid.setAttribute("aria-busy", "true");
  try {
    const { response, data } = await api(onThisOrigin(entry.location), { signal });
    if (token !== run) return;
    updateHistory(entry.id, { status: data.status, expires: data.expires });
    if (TERMINAL.has(data.status)) {
      renderOperation(data, entry);
    } else {
      showSkeleton(entry.n || 1, entry.size);
      renderOperation(data, entry);
      await poll(entry, retryAfterSeconds(response), token, signal);
    }
  } catch (err) {
    if (err.name === "AbortError" || token !== run) return;
    setStatus("Could not reopen the operation.", "error");
    setStep(null);
    clearGrid();
    showError(err);
    itemErrorShow(li, err, err.status === 404 ? forgetButton(entry) : null);
  } finally {
    if (token === run) els.grid.setAttribute("aria-busy", "false");
  }
}

function forgetButton(entry) {
  return h("button", {
    type: "button",
    class: "link",
    text: "Remove from list",
    onclick: () => {
      removeHistory(entry.id);
      renderRecent();
    },
  });
}

async function remove(entry, li) {
  const button = li.querySelector('[data-action="delete"]');
  button.disabled = true;
  li.querySelector(".recent-error").hidden = true;
  try {
    await api(onThisOrigin(entry.location), { method: "DELETE" });
    removeHistory(entry.id);
    if (shownId === entry.id) {
      supersede();
      shownId = null;
      clearGrid();
      clearError();
      setStep(null);
      setStatus("Operation deleted, with its images.", "deleted");
    }
    const next = li.nextElementSibling || li.previousElementSibling;
    renderRecent();
    // keep keyboard focus in the list rather than dropping it on <body>
    const target = next && els.recent.querySelector(`[data-id="${CSS.escape(next.dataset.id)}"] [data-action="delete"]`);
    (target || els.prompt).focus();
  } catch (err) {
    button.disabled = false;
    itemErrorShow(li, err, err.status === 404 ? forgetButton(entry) : null);
  }
}

els.recent.addEventListener("click", (event) => {
  const button = event.target.closest("button[data-action]");
  if (!button) return;
  const li = button.closest(".recent-item");
  const entry = loadHistory().find((e) => e.id === li.dataset.id);
  if (!entry) {
    renderRecent();
    return;
  }
  if (button.dataset.action === "open") reopen(entry, li);
  else if (button.dataset.action === "delete") remove(entry, li);
});

// -- API key --------------------------------------------------------------------------------------

function renderKey(note = "") {
  const key = loadKey();
  els.keyInput.value = key;
  els.keySummary.textContent = key ? "API key · saved" : "API key";
  els.keyDot.classList.toggle("on", !!key);
  els.keyNote.textContent = note;
}

els.keyForm.addEventListener("submit", (event) => {
  event.preventDefault();
  const key = els.keyInput.value.trim();
  writeStore(STORE_KEY, key || null);
  renderKey(key ? "Saved in this browser. It is sent as the api-key header." : "No key saved.");
  if (key) clearError();
});

// the key popover closes like a menu: Escape, or a click elsewhere
els.keyPanel.addEventListener("keydown", (event) => {
  if (event.key === "Escape" && els.keyPanel.open) {
    els.keyPanel.open = false;
    els.keyPanel.querySelector("summary").focus();
  }
});
document.addEventListener("click", (event) => {
  if (els.keyPanel.open && !els.keyPanel.contains(event.target) && !event.target.closest("#error")) {
    els.keyPanel.open = false;
  }
});

els.keyForget.addEventListener("click", () => {
  writeStore(STORE_KEY, null);
  renderKey("Forgotten. Requests now go without a key.");
});

// -- ticking clocks: link countdowns and "5 minutes ago" --------------------------------------

function tick() {
  const now = Date.now() / 1000;
  document.querySelectorAll("[data-expires]").forEach((node) => {
    const left = formatLeft(Number(node.dataset.expires) - now);
    const text = left ? `expires in ${left}` : "link expired";
    if (node.textContent !== text) node.textContent = text;
    node.closest(".card")?.classList.toggle("expired", !left);
  });
}

function tickSlow() {
  document.querySelectorAll("[data-created]").forEach((node) => {
    node.textContent = ago(Number(node.dataset.created));
  });
}

// -- wiring -----------------------------------------------------------------------------------

els.form.addEventListener("submit", (event) => {
  event.preventDefault();
  generate();
});

els.prompt.addEventListener("keydown", (event) => {
  if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
    event.preventDefault();
    els.form.requestSubmit();
  }
});

els.prompt.addEventListener("input", () => {
  els.prompt.closest(".field").classList.remove("server-invalid");
  updateCounter();
});

els.deployment.addEventListener("change", () => {
  applyDeployment();
  rememberForm();
});
els.size.addEventListener("change", rememberForm);
els.modeGroup.addEventListener("change", applyMode);
els.editImage.addEventListener("change", showThumbs);
els.editMask.addEventListener("change", showThumbs);
els.nGroup.addEventListener("change", rememberForm);
els.user.addEventListener("change", rememberForm);
els.form.addEventListener("input", (event) => {
  event.target.closest?.(".field")?.classList.remove("server-invalid");
});

renderKey();
renderRecent();
updateCounter();
setInterval(tick, 500);
setInterval(tickSlow, 30000);
loadDeployments();
