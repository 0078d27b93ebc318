// The Runs page: every saved run in a table (filter, sort, select), the selected runs' loss curves
// overlaid, boundary thumbnails, rename / tag / annotate, delete, export, and "Open" in the playground.
const $ = selector => document.querySelector(selector);
// One colour per run (plotly's default sequence), shared by its test (solid) and train (dashed) curves.
const COLOURS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
  "#bcbd22", "#17becf"];

const page = {
  runs: [],               // the listed runs, as /api/runs sends them
  selected: new Set(),    // ids of the ticked runs, in the order they were ticked
  histories: new Map(),   // "id@updated" -> promise of its history (fetched once)
};
window.runsPage = page;   // for tests and the curious

// ---- talking to the server ---------------------------------------------------------------------------

async function api(url, options = {}) {
  const response = await fetch(url, options);
  const body = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(body.error || `${response.status} ${response.statusText}`);
  return body;
}

function showError(message) {
  const banner = $("#error-banner");
  banner.textContent = message || "";
  banner.hidden = !message;
}

function query() {
  const params = new URLSearchParams();
  for (const [name, value] of new FormData($("#filters"))) if (value !== "") params.set(name, value);
  return params;
}

// The filters live in the page's address too, so a filtered list can be bookmarked, shared and reloaded.
function restoreFilters() {
  const form = $("#filters");
  for (const [name, value] of new URLSearchParams(location.search)) {
    if (form.elements[name]) form.elements[name].value = value;  // a select ignores a value it lacks
  }
}

async function refresh() {
  const params = query();
  history.replaceState(null, "", params.toString() ? `?${params}` : location.pathname);
  try {
    page.runs = (await api(`/api/runs?${params}`)).runs;
    showError(null);
  } catch (error) {
    showError(`Could not list the runs: ${error.message}`);
    return;
  }
  const listed = new Set(page.runs.map(run => run.id));
  for (const id of [...page.selected]) if (!listed.has(id)) page.selected.delete(id);
  renderTable();
  await renderOverlay();
}

// ---- the table ---------------------------------------------------------------------------------------

function element(tag, properties = {}, children = []) {
  const node = Object.assign(document.createElement(tag), properties);
  node.append(...children);
  return node;
}

function cell(text, className = "") {
  return element("td", { className, textContent: text ?? "–" });
}

function loss(value) { return value == null ? "–" : value.toFixed(3); }
function percent(value) { return value == null ? "–" : `${(100 * value).toFixed(1)}%`; }

function runTitle(run) { return run.name || `run ${run.id}`; }

function inputs(config) {
  const names = { x: "x1", y: "x2", xSquared: "x1²", ySquared: "x2²", xTimesY: "x1x2", sinX: "sin(x1)",
    sinY: "sin(x2)", cosX: "cos(x1)", cosY: "cos(x2)" };
  return Object.keys(names).filter(key => config[key]).map(key => names[key]).join(", ");
}

function runRow(run) {
  const row = element("tr", { className: page.selected.has(run.id) ? "selected" : "" });
  row.dataset.id = run.id;
  row.dataset.testid = "run-row";
  const tick = element("input", { type: "checkbox", checked: page.selected.has(run.id) });
  tick.setAttribute("aria-label", `Select ${runTitle(run)}`);
  tick.addEventListener("change", () => toggle(run.id, tick.checked));
  row.append(element("td", {}, [tick]));
  if (run.error) {  // a corrupted row: say so, and still let it be deleted
    row.className = "broken";
    row.append(cell(""), element("td", { className: "text", colSpan: 14, textContent: `run ${run.id}: ${run.error}` }),
      cell(new Date(run.created * 1000).toLocaleString(), "text"), actions(run, false));
    return row;
  }
  const config = run.config;
  const thumb = element("img", { className: "thumb", src: run.boundary, alt: `decision boundary of ${runTitle(run)}`,
    loading: "lazy", width: 50, height: 50 });
  const name = element("td", { className: "text name" }, [element("b", { textContent: runTitle(run) })]);
  name.dataset.testid = "run-name";
  for (const tag of run.tags) name.append(element("span", { className: "tag", textContent: tag }));
  if (run.notes) name.append(element("div", { className: "notes-text", textContent: run.notes }));
  const regularization = config.regularization ? `${config.regularization} ${config.regularizationRate}` : "none";
  row.append(
    element("td", {}, [thumb]), name, cell(run.dataset, "text"),
    cell(config.networkShape.length ? config.networkShape.join("-") : "none", "text"), cell(config.activation, "text"),
    cell(config.learningRate), cell(regularization, "text"), cell(config.batchSize), cell(inputs(config), "text"),
    cell(run.diverged ? `${run.epochs} (diverged)` : run.epochs), cell(loss(run.train_loss)), cell(loss(run.test_loss)),
    cell(percent(run.train_accuracy)), cell(percent(run.test_accuracy)),
    cell(new Date(run.created * 1000).toLocaleString(), "text"), actions(run, true));
  return row;
}

function actions(run, usable) {
  const td = element("td", { className: "text actions" });
  if (usable) {
    td.append(element("a", { href: run.playground, textContent: "Open", title: "Continue this run in the playground" }));
    const edit = element("button", { type: "button", textContent: "Edit" });
    edit.addEventListener("click", () => openEditor(run, edit.closest("tr")));
    td.append(edit);
  }
  const remove = element("button", { type: "button", className: "danger", textContent: "Delete" });
  remove.addEventListener("click", () => deleteRuns([run.id]));
  td.append(remove);
  return td;
}

