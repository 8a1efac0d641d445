// The ladder console's page script (scripts/local/console/server.ts serves it). It asks GET /console/state with the
// poll it drew last, which the launcher answers when the next poll ends (once a second), draws it, and asks again;
// the fault buttons POST /fault as JSON. No framework, no inline script (the page's content security policy forbids
// them); every text goes in as text.
"use strict";

/** The last event id drawn: the next request asks only for newer ones. */
let lastEventId = 0;
/** The last poll drawn (0: none yet), once the first answer is drawn: the next request waits for a newer one. */
let lastSeq = null;
/** The Mermaid source drawn last (a climb changes it). */
let drawnDiagram = null;
/** The fault actions drawn last, as JSON, so that the forms are rebuilt only when their targets change. */
let drawnFaults = "";
let mermaidLoading = null;

const $ = (id) => document.getElementById(id);

/** An element with text (never HTML) and optional attributes. */
function el(tag, text, attributes) {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) node.textContent = String(text);
  for (const [name, value] of Object.entries(attributes || {})) node.setAttribute(name, value);
  return node;
}

/** A number as the page shows it: a dash when there is none (no previous poll, no answer). */
function fmt(value, digits) {
  if (value === null || value === undefined) return "—";
  return Number(value).toLocaleString("en-US", { maximumFractionDigits: digits === undefined ? 1 : digits });
}

/** Replaces the rows of `table`'s body with one row per item. */
function rows(tableId, items, cells) {
  const body = $(tableId).querySelector("tbody");
  body.replaceChildren(
    ...items.map((item) => {
      const tr = el("tr");
      for (const cell of cells(item)) tr.append(cell instanceof Node ? cell : el("td", cell));
      return tr;
    }),
  );
  $(tableId).hidden = items.length === 0;
}

/** A definition list of figures. */
function figures(listId, pairs) {
  $(listId).replaceChildren(...pairs.flatMap(([term, value]) => [el("dt", term), el("dd", value)]));
}

/** Health in words and a symbol, so that it never depends on color alone. */
function healthCell(service) {
  const [label, css] =
    service.running === false
      ? ["✖ stopped", "down"]
      : service.healthy === true
        ? ["✔ healthy", "up"]
        : service.healthy === false
          ? ["✖ down", "down"]
          : ["? no answer yet", "unknown"];
  return el("td", label, { class: `health ${css}`, "data-service": service.name });
}

function drawServices(services) {
  rows("services", services, (s) => [
    el("th", s.name, { scope: "row" }),
    s.kind + (s.region ? ` (${s.region})` : ""),
    healthCell(s),
    s.pid === undefined ? "—" : s.pid,
    s.restarts === undefined ? "—" : s.restarts,
    el("td", s.url, { class: "where" }),
  ]);
}

function drawFigures(f) {
  if (!f) return;
  rows("web", f.web, (w) => [
    el("th", w.name, { scope: "row" }),
    w.region,
    w.answered ? fmt(w.requestsPerSecond) : "no answer",
    fmt(w.p50Ms),
    fmt(w.p99Ms),
    fmt(w.errorsPerSecond),
  ]);
  $("web").hidden = false;
  const cache = f.cache;
  figures("tiers", [
    [
      "cache hit ratio",
      cache === null
        ? "no cache at this step"
        : cache.hitRatio === null
          ? "no catalog reads"
          : `${fmt(cache.hitRatio * 100)} % (${cache.hits} hits, ${cache.misses} misses, ${cache.bypass} bypassed)`,
    ],
  ]);
  const reads = Object.entries(f.readsPerSecond).sort(([a], [b]) => a.localeCompare(b));
  figures("reads", reads.length ? reads.map(([target, n]) => [target, `${fmt(n)} /s`]) : [["—", "no reads yet"]]);
  rows("replicas", f.replicas, (r) => [
    el("th", r.name, { scope: "row" }),
    r.region,
    fmt(r.lagBytes, 0),
    fmt(r.lagSeconds, 2),
  ]);
  rows("queues", f.queues, (q) => [
    el("th", q.region, { scope: "row" }),
    fmt(q.depth, 0),
    fmt(q.inFlight, 0),
    fmt(q.deadLetters, 0),
  ]);
  rows("workers", f.workers, (w) => [
    el("th", w.name, { scope: "row" }),
    w.region,
    w.answered ? fmt(w.messagesPerSecond) : "no answer",
    fmt(w.meanLagSeconds, 2),
  ]);
  rows("orders", f.orders, (o) => [el("th", o.shard, { scope: "row" }), fmt(o.total, 0), fmt(o.perSecond, 2)]);
  const b = f.business;
  figures("business", [
    ["orders placed", `${fmt(b.ordersPerSecond, 2)} /s`],
    ["revenue", b.revenuePerSecond === null ? "—" : `$${fmt(b.revenuePerSecond, 2)} /s`],
    ["active shoppers (5 min)", fmt(b.activeShoppers, 0)],
    ["queue lag (mean)", b.meanQueueLagSeconds === null ? "—" : `${fmt(b.meanQueueLagSeconds, 2)} s`],
  ]);
  lastSeq = f.seq;
  document.body.dataset.seq = String(f.seq);
  document.body.dataset.at = f.at;
  $("refreshed").textContent = `last at ${new Date(f.at).toLocaleTimeString("en-GB")} (poll ${f.seq})`;
}

