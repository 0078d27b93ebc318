// Drawing maps (the big boundary and the neuron thumbnails) and data points onto canvases.
import { SHADE_TABLE, DISCRETE_TABLE, CLASS_COLORS, ZERO, mix, shadeOf, classColor } from "./colors.js";

const ALPHA = 160;  // the original paints its heatmaps slightly transparent over white

// Paint a density x density map of quantised bytes (range [-1, 1]) into an ImageData-sized canvas.
export function paintMap(canvas, bytes, density, discretize) {
  const table = discretize ? DISCRETE_TABLE : SHADE_TABLE;
  const context = canvas.getContext("2d");
  const image = context.createImageData(density, density);
  for (let i = 0; i < density * density; i++) {
    const [r, g, b] = table[bytes[i]];
    image.data[4 * i] = r; image.data[4 * i + 1] = g; image.data[4 * i + 2] = b; image.data[4 * i + 3] = ALPHA;
  }
  context.putImageData(image, 0, 0);
}

// Paint K class-probability maps (bytes for [0, 1], K x density x density): the likeliest class's colour,
// paler where the network is unsure.
export function paintClasses(canvas, bytes, classes, density, discretize) {
  const context = canvas.getContext("2d");
  const image = context.createImageData(density, density);
  const area = density * density;
  for (let i = 0; i < area; i++) {
    let best = 0;
    for (let k = 1; k < classes; k++) if (bytes[k * area + i] > bytes[best * area + i]) best = k;
    const p = bytes[best * area + i] / 255;
    const confidence = discretize ? 1 : Math.max(0, (p - 1 / classes) / (1 - 1 / classes));
    const [r, g, b] = mix(ZERO, CLASS_COLORS[best % CLASS_COLORS.length], confidence);
    image.data[4 * i] = r; image.data[4 * i + 1] = g; image.data[4 * i + 2] = b; image.data[4 * i + 3] = ALPHA;
  }
  context.putImageData(image, 0, 0);
}

// Paint a map given as plain numbers (the input features, computed here).
export function paintValues(canvas, values, density, discretize) {
  const context = canvas.getContext("2d");
  const image = context.createImageData(density, density);
  for (let i = 0; i < density * density; i++) {
    const v = discretize ? (values[i] >= 0 ? 1 : -1) : values[i];
    const [r, g, b] = shadeOf(v);
    image.data[4 * i] = r; image.data[4 * i + 1] = g; image.data[4 * i + 2] = b; image.data[4 * i + 3] = ALPHA;
  }
  context.putImageData(image, 0, 0);
}

// Colour of a data point's label: +1/-1 (or a regression value) on the scale, class k by its colour.
export function labelColor(label, classes) {
  const [r, g, b] = classes > 2 ? classColor(label) : shadeOf(label);
  return `rgb(${r},${g},${b})`;
}

// Draw points (Float32Array of x, y, label triples) over x, y in [-6, 6] on a canvas of the given size.
export function drawPoints(context, points, size, classes, outline) {
  context.lineWidth = 1;
  context.strokeStyle = outline;
  for (let i = 0; i + 2 < points.length; i += 3) {
    const x = points[i], y = points[i + 1];
    if (x < -6 || x > 6 || y < -6 || y > 6) continue;
    context.beginPath();
    context.arc(((x + 6) / 12) * size, ((6 - y) / 12) * size, 3, 0, 2 * Math.PI);
    context.fillStyle = labelColor(points[i + 2], classes);
    context.fill();
    context.stroke();
  }
}

// The input features over the grid (row 0 = y = +6, column 0 = x = -6), computed in the page: they never change.
const FEATURES = {
  x: (x, y) => x, y: (x, y) => y, xSquared: (x, y) => x * x, ySquared: (x, y) => y * y,
  xTimesY: (x, y) => x * y, sinX: (x, y) => Math.sin(x), sinY: (x, y) => Math.sin(y),
};

export function featureMap(name, density, cellsPerSample = 1) {
  // cellsPerSample > 1 averages a finer grid down, as the original's thumbnails are.
  const fine = density * cellsPerSample;
  const values = new Float32Array(density * density);
  for (let row = 0; row < fine; row++) {
    for (let col = 0; col < fine; col++) {
      const x = -6 + (12 * col) / (fine - 1), y = 6 - (12 * row) / (fine - 1);
      const i = Math.floor(row / cellsPerSample) * density + Math.floor(col / cellsPerSample);
      values[i] += FEATURES[name](x, y) / (cellsPerSample * cellsPerSample);
    }
  }
  return values;
}
