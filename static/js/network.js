// The network diagram: input features, hidden neurons with thumbnails, links coloured and sized by weight,
// bias squares; hover shows a value, click edits it. SVG for links, small canvases for the thumbnails.
import { cssOf } from "./colors.js";
import { paintMap, paintValues, featureMap } from "./heatmap.js";

const SVG = "http://www.w3.org/2000/svg";
const RECT = 30, BIAS = 5, ROW = RECT + 25, TOP = 34, THUMB = 10;
export const FEATURES = [
  ["x", "X<sub>1</sub>"], ["y", "X<sub>2</sub>"], ["xSquared", "X<sub>1</sub><sup>2</sup>"],
  ["ySquared", "X<sub>2</sub><sup>2</sup>"], ["xTimesY", "X<sub>1</sub>X<sub>2</sub>"],
  ["sinX", "sin(X<sub>1</sub>)"], ["sinY", "sin(X<sub>2</sub>)"],
];

function svgElement(name, attributes, parent) {
  const element = document.createElementNS(SVG, name);
  for (const [key, value] of Object.entries(attributes)) element.setAttribute(key, value);
  parent.appendChild(element);
  return element;
}

// Width of a link: |w| mapped from [0, 5] to [1, 10] pixels, clamped, as in the original.
const linkWidth = w => (Number.isFinite(w) ? 1 + (Math.min(Math.abs(w), 5) / 5) * 9 : 1);

export class NetworkDiagram {
  // activations: [value, label] of every activation a hidden layer may have.
  constructor(container, callbacks, activations) {
    this.container = container;
    this.activations = activations;
    this.svg = container.querySelector("svg");
    this.card = container.querySelector("#hovercard");
    this.cardInput = this.card.querySelector("input");
    this.callbacks = callbacks;
    this.structure = null;
    this.weights = [];
    this.biases = [];
    this.editing = null;
    this.cardInput.addEventListener("keydown", event => {
      if (event.key === "Enter") this.commitEdit();
      if (event.key === "Escape") this.closeCard();
    });
    this.cardInput.addEventListener("blur", () => this.closeCard());
  }

