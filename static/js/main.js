// Backprop Playground's page: one WebSocket to this tab's session; controls send commands, frames redraw.
import { decodeFrame } from "./protocol.js";
import { paintMap, paintClasses, paintValues, drawPoints, labelColor, featureMap } from "./heatmap.js";
import { NetworkDiagram } from "./network.js";
import { LossChart } from "./chart.js";
import { download, historyCsv, historyJson, downloadCanvas } from "./exports.js";

const $ = selector => document.querySelector(selector);
const DENSITY = 100;
const MAX_LAYERS = 6, MAX_NEURONS = 8;  // the original's buttons' limits; a URL may go beyond them

const page = {
  socket: null,
  nextId: 1,
  config: null,        // the session's config, as last sent
  url: "",             // its URL hash text
  frame: null,         // the newest frame {header, arrays}
  points: null,        // {train, test} Float32Arrays of x, y, label
  focusFeature: null,  // an input feature shown full size (the page draws those itself)
  waitingFor: null,    // id of the initial "load": until a frame acknowledges it, the hash is not rewritten
  replies: new Map(),  // id -> resolve, for commands whose reply we wait for
  stats: { frames: 0, drawMs: [] },  // frames drawn, and the time to draw each of the last 300
  // The connection: lost (reconnecting), how many tries so far, why the server closed it (busy, idle).
  link: { lost: false, tries: 0, busy: false, idle: null, saveWarning: null },
};

// ---- talking to the session --------------------------------------------------------------------------

function send(command) {
  const id = page.nextId++;
  if (page.socket && page.socket.readyState === WebSocket.OPEN) page.socket.send(JSON.stringify({ ...command, id }));
  return id;
}

function request(command) {
  return new Promise(resolve => page.replies.set(send(command), resolve));
}

function setField(field, value) {
  send({ cmd: "set", field, value });
}

function connect() {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  const socket = new WebSocket(`${scheme}://${location.host}/ws`);
  socket.binaryType = "arraybuffer";
  page.socket = socket;
  socket.addEventListener("open", () => {
    showError(null);
    const query = new URLSearchParams(location.search);
    const saved = query.get("run");  // /?run=<id>#<settings>: the Runs page's "Open" continues a saved run
    if (saved !== null && /^[0-9]+$/.test(saved)) {
      query.delete("run");  // once: a reload keeps the settings in the hash, not the old run
      const rest = query.toString();
      history.replaceState(null, "", `${location.pathname}${rest ? `?${rest}` : ""}${location.hash}`);
      page.waitingFor = send({ cmd: "load_run", run: Number(saved) });
    } else if (location.hash.length > 1) page.waitingFor = send({ cmd: "load", url: location.hash });
  });
  socket.addEventListener("message", event => {
    if (typeof event.data === "string") onReply(JSON.parse(event.data));
    else {
      if (page.link.lost) {
        // Sessions live in their connection, so whatever happened, this one is new; the URL brought the setup back.
        page.link.lost = false;
        page.link.tries = 0;
        showConnection("Reconnected. The server restarted or the connection dropped, so this is a new session: " +
                       "the same settings, training from epoch 0. Runs saved before are on the Runs page.");
      }
      const began = performance.now();
      onFrame(decodeFrame(event.data));
      const drawMs = performance.now() - began;
      page.stats.frames += 1;
      page.stats.drawMs.push(drawMs);
      if (page.stats.drawMs.length > 300) page.stats.drawMs.shift();
      // Flow control: ask for the next frame once this one is on screen, so frames never pile up here.
      requestAnimationFrame(() => socket.readyState === WebSocket.OPEN && socket.send('{"cmd":"drawn"}'));
    }
  });
  socket.addEventListener("close", () => {
    setText("#run-state", "disconnected");
    if (page.link.idle) { showConnection(page.link.idle); return; }  // closed for idleness: the user reloads
    // Reconnect by itself, backing off 1, 2, 4, 8, then every 10 s: a restarted server or a laptop waking up.
    const delay = Math.min(10, 2 ** page.link.tries);
    page.link.tries += 1;
    page.link.lost = true;
    showConnection(`${page.link.busy ? "The server is busy" : "Lost the connection to the server"}; ` +
                   `reconnecting in ${delay} s…`);
    page.link.busy = false;
    setTimeout(connect, delay * 1000);
  });
}

function showConnection(message) {
  const line = $("#connection");
  line.textContent = message || "";
  line.hidden = !message;
}

