// The original's colours: orange = -1, grey = 0, blue = +1; heatmaps use 30 shades, links a continuous scale.

export const NEGATIVE = [0xf5, 0x93, 0x22];
export const ZERO = [0xe8, 0xea, 0xeb];
export const POSITIVE = [0x08, 0x77, 0xbd];
// Colours for more than two classes: the original's two, then distinct ones.
export const CLASS_COLORS = [NEGATIVE, POSITIVE, [0x2c, 0xa0, 0x2c], [0x94, 0x67, 0xbd], [0xd6, 0x27, 0x28],
  [0x8c, 0x56, 0x4b]];
const NUM_SHADES = 30;

function mix(a, b, t) {
  return [0, 1, 2].map(i => Math.round(a[i] + (b[i] - a[i]) * t));
}

// Continuous colour of a value in [-1, 1] (clamped), as the links and bias squares are drawn.
export function rgbOf(value) {
  if (!Number.isFinite(value)) return ZERO;
  const v = Math.max(-1, Math.min(1, value));
  return v < 0 ? mix(ZERO, NEGATIVE, -v) : mix(ZERO, POSITIVE, v);
}

export function cssOf(value) {
  const [r, g, b] = rgbOf(value);
  return `rgb(${r},${g},${b})`;
}

// The heatmaps' quantised colour scale: [-1, 1] split into NUM_SHADES + 1 bands, like d3.scale.quantize.
export function shadeOf(value) {
  if (!Number.isFinite(value)) return ZERO;
  const v = Math.max(-1, Math.min(1, value));
  const band = Math.min(NUM_SHADES, Math.floor(((v + 1) / 2) * (NUM_SHADES + 1)));
  const t = band / NUM_SHADES;  // 0..1 across orange, grey, blue
  return t < 0.5 ? mix(NEGATIVE, ZERO, t * 2) : mix(ZERO, POSITIVE, (t - 0.5) * 2);
}

// Lookup tables from a quantised byte (range [-1, 1]) to a colour, plain and discretized.
export const SHADE_TABLE = Array.from({ length: 256 }, (_, q) => shadeOf(-1 + (q / 255) * 2));
export const DISCRETE_TABLE = Array.from({ length: 256 }, (_, q) => (q >= 128 ? POSITIVE : NEGATIVE));

export function classColor(label) {
  return CLASS_COLORS[label % CLASS_COLORS.length];
}
export { mix };