function renderTable() {
  const body = $("#runs-body");
  body.replaceChildren(...page.runs.map(runRow));
  $("#empty").hidden = page.runs.length > 0;
  $("#select-all").checked = page.runs.length > 0 && page.runs.every(run => page.selected.has(run.id));
  renderSelection();
}

function renderSelection() {
  const count = page.selected.size;
  $("#selection-count").textContent = `${count} selected`;
  $("#export-selected").disabled = $("#delete-selected").disabled = count === 0;
  for (const row of document.querySelectorAll("#runs-body tr[data-id]")) {
    row.classList.toggle("selected", page.selected.has(Number(row.dataset.id)));
  }
}

function toggle(id, on) {
  if (on) page.selected.add(id); else page.selected.delete(id);
  renderSelection();
  renderOverlay();
}

// ---- rename, tag, annotate ---------------------------------------------------------------------------

function openEditor(run, row) {
  if (row.nextElementSibling?.classList.contains("edit-row")) return;
  const editor = $("#edit-template").content.firstElementChild.cloneNode(true);
  const form = editor.querySelector("form");
  form.name.value = run.name || "";
  form.tags.value = run.tags.join(", ");
  form.notes.value = run.notes;
  form.querySelector(".cancel").addEventListener("click", () => editor.remove());
  form.addEventListener("submit", async event => {
    event.preventDefault();
    const tags = form.tags.value.split(",").map(tag => tag.trim()).filter(Boolean);
    try {
      await api(`/api/runs/${run.id}`, { method: "PATCH", headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ name: form.name.value.trim(), tags, notes: form.notes.value }) });
    } catch (error) {
      form.querySelector(".edit-error").textContent = error.message;
      return;
    }
    editor.remove();
    await refresh();
  });
  row.after(editor);
  form.name.focus();
}

// ---- delete and export -------------------------------------------------------------------------------

async function deleteRuns(ids) {
  const titles = ids.map(id => runTitle(page.runs.find(run => run.id === id) || { id }));
  const what = ids.length === 1 ? `"${titles[0]}"` : `these ${ids.length} runs (${titles.join(", ")})`;
  if (!confirm(`Delete ${what}? This cannot be undone.`)) return;
  try {
    await api(ids.length === 1 ? `/api/runs/${ids[0]}` : `/api/runs?ids=${ids.join(",")}`, { method: "DELETE" });
  } catch (error) {
    showError(`Could not delete: ${error.message}`);
  }
  await refresh();
}

function exportSelected() {
  const format = $("#export-format").value;
  // A plain link: the server's Content-Disposition names the file and the browser downloads it.
  const link = element("a", { href: `/api/runs/export?ids=${[...page.selected].join(",")}&format=${format}` });
  document.body.append(link);
  link.click();
  link.remove();
}

// ---- the overlay plot --------------------------------------------------------------------------------

function runHistory(run) {
  const key = `${run.id}@${run.updated}`;  // a run continued in the playground has a newer history
  if (!page.histories.has(key)) page.histories.set(key, api(`/api/runs/${run.id}/history`).then(body => body.history));
  return page.histories.get(key);
}

let overlayVersion = 0;

async function renderOverlay() {
  const version = ++overlayVersion;  // ticks come faster than histories: only the newest selection is drawn
  const runs = page.runs.filter(run => page.selected.has(run.id) && !run.error);
  $("#overlay-hint").hidden = runs.length > 0;
  let histories;
  try {
    histories = await Promise.all(runs.map(runHistory));
  } catch (error) {
    showError(`Could not load a run's history: ${error.message}`);
    return;
  }
  if (version !== overlayVersion) return;
  const traces = [];
  runs.forEach((run, index) => {
    const colour = COLOURS[index % COLOURS.length];
    const h = histories[index];
    traces.push({ x: h.epoch, y: h.test_loss, name: `${runTitle(run)} test`, legendgroup: run.id, mode: "lines",
      line: { color: colour } });
    traces.push({ x: h.epoch, y: h.train_loss, name: `${runTitle(run)} train`, legendgroup: run.id, mode: "lines",
      line: { color: colour, dash: "dash" } });
  });
  Plotly.react("overlay", traces, {
    margin: { l: 50, r: 20, t: 10, b: 40 }, xaxis: { title: { text: "epoch" } }, yaxis: { title: { text: "loss" } },
    showlegend: true,
  }, { displaylogo: false, responsive: true });
}

// ---- wiring ------------------------------------------------------------------------------------------

let typing = null;
$("#filters").addEventListener("input", () => { clearTimeout(typing); typing = setTimeout(refresh, 250); });
$("#filters").addEventListener("submit", event => { event.preventDefault(); refresh(); });
$("#select-all").addEventListener("change", event => {
  for (const run of page.runs) if (event.target.checked) page.selected.add(run.id); else page.selected.delete(run.id);
  renderTable();
  renderOverlay();
});
$("#delete-selected").addEventListener("click", () => deleteRuns([...page.selected]));
$("#export-selected").addEventListener("click", exportSelected);
restoreFilters();
page.ready = refresh();