function drawEvents(events) {
  const list = $("events");
  for (const e of events) {
    const item = el("li", null, { "data-kind": e.kind });
    item.append(el("time", new Date(e.at).toLocaleTimeString("en-GB"), { datetime: e.at }), " ");
    item.append(el("span", e.kind, { class: `kind ${e.kind}` }), " ", el("span", e.text));
    list.prepend(item);
    lastEventId = Math.max(lastEventId, e.id);
  }
}

async function injectFault(kind, target, button) {
  const result = $("fault-result");
  button.disabled = true;
  result.textContent = `${kind}${target ? ` ${target}` : ""}: running…`;
  try {
    const response = await fetch("/fault", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(target ? { kind, target } : { kind }),
    });
    const body = await response.json();
    result.textContent = response.ok ? `${kind}: ${body.done}` : `${kind} refused: ${body.error}`;
    result.className = response.ok ? "" : "error";
  } catch (error) {
    result.textContent = `${kind}: the launcher did not answer (${error.message})`;
    result.className = "error";
  } finally {
    button.disabled = false;
  }
}

function drawFaults(faults) {
  const json = JSON.stringify(faults);
  if (json === drawnFaults) return;
  drawnFaults = json;
  $("faults").replaceChildren(
    ...faults.map((fault) => {
      const form = el("form", null, { class: "fault", "aria-label": fault.kind });
      const button = el("button", fault.kind, { type: "submit" });
      let select = null;
      if (fault.targets.length > 0) {
        const id = `target-${fault.kind}`;
        select = el("select", null, { id, name: "target" });
        select.append(
          el("option", "default", { value: "" }),
          ...fault.targets.map((t) => el("option", t, { value: t })),
        );
        form.append(el("label", `target of ${fault.kind}`, { for: id, class: "visually-hidden" }), select, " ");
      }
      form.append(button, " ", el("span", fault.description, { class: "muted" }));
      form.addEventListener("submit", (event) => {
        event.preventDefault();
        void injectFault(fault.kind, select && select.value ? select.value : undefined, button);
      });
      return form;
    }),
  );
}

/** Mermaid's bundle, loaded once, after the page's first paint (it is 3.5 MB of script). */
function loadMermaid() {
  mermaidLoading ??= new Promise((resolve, reject) => {
    const script = el("script", null, { src: "/console/mermaid.min.js" });
    script.addEventListener("load", () => {
      window.mermaid.initialize({ startOnLoad: false, securityLevel: "strict", theme: "neutral" });
      resolve(window.mermaid);
    });
    script.addEventListener("error", () => reject(new Error("mermaid.min.js did not load")));
    document.head.append(script);
  });
  return mermaidLoading;
}

async function drawDiagram(source) {
  if (source === drawnDiagram) return;
  drawnDiagram = source;
  const box = $("diagram");
  if (!source) {
    box.replaceChildren(el("p", "This step's doc has no diagram.", { class: "muted" }));
    return;
  }
  try {
    const mermaid = await loadMermaid();
    // Mermaid's strict security level sanitizes the SVG it returns (no script, no event handler).
    const { svg } = await mermaid.render(`diagram-svg-${Date.now()}`, source);
    box.innerHTML = svg;
  } catch (error) {
    box.replaceChildren(
      el("pre", source),
      el("p", `The diagram could not be drawn: ${error.message}`, { class: "error" }),
    );
  }
}

function draw(state) {
  $("step-title").textContent = `— step ${state.step}: ${state.name}${state.climbing ? " (climbing…)" : ""}`;
  $("step-adds").textContent = `Adds ${state.adds}.`;
  const link = $("entry-link");
  link.href = `${state.entryUrl}/`;
  link.textContent = state.entryUrl;
  drawServices(state.services);
  drawFigures(state.figures);
  drawFaults(state.faults);
  drawEvents(state.events);
  void drawDiagram(state.diagram);
}

async function poll() {
  let wait = 0;
  try {
    const seq = lastSeq === null ? "" : `&seq=${lastSeq}`;
    const response = await fetch(`/console/state?after=${lastEventId}${seq}`, { cache: "no-store" });
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    draw(await response.json());
    lastSeq ??= 0;
    document.body.classList.remove("disconnected");
  } catch (error) {
    document.body.classList.add("disconnected");
    $("refreshed").textContent = `the launcher does not answer (${error.message})`;
    wait = 1000;
  }
  setTimeout(poll, wait);
}

void poll();
