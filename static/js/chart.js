// The loss chart: both curves over the whole history (plotly). The page keeps every epoch; the chart
// draws at most MAX_POINTS per curve, evenly spread, so a long run stays cheap to redraw.
const MAX_POINTS = 2000;
const REDRAW_MS = 150;

export class LossChart {
  constructor(element) {
    this.element = element;
    this.clear();
    this.lastDraw = 0;
    this.pending = null;
    Plotly.newPlot(element, this.traces(), {
      margin: { l: 34, r: 6, t: 4, b: 20 }, showlegend: false, height: 110, width: 330,
      xaxis: { zeroline: false, tickfont: { size: 9 } },
      yaxis: { zeroline: false, rangemode: "tozero", tickfont: { size: 9 } },
      paper_bgcolor: "rgba(0,0,0,0)", plot_bgcolor: "rgba(0,0,0,0)",
    }, { displayModeBar: false, staticPlot: true });
  }

  clear() {
    this.uid = null;
    this.epochs = [];
    this.train = [];
    this.test = [];
  }

  // Append a frame's new history rows; `start` is the index of its first row (rows before it are kept).
  extend(uid, history) {
    if (uid !== this.uid) { this.clear(); this.uid = uid; }
    for (const column of [this.epochs, this.train, this.test]) column.length = Math.min(column.length, history.start);
    this.epochs.push(...history.epoch);
    this.train.push(...history.train_loss);
    this.test.push(...history.test_loss);
    this.scheduleDraw();
  }

  traces() {
    const n = this.epochs.length, step = Math.max(1, Math.ceil(n / MAX_POINTS));
    const pick = column => column.filter((_, i) => i % step === 0 || i === n - 1);
    const x = pick(this.epochs);
    return [
      { x, y: pick(this.train), name: "Training loss", mode: "lines", line: { color: "#777", width: 1.5 } },
      { x, y: pick(this.test), name: "Test loss", mode: "lines", line: { color: "black", width: 1.5 } },
    ];
  }

  scheduleDraw() {
    if (this.pending) return;
    const wait = Math.max(0, this.lastDraw + REDRAW_MS - performance.now());
    this.pending = setTimeout(() => {
      this.pending = null;
      this.lastDraw = performance.now();
      Plotly.react(this.element, this.traces(), this.element.layout);
    }, wait);
  }

  download(format) {
    return Plotly.downloadImage(this.element, { format, filename: "loss-chart", width: 800, height: 400 });
  }
}