function onReply(reply) {
  if (reply.type === "closed") { page.link.idle = reply.error; return; }
  if (reply.type === "error" && reply.error.startsWith("server busy")) { page.link.busy = true; return; }
  if (reply.id === page.waitingFor) {
    page.waitingFor = null;
    // The saved run is gone (or unreadable): the error says so, and its settings still come from the hash.
    if (reply.cmd === "load_run" && location.hash.length > 1) page.waitingFor = send({ cmd: "load", url: location.hash });
  }
  const resolve = page.replies.get(reply.id);
  if (resolve) { page.replies.delete(reply.id); resolve(reply); }
  if (reply.type === "error") {
    showError(reply.error);
    if (page.config) applyConfig(page.config, page.url);  // put back the controls the session refused
  }
}

function showError(message) {
  const banner = $("#error-banner");
  banner.textContent = message || "";
  banner.hidden = !message;
}

// ---- drawing a frame ------------------------------------------------------------------------------------

function onFrame(frame) {
  const { header, arrays } = frame;
  page.frame = frame;
  if (page.waitingFor !== null && header.ack !== null && header.ack >= page.waitingFor) page.waitingFor = null;
  if (header.config) applyConfig(header.config, header.url);
  if ((header.warning || null) !== page.link.saveWarning) {  // the run log refused a save: training goes on
    page.link.saveWarning = header.warning || null;
    $("#save-warning").textContent = header.warning ? `Warning: ${header.warning}. Training goes on.` : "";
    $("#save-warning").hidden = !header.warning;
  }
  if (arrays.train) page.points = { train: arrays.train, test: arrays.test };
  if (page.waitingFor === null) writeHash();

  setText("#iter-number", formatEpoch(header.epoch));
  setText("#loss-train", formatLoss(header.train_loss));
  setText("#loss-test", formatLoss(header.test_loss));
  setText("#accuracy-train", formatAccuracy(header.train_accuracy));
  setText("#accuracy-test", formatAccuracy(header.test_accuracy));
  const state = header.state === "diverged" ? `diverged at epoch ${header.diverged_epoch}` : header.state;
  setText("#run-state", state);
  $("#run-state").classList.toggle("diverged", header.state === "diverged");
  const play = $("#play-pause-button");
  play.classList.toggle("playing", header.state === "playing");
  play.setAttribute("aria-pressed", String(header.state === "playing"));

  const discretize = Boolean(page.config && page.config.discretize);
  diagram.build(header.layer_sizes, header.input_names, page.config ? page.config.hide : [], discretize,
                page.config ? layerActivations(page.config) : []);
  diagram.update(arrays, arrays.thumbnails, discretize);
  chart.extend(header.uid, header.history);
  drawBoundary();
}

function drawBoundary() {
  if (!page.frame) return;
  const { header, arrays } = page.frame;
  const discretize = Boolean(page.config && page.config.discretize);
  const block = header.blocks.find(b => b.name === "boundary");
  if (page.focusFeature) {
    paintValues(grid, featureMap(page.focusFeature, DENSITY), DENSITY, discretize);
  } else if (block.shape.length === 3) {
    paintClasses(grid, arrays.boundary, block.shape[0], DENSITY, discretize);
  } else {
    paintMap(grid, arrays.boundary, DENSITY, discretize);
  }
  const canvas = $("#boundary"), context = canvas.getContext("2d");
  context.clearRect(0, 0, canvas.width, canvas.height);
  context.drawImage(grid, 0, 0, canvas.width, canvas.height);
  if (page.points) {
    const classes = page.config ? page.config.classes : 2;
    drawPoints(context, page.points.train, canvas.width, classes, "white");
    if (page.config && page.config.showTestData) drawPoints(context, page.points.test, canvas.width, classes, "black");
  }
}

const setText = (selector, text) => { const e = $(selector); if (e.textContent !== text) e.textContent = text; };
const formatEpoch = n => String(n).padStart(6, "0").replace(/\B(?=(\d{3})+(?!\d))/g, ",");
const formatLoss = v => (v === null ? "NaN" : v.toFixed(3));
const formatAccuracy = v => (v === null ? "–" : `${(100 * v).toFixed(1)}%`);

// ---- keeping the controls and the URL in step with the session's config ----------------------------------

