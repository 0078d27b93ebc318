// Studies: the form that starts a sweep (/studies) and a study's live progress and report (/studies/<id>).
const $ = selector => document.querySelector(selector);

async function api(url, options = {}) {
  const response = await fetch(url, options);
  const body = await response.json().catch(() => ({}));
  if (!response.ok) throw Object.assign(new Error(body.error || `${response.status} ${response.statusText}`), body);
  return body;
}

function showError(message) {
  $("#error-banner").textContent = message || "";
  $("#error-banner").hidden = !message;
}

function duration(seconds) {
  if (seconds == null) return "estimating…";
  seconds = Math.round(seconds);
  return seconds < 60 ? `${seconds} s` : `${Math.floor(seconds / 60)} min ${seconds % 60} s`;
}

// ---- /studies: start one, list them ------------------------------------------------------------------

function studyRequest(form) {
  const body = { settings: {} };
  for (const input of form.querySelectorAll("[data-setting]")) {
    if (input.value.trim()) body.settings[input.dataset.setting] = input.value.trim();
  }
  for (const input of form.querySelectorAll("[data-key]")) {
    if (input.value.trim()) body[input.dataset.key] = input.value.trim();
  }
  return body;
}

async function startStudy(event) {
  event.preventDefault();
  const form = event.target;
  for (const input of form.querySelectorAll("[aria-invalid]")) input.removeAttribute("aria-invalid");
  $("#study-error").textContent = "";
  try {
    const started = await api("/api/studies", { method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify(studyRequest(form)) });
    location.href = started.page;
  } catch (error) {
    $("#study-error").textContent = error.message;
    const input = form.querySelector(`[name="${CSS.escape(error.field || "")}"]`);
    if (input) { input.setAttribute("aria-invalid", "true"); input.focus(); }
    if (error.study_id) {
      const link = Object.assign(document.createElement("a"), { href: `/studies/${error.study_id}`, textContent: " See it." });
      $("#study-error").append(link);
    }
  }
}

async function listStudies() {
  const { studies } = await api("/api/studies");
  const rows = studies.slice().reverse().map(study => {
    const row = document.createElement("tr");
    const base = study.spec.base;
    const cells = [
      Object.assign(document.createElement("a"), { href: `/studies/${study.id}`, textContent: `Study ${study.id}` }),
      base.problem === "regression" ? base.regDataset : base.dataset,
      study.spec.factors.map(f => `${f.name}: ${f.levels.join(", ")}`).join("; ") || "nothing",
      study.spec.seeds.length, study.spec.epochs, study.runs, new Date(study.created * 1000).toLocaleString(),
    ];
    cells.forEach((value, index) => {
      const td = document.createElement("td");
      if (index === 1 || index === 2 || index === 6) td.className = "text";
      td.append(value);
      row.append(td);
    });
    return row;
  });
  $("#studies-body").replaceChildren(...rows);
}

// ---- /studies/<id>: progress, then the report --------------------------------------------------------

async function followStudy(id) {
  let progress;
  try {
    progress = await api(`/api/studies/${id}`);
    showError(null);
  } catch (error) {
    showError(`Could not read the study's progress: ${error.message}`);
    setTimeout(() => followStudy(id), 5000);
    return;
  }
  const { done, total, state } = progress;
  $("#study-bar").max = total;
  $("#study-bar").value = done;
  const text = {
    running: `${done} of ${total} runs done; about ${duration(progress.eta)} to go`,
    finished: `finished: ${done} of ${total} runs${progress.failed ? ` (${progress.failed} not saved)` : ""}`,
    failed: `stopped after ${done} of ${total} runs: the study's process ended early; start it again to train the rest`,
    interrupted: `interrupted after ${done} of ${total} runs; start it again to train the rest`,
    incomplete: `${done} of ${total} runs in the log and none training; start it again to train the rest`,
  }[state] || `${done} of ${total} runs`;
  $("#study-progress").textContent = text;
  $("#study-progress").dataset.state = state;
  if (done > 0 && (state !== "running")) showReport(progress.report);
  if (state === "running") setTimeout(() => followStudy(id), 1000);
}

function showReport(url) {
  const frame = $("#study-report");
  if (!frame.hidden) return;
  frame.src = url;
  frame.hidden = false;
  $("#study-links").hidden = false;
}

if ($("#study-form")) {
  $("#study-form").addEventListener("submit", startStudy);
  listStudies().catch(error => showError(`Could not list the studies: ${error.message}`));
}
if ($("#study")) followStudy($("#study").dataset.studyId);
