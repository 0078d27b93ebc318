// Exports: loss history as CSV / JSON (every epoch, asked from the session), the boundary as PNG.

export function download(filename, blob) {
  const link = document.createElement("a");
  link.href = URL.createObjectURL(blob);
  link.download = filename;
  document.body.appendChild(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(link.href), 10000);
}

const cell = value => (value === null || value === undefined ? "" : String(value));

export function historyCsv(history) {
  const lines = [history.columns.join(",")];
  for (const row of history.rows) lines.push(row.map(cell).join(","));
  return lines.join("\n") + "\n";
}

export function historyJson(history, config, url) {
  const rows = history.rows.map(row => Object.fromEntries(history.columns.map((name, i) => [name, row[i]])));
  return JSON.stringify({ url, config, history: rows }, null, 1);
}

export function downloadCanvas(canvas, filename) {
  canvas.toBlob(blob => download(filename, blob), "image/png");
}
