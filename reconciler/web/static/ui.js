// Salam web UI: sort tables by a header click, filter the jobs table as you type, and (with
// `reconcile serve --actions-token-ref`) send the action buttons' POSTs: the token is asked for
// once and kept in this tab's sessionStorage (never in a URL or a cookie), the page's CSRF
// token goes in X-Salam-CSRF, a button that asks (Pause: why?) sends the answer as {"note"},
// the outcome shows beside the button, then the page reloads.
// Served as a file (the Content-Security-Policy allows no inline script). No framework.
"use strict";

function sortValue(row, index) {
  const cell = row.cells[index];
  const value = cell.dataset.sort !== undefined ? cell.dataset.sort : cell.textContent.trim();
  const number = Number(value);
  return value !== "" && !Number.isNaN(number) ? number : value.toLowerCase();
}

function sortBy(table, index, header) {
  const body = table.tBodies[0];
  const ascending = header.getAttribute("aria-sort") !== "ascending";
  const rows = Array.from(body.rows);
  rows.sort((a, b) => {
    const x = sortValue(a, index), y = sortValue(b, index);
    const order = x < y ? -1 : x > y ? 1 : 0;
    return ascending ? order : -order;
  });
  rows.forEach((row) => body.appendChild(row));
  table.querySelectorAll("th").forEach((th) => th.removeAttribute("aria-sort"));
  header.setAttribute("aria-sort", ascending ? "ascending" : "descending");
}

function makeSortable(table) {
  table.querySelectorAll("thead th").forEach((header, index) => {
    header.tabIndex = 0;
    header.title = "sort";
    header.addEventListener("click", () => sortBy(table, index, header));
  });
}

function makeFilter(input) {
  const table = document.getElementById(input.dataset.table);
  if (!table) return;
  input.addEventListener("input", () => {
    const words = input.value.toLowerCase().split(/\s+/).filter(Boolean);
    Array.from(table.tBodies[0].rows).forEach((row) => {
      const text = row.textContent.toLowerCase();
      row.hidden = !words.every((word) => text.includes(word));
    });
  });
}

const TOKEN_KEY = "salam-token";

function bearerToken() {
  let token = sessionStorage.getItem(TOKEN_KEY);
  if (!token) {
    token = window.prompt("Bearer token for actions (kept in this tab only):") || "";
    if (token) sessionStorage.setItem(TOKEN_KEY, token);
  }
  return token;
}

async function post(path, token, note) {
  const csrf = document.querySelector('meta[name="salam-csrf"]').content;
  const headers = { Authorization: `Bearer ${token}`, "X-Salam-CSRF": csrf };
  const sent = { method: "POST", headers };
  if (note !== null) {
    headers["Content-Type"] = "application/json";
    sent.body = JSON.stringify({ note });
  }
  const response = await fetch(path, sent);
  const body = await response.json().catch(() => ({}));
  return { response, body };
}

async function statusOf(path, token) {
  const response = await fetch(path, { headers: { Authorization: `Bearer ${token}` } });
  return response.ok ? response.json() : null;
}

async function nextPass(statusPath, token, after) {
  for (let tries = 0; tries < 120; tries += 1) {
    await new Promise((resolve) => setTimeout(resolve, 500));
    const now = await statusOf(statusPath, token);
    if (now && now.attempts > after && now.phase === "idle") return;
  }
}

async function act(button) {
  const shown = button.parentElement.querySelector("output");
  const note = button.dataset.note === undefined ? null : window.prompt(button.dataset.note, "");
  if (button.dataset.note !== undefined && note === null) {
    shown.textContent = "not sent: cancelled";
    return;
  }
  const token = bearerToken();
  if (!token) {
    shown.textContent = "not sent: actions need the bearer token";
    return;
  }
  button.disabled = true;
  shown.textContent = "working…";
  try {
    const wait = button.dataset.wait;
    const before = wait ? await statusOf(wait, token) : null;
    const { response, body } = await post(button.dataset.action, token, note);
    if (response.status === 401) sessionStorage.removeItem(TOKEN_KEY);
    if (!response.ok) {
      const hint = body.hint ? ` (${body.hint})` : "";
      shown.textContent = `refused (${response.status}): ${body.error || response.statusText}${hint}`;
      button.disabled = false;
      return;
    }
    shown.textContent = body.message || (body.queued ? "sync queued: waiting for the pass…" : "done");
    if (before) await nextPass(wait, token, before.attempts);
    window.location.reload();
  } catch (error) {
    shown.textContent = `failed: ${error}`;
    button.disabled = false;
  }
}

document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("table.sortable").forEach(makeSortable);
  document.querySelectorAll("input[data-table]").forEach(makeFilter);
  document.querySelectorAll("button[data-action]").forEach((button) => {
    button.addEventListener("click", () => act(button));
  });
});