function applyConfig(config, url) {
  page.config = config;
  page.url = url;
  for (const element of document.querySelectorAll("[data-field]")) {
    const value = config[element.dataset.field];
    if (element.type === "checkbox") element.checked = Boolean(value);
    else element.value = value === null ? "none" : String(value);
    const shown = element.closest("div, label")?.querySelector(".value");
    if (shown && element.type === "range") shown.textContent = String(value);
  }
  const regression = config.problem === "regression";
  const custom = (regression ? config.regDataset : config.dataset) === "custom";
  document.querySelectorAll(".dataset").forEach(button => {
    const kind = button.classList.contains("custom") ? "custom" : button.classList.contains("regression") ? "regression" : "classification";
    button.hidden = kind === "custom" ? !custom : (kind === "regression") !== regression;
    const name = button.dataset.dataset || button.dataset.regDataset;
    button.classList.toggle("selected", kind === "custom" ? custom : name === (regression ? config.regDataset : config.dataset));
  });
  $("#momentum").disabled = config.optimizer !== "sgd";
  setText("#num-layers", String(config.networkShape.length));
  setText("#layers-label", config.networkShape.length === 1 ? "Hidden layer" : "Hidden layers");
  // The classroom's <control>_hide options: hide those controls, tick the boxes to match.
  const hidden = new Set(config.hide);
  document.querySelectorAll("[class*='ui-']").forEach(element => {
    const names = [...element.classList].filter(c => c.startsWith("ui-")).map(c => c.slice(3));
    element.classList.toggle("hidden-by-url", names.some(name => hidden.has(name)) ||
      (names.includes("hideText") && config.hideText));
  });
  document.querySelectorAll("[data-hide]").forEach(box => { box.checked = !hidden.has(box.dataset.hide); });
  if (page.thumbnailProblem !== config.problem) drawDatasetThumbnails(config.problem);
}

function writeHash() {
  if (page.url && location.hash.slice(1) !== page.url) {
    history.replaceState(null, "", `#${page.url}`);
    $("#hide-controls-link").href = location.href;
  }
}

// ---- the dataset thumbnails (points from the server's generators, drawn as the original does) ------------

async function drawDatasetThumbnails(problem) {
  page.thumbnailProblem = problem;
  const response = await fetch(`/api/datasets/${problem}`);
  const datasets = await response.json();
  for (const [name, points] of Object.entries(datasets)) {
    const attribute = problem === "classification" ? "data-dataset" : "data-reg-dataset";
    const canvas = document.querySelector(`[${attribute}="${name}"] canvas`);
    const context = canvas.getContext("2d");
    context.clearRect(0, 0, 100, 100);
    for (const [x, y, label] of points) {
      context.fillStyle = labelColor(label, 2);
      context.fillRect((100 * (x + 6)) / 12, (100 * (6 - y)) / 12, 4, 4);
    }
  }
}

// ---- controls ----------------------------------------------------------------------------------------------

function parseControl(element) {
  if (element.type === "checkbox") return element.checked;
  if (element.dataset.type === "number") return Number(element.value);
  if (element.dataset.type === "nullable") return element.value === "none" ? null : element.value;
  return element.value;
}

function wireControls() {
  $("#play-pause-button").addEventListener("click", () => {
    send({ cmd: page.frame && page.frame.header.state === "playing" ? "pause" : "play" });
  });
  $("#next-step-button").addEventListener("click", () => send({ cmd: "step" }));
  $("#reset-button").addEventListener("click", () => send({ cmd: "reset" }));
  $("#data-regen-button").addEventListener("click", () => send({ cmd: "regenerate" }));
  $("#speed").addEventListener("change", event => {
    const value = event.target.value;
    send({ cmd: "speed", value: value === "max" ? "max" : Number(value) });
  });
  // Momentum is for SGD only: moving to Adam first sets it back to 0, so the change is never refused.
  $("#optimizer").addEventListener("change", event => {
    if (event.target.value !== "sgd" && page.config.momentum !== 0) setField("momentum", 0);
  });
  for (const element of document.querySelectorAll("[data-field]")) {
    element.addEventListener("change", () => setField(element.dataset.field, parseControl(element)));
    if (element.type === "range") {
      element.addEventListener("input", () => {
        element.closest("div").querySelector(".value").textContent = element.value;
      });
    }
  }
  document.querySelectorAll(".dataset[data-dataset]").forEach(button =>
    button.addEventListener("click", () => setField("dataset", button.dataset.dataset)));
  document.querySelectorAll(".dataset[data-reg-dataset]").forEach(button =>
    button.addEventListener("click", () => setField("regDataset", button.dataset.regDataset)));

  $("#add-layers").addEventListener("click", () => {
    const shape = page.config.networkShape;
    if (shape.length < MAX_LAYERS) setField("networkShape", [...shape, 2]);
  });
  $("#remove-layers").addEventListener("click", () => {
    const shape = page.config.networkShape;
    if (shape.length > 0) setField("networkShape", shape.slice(0, -1));
  });

  $("#csv-file").addEventListener("change", async event => {
    const file = event.target.files[0];
    if (file) send({ cmd: "data", csv: await file.text() });
    event.target.value = "";
  });
  $("#link-form").addEventListener("submit", event => {
    event.preventDefault();
    const text = $("#playground-link").value.trim();
    if (text) send({ cmd: "load", url: text });
  });
  window.addEventListener("hashchange", () => {
    if (location.hash.slice(1) !== page.url) send({ cmd: "load", url: location.hash });
  });
  $("#classroom").addEventListener("toggle", buildClassroomOptions);

  $("#export-csv").addEventListener("click", async () => {
    const history = await request({ cmd: "history" });
    download("playground-history.csv", new Blob([historyCsv(history)], { type: "text/csv" }));
  });
  $("#export-json").addEventListener("click", async () => {
    const history = await request({ cmd: "history" });
    download("playground-history.json", new Blob([historyJson(history, page.config, page.url)], { type: "application/json" }));
  });
  $("#export-chart-png").addEventListener("click", () => chart.download("png"));
  $("#export-chart-svg").addEventListener("click", () => chart.download("svg"));
  $("#export-boundary-png").addEventListener("click", () => downloadCanvas($("#boundary"), "boundary.png"));
}