  // Rebuild the diagram when the network's shape, its inputs, its layers' activations or the hidden features
  // change. layerActivations: one name per hidden layer.
  build(layerSizes, inputNames, hiddenControls, discretize, layerActivations) {
    const key = JSON.stringify([layerSizes, inputNames, hiddenControls, discretize, layerActivations]);
    if (key === this.structure) return false;
    this.structure = key;
    this.layerSizes = layerSizes;
    this.closeCard();
    this.svg.replaceChildren();
    this.container.querySelectorAll(".thumb, .feature-label, .neurons-control, .layer-activation")
      .forEach(e => e.remove());

    const width = Math.max(480, this.container.clientWidth || 560);
    const hidden = layerSizes.length - 2;
    const features = FEATURES.filter(([name]) => !hiddenControls.includes(name));
    this.coords = [];  // coords[layer][node] = {cx, cy}
    // Inputs: every feature is shown; the enabled ones feed the network, in the network's order.
    const inputX = 90 + RECT / 2;
    this.coords[0] = inputNames.map(name => ({ cx: inputX, cy: TOP + features.findIndex(f => f[0] === name) * ROW + RECT / 2 }));
    features.forEach(([name, label], row) => {
      const cy = TOP + row * ROW + RECT / 2;
      const active = inputNames.includes(name);
      const thumb = this.addThumb(inputX, cy, `input ${active ? "active" : "inactive"}`, `Feature ${name}`);
      paintValues(thumb, featureMap(name, THUMB, 10), THUMB, discretize);
      thumb.addEventListener("click", () => this.callbacks.toggleInput(name));
      thumb.addEventListener("mouseenter", () => this.callbacks.focusFeature(name));
      thumb.addEventListener("mouseleave", () => this.callbacks.focusFeature(null));
      const text = document.createElement("div");
      text.className = "feature-label";
      text.innerHTML = label;
      text.style.left = `${inputX - RECT / 2 - 70}px`;
      text.style.top = `${cy - 8}px`;
      this.container.appendChild(text);
    });
    let maxRows = features.length;
    const outputX = width - RECT / 2 - 10;
    const span = outputX - inputX;
    this.thumbs = [];
    for (let layer = 1; layer < layerSizes.length; layer++) {
      const isOutput = layer === layerSizes.length - 1;
      const cx = isOutput ? outputX : inputX + (span * layer) / (hidden + 1);
      this.coords[layer] = [];
      this.thumbs[layer] = [];
      for (let node = 0; node < layerSizes[layer]; node++) {
        const cy = TOP + node * ROW + RECT / 2;
        this.coords[layer].push({ cx, cy });
        const name = isOutput ? `Output ${node + 1}` : `Neuron ${node + 1} of layer ${layer}`;
        const thumb = this.addThumb(cx, cy, isOutput ? "output" : "hidden", name);
        thumb.addEventListener("mouseenter", () => this.callbacks.focusNeuron(layer, node));
        thumb.addEventListener("mouseleave", () => this.callbacks.focusNeuron(null));
        this.thumbs[layer].push(thumb);
      }
      maxRows = Math.max(maxRows, layerSizes[layer]);
      if (!isOutput) {
        this.addNeuronsControl(cx, layer, layerSizes[layer]);
        if (!hiddenControls.includes("activation")) {  // a classroom link may hide the activation
          this.addActivationControl(cx, layer, layerSizes[layer], layerActivations[layer - 1]);
        }
      }
    }
    const height = TOP + maxRows * ROW;
    this.svg.setAttribute("width", width);
    this.svg.setAttribute("height", height);
    this.container.style.height = `${height}px`;

    // Links under the nodes, then bias squares.
    const links = svgElement("g", {}, this.svg);
    this.links = [];
    for (let layer = 1; layer < layerSizes.length; layer++) {
      this.links[layer - 1] = [];
      const sources = this.coords[layer - 1], count = sources.length;
      this.coords[layer].forEach((dest, j) => {
        sources.forEach((source, i) => {
          const x0 = source.cx + RECT / 2 + 2, y0 = source.cy;
          const x1 = dest.cx - RECT / 2, y1 = dest.cy + ((i - (count - 1) / 2) / count) * 12;
          const mid = (x0 + x1) / 2;
          const d = `M${x0},${y0} C${mid},${y0} ${mid},${y1} ${x1},${y1}`;
          const path = svgElement("path", { d, class: "link" }, links);
          const hover = svgElement("path", { d, class: "link-hover" }, links);
          const target = { kind: "weight", layer: layer - 1, source: i, dest: j };
          hover.addEventListener("mouseenter", event => this.showCard(target, event));
          hover.addEventListener("mouseleave", () => this.hideCard());
          hover.addEventListener("click", event => this.startEdit(target, event));
          this.links[layer - 1].push(path);
        });
      });
    }
    const biases = svgElement("g", {}, this.svg);
    this.biasRects = [];
    for (let layer = 1; layer < layerSizes.length; layer++) {
      this.biasRects[layer - 1] = this.coords[layer].map(({ cx, cy }, node) => {
        const rect = svgElement("rect", { class: "bias", x: cx - RECT / 2 - BIAS - 2, y: cy + RECT / 2 - BIAS + 3,
          width: BIAS, height: BIAS }, biases);
        const target = { kind: "bias", layer: layer - 1, node };
        rect.addEventListener("mouseenter", event => this.showCard(target, event));
        rect.addEventListener("mouseleave", () => this.hideCard());
        rect.addEventListener("click", event => this.startEdit(target, event));
        return rect;
      });
    }
    return true;
  }

  addThumb(cx, cy, kind, label) {
    const canvas = document.createElement("canvas");
    canvas.width = canvas.height = THUMB;
    canvas.className = `thumb ${kind}`;
    canvas.setAttribute("aria-label", label);
    canvas.style.left = `${cx - RECT / 2}px`;
    canvas.style.top = `${cy - RECT / 2}px`;
    this.container.appendChild(canvas);
    return canvas;
  }

