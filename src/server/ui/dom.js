// Building the page: elements from data, never from HTML strings (memory text is
// untrusted: it is only ever set as text), times, diffs and small widgets.

// h("a", {href: "#/", class: "x", onclick: fn}, "text", child, [more]) -> Element.
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else if (k === "class") el.className = v;
    else if (k === "dataset") Object.assign(el.dataset, v);
    else if (k === "style") Object.assign(el.style, v);  // CSSOM: allowed by the CSP
    else if (k === "value") el.value = v;
    else if (k === "checked") el.checked = Boolean(v);
    else el.setAttribute(k, v === true ? "" : String(v));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c === undefined || c === null || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

// "2024-03-02 09:15" of an ISO 8601 time ("" for none).
export function when(iso) {
  if (!iso) return "";
  return iso.replace("T", " ").replace(/:\d\d(\.\d+)?Z$/, "");
}

export function day(iso) {
  return iso ? iso.slice(0, 10) : "(no date)";
}

export function badge(text, kind) {
  return h("span", { class: "badge " + (kind || text) }, text);
}

export function errorBox(e) {
  const parts = [h("strong", {}, e.status ? e.status + " " + (e.code || "") : "Error")];
  parts.push(" ", e.message);
  if (e.field) parts.push(" ", h("span", { class: "field" }, "field: " + e.field));
  return h("div", { class: "error", role: "alert" }, parts);
}

// Runs `work` on click, disabling the button meanwhile; an error shows next to it.
export function action(label, work, attrs = {}) {
  const out = h("span", { class: "action-result" });
  const button = h("button", {
    type: "button", ...attrs,
    onclick: async () => {
      button.disabled = true;
      out.replaceChildren();
      try {
        const r = await work();
        if (r instanceof Node || typeof r === "string") out.replaceChildren(r);
      } catch (e) {
        out.replaceChildren(errorBox(e));
      } finally {
        button.disabled = false;
      }
    },
  }, label);
  return h("span", { class: "action" }, button, out);
}

// A table of rows: columns [[header, row => cell], ...].
export function table(rows, columns, attrs = {}) {
  return h("table", attrs,
    h("thead", {}, h("tr", {}, columns.map(([name]) => h("th", {}, name)))),
    h("tbody", {}, rows.map((r) => h("tr", {}, columns.map(([, cell]) => h("td", {}, cell(r)))))));
}

// Key/value pairs of an object as a definition list.
export function fields(pairs) {
  return h("dl", { class: "fields" },
    pairs.filter(([, v]) => v !== undefined && v !== null && v !== "" &&
                           !(Array.isArray(v) && v.length === 0))
      .map(([k, v]) => [h("dt", {}, k), h("dd", {}, v instanceof Node ? v : String(v))]));
}

// A word-level diff of two texts: [["=", "same "], ["-", "old "], ["+", "new "]].
export function diffWords(a, b) {
  const x = a.split(/(\s+)/), y = b.split(/(\s+)/);
  if (x.length * y.length > 4e6) return [["-", a], ["+", b]];  // too long to align
  const n = x.length, m = y.length;
  const lcs = Array.from({ length: n + 1 }, () => new Uint32Array(m + 1));
  for (let i = n - 1; i >= 0; i--)
    for (let j = m - 1; j >= 0; j--)
      lcs[i][j] = x[i] === y[j] ? lcs[i + 1][j + 1] + 1 : Math.max(lcs[i + 1][j], lcs[i][j + 1]);
  const out = [];
  const push = (op, t) => {
    if (out.length && out[out.length - 1][0] === op) out[out.length - 1][1] += t;
    else out.push([op, t]);
  };
  let i = 0, j = 0;
  while (i < n && j < m) {
    if (x[i] === y[j]) { push("=", x[i]); i++; j++; }
    else if (lcs[i + 1][j] >= lcs[i][j + 1]) push("-", x[i++]);
    else push("+", y[j++]);
  }
  while (i < n) push("-", x[i++]);
  while (j < m) push("+", y[j++]);
  return out;
}

export function diffView(a, b) {
  return h("p", { class: "diff" }, diffWords(a, b).map(([op, t]) =>
    op === "=" ? t : h(op === "+" ? "ins" : "del", {}, t)));
}

// Tabs that are links (deep-linkable): [[label, href, active], ...].
export function tabs(items) {
  return h("nav", { class: "tabs" }, items.map(([label, href, active]) =>
    h("a", { href, class: active ? "active" : "" }, label)));
}