// ---- the classroom: the original's <control>_hide options -------------------------------------------------

const HIDABLE_CONTROLS = [
  ["Show test data", "showTestData"], ["Discretize output", "discretize"], ["Play button", "playButton"],
  ["Step button", "stepButton"], ["Reset button", "resetButton"], ["Learning rate", "learningRate"],
  ["Activation", "activation"], ["Regularization", "regularization"], ["Regularization rate", "regularizationRate"],
  ["Problem type", "problem"], ["Which dataset", "dataset"], ["Ratio train data", "percTrainData"],
  ["Noise level", "noise"], ["Batch size", "batchSize"], ["# of hidden layers", "numHiddenLayers"],
];

function buildClassroomOptions() {
  const container = $("#hide-controls");
  if (container.children.length || !$("#classroom").open) return;
  for (const [label, name] of HIDABLE_CONTROLS) {
    const option = document.createElement("label");
    option.innerHTML = `<input type="checkbox" data-hide="${name}"> ${label}`;
    const box = option.querySelector("input");
    box.checked = !(page.config && page.config.hide.includes(name));
    box.addEventListener("change", () => {
      const hidden = new Set(page.config.hide);
      if (box.checked) hidden.delete(name); else hidden.add(name);
      setField("hide", [...hidden]);
    });
    container.appendChild(option);
  }
}

// ---- start ---------------------------------------------------------------------------------------------------

// Each hidden layer's activation: layerActivations (ours) when set, else the one Activation for all.
const layerActivations = config =>
  (config.layerActivations.length ? config.layerActivations : config.networkShape.map(() => config.activation));

const grid = document.createElement("canvas");  // the 100x100 map, scaled onto the boundary canvas
grid.width = grid.height = DENSITY;
const chart = new LossChart($("#linechart"));
const diagram = new NetworkDiagram($("#network"), {
  toggleInput: name => setField(name, !page.config[name]),
  focusFeature: name => { page.focusFeature = name; drawBoundary(); },
  focusNeuron: (layer, node) => send(layer === null ? { cmd: "focus", layer: null } : { cmd: "focus", layer, node }),
  changeNeurons: (index, delta) => {
    const shape = [...page.config.networkShape];
    const count = shape[index] + delta;
    if (count >= 1 && count <= Math.max(MAX_NEURONS, shape[index])) { shape[index] = count; setField("networkShape", shape); }
  },
  setLayerActivation: (index, name) => {
    const names = [...layerActivations(page.config)];
    names[index] = name;
    setField("layerActivations", names);
  },
  setValue: (target, value) => send(target.kind === "bias"
    ? { cmd: "set_bias", layer: target.layer, node: target.node, value }
    : { cmd: "set_weight", layer: target.layer, source: target.source, dest: target.dest, value }),
}, [...$("#activations").options].map(option => [option.value, option.text]));
wireControls();
connect();
// For tests and the curious: the newest frame, config, URL, draw statistics and the loss history drawn.
Object.defineProperty(page, "history", {
  get: () => ({ uid: chart.uid, epoch: chart.epochs, train_loss: chart.train, test_loss: chart.test }),
});
window.playground = page;