  addNeuronsControl(cx, layer, count) {
    const div = document.createElement("div");
    div.className = "neurons-control ui-numHiddenLayers";
    div.style.left = `${cx - 35}px`;
    div.style.top = "0px";
    div.innerHTML = `<button aria-label="Add a neuron to layer ${layer}">+</button>` +
      `<button aria-label="Remove a neuron from layer ${layer}">&minus;</button>` +
      `<div>${count} neuron${count === 1 ? "" : "s"}</div>`;
    const [add, remove] = div.querySelectorAll("button");
    add.addEventListener("click", () => this.callbacks.changeNeurons(layer - 1, +1));
    remove.addEventListener("click", () => this.callbacks.changeNeurons(layer - 1, -1));
    this.container.appendChild(div);
  }

  // Under the layer's last neuron: which activation the layer has (ours: the original has one for all).
  addActivationControl(cx, layer, count, value) {
    const select = document.createElement("select");
    select.className = "layer-activation ui-activation";
    select.setAttribute("aria-label", `Activation of layer ${layer}`);
    for (const [name, label] of this.activations) select.add(new Option(label, name, false, name === value));
    select.style.left = `${cx - 35}px`;
    select.style.top = `${TOP + (count - 1) * ROW + RECT + 3}px`;
    select.addEventListener("change", () => this.callbacks.setLayerActivation(layer - 1, select.value));
    this.container.appendChild(select);
  }

  // Per frame: link colours and widths, bias colours, neuron thumbnails.
  update(arrays, thumbnails, discretize) {
    const sizes = this.layerSizes;
    let offset = sizes[0] * THUMB * THUMB;  // the inputs' maps come first; the page draws its own
    for (let layer = 1; layer < sizes.length; layer++) {
      const weights = arrays[`weights${layer - 1}`], dead = arrays[`dead${layer - 1}`];
      const biases = arrays[`biases${layer - 1}`];
      this.weights[layer - 1] = weights;
      this.biases[layer - 1] = biases;
      const nIn = sizes[layer - 1], nOut = sizes[layer];
      const paths = this.links[layer - 1];
      for (let j = 0; j < nOut; j++) {
        for (let i = 0; i < nIn; i++) {
          const w = weights[i * nOut + j], path = paths[j * nIn + i];
          path.style.stroke = cssOf(w);
          path.style.strokeWidth = linkWidth(w);
          path.classList.toggle("dead", dead[i * nOut + j] === 1);
        }
        this.biasRects[layer - 1][j].style.fill = cssOf(biases[j]);
      }
      for (const thumb of this.thumbs[layer]) {
        paintMap(thumb, thumbnails.subarray(offset, offset + THUMB * THUMB), THUMB, discretize);
        offset += THUMB * THUMB;
      }
    }
  }

  valueOf(target) {
    if (target.kind === "bias") return this.biases[target.layer][target.node];
    const nOut = this.layerSizes[target.layer + 1];
    return this.weights[target.layer][target.source * nOut + target.dest];
  }

  showCard(target, event) {
    if (this.editing) return;
    const box = this.container.getBoundingClientRect();
    this.card.style.left = `${event.clientX - box.left + 20}px`;
    this.card.style.top = `${event.clientY - box.top}px`;
    this.card.querySelector(".type").textContent = target.kind === "bias" ? "Bias" : "Weight";
    const value = this.valueOf(target);
    this.card.querySelector(".value").textContent = Number.isFinite(value) ? value.toPrecision(2) : "NaN";
    this.card.querySelector(".value").hidden = false;
    this.cardInput.hidden = true;
    this.card.hidden = false;
  }

  hideCard() {
    if (!this.editing) this.card.hidden = true;
  }

  startEdit(target, event) {
    this.editing = null;
    this.showCard(target, event);
    this.editing = target;
    this.card.querySelector(".value").hidden = true;
    const value = this.valueOf(target);
    this.cardInput.value = Number.isFinite(value) ? value.toPrecision(2) : "0";
    this.cardInput.hidden = false;
    this.cardInput.focus();
    this.cardInput.select();
  }

  commitEdit() {
    const target = this.editing, value = Number(this.cardInput.value);
    if (target && this.cardInput.value.trim() !== "" && Number.isFinite(value)) this.callbacks.setValue(target, value);
    this.closeCard();
  }

  closeCard() {
    this.editing = null;
    this.card.hidden = true;
  }
}
