// One memory: its fields, versions (with a diff), history with reasons, provenance (its
// sources and what was derived from it, which a purge would erase too) and links.
import { api, query, spacePath } from "./api.js";
import { action, badge, diffView, fields, h, table, when } from "./dom.js";
import { go, memoryHref, userHref } from "./nav.js";

export async function memoryPage({ args: [space, idText] }) {
  const root = h("section", { class: "memory" });
  const fill = async () => {
    const path = spacePath(space, "/memories/" + idText);
    const [m, { history }, { links }, { provenance }] = await Promise.all([
      api("GET", path), api("GET", path + "/history"), api("GET", path + "/links"),
      api("GET", path + "/provenance"),
    ]);
    const derived = await derivedFrom(space, m.id, links);
    const quote = h("blockquote", { class: "text" }, m.text);
    root.replaceChildren(
      h("h1", {}, "Memory ", h("span", { class: "id" }, String(m.id)), " ", badge(m.kind), " ",
        m.state === "active" ? "" : badge(m.state, "state"), " ",
        m.quarantined ? badge("quarantined") : "", " ",
        (m.labels || []).map((l) => badge(l, "label")), " ",
        h("span", { class: "version" }, "version " + m.version)),
      m.quarantined ? quarantineNote(path, m, fill) : "",
      quote,
      /\[secret \d+: /.test(m.text) ? revealButton(path, quote) : "",
      details(space, m),
      editor(space, m, fill, derived),
      h("h2", {}, "History"), historyView(history),
      h("h2", {}, "Provenance"), provenanceView(space, provenance),
      h("h2", {}, "Derived from it"),
      derived.length === 0
        ? h("p", { class: "empty" }, "Nothing was derived from this memory.")
        : h("div", {}, h("p", {}, "A purge of this memory also erases these:"),
            table(derived, [
              ["Memory", (d) => h("a", { href: memoryHref(space, d.id) }, d.text)],
              ["Kind", (d) => badge(d.kind)], ["State", (d) => d.state],
            ], { class: "derived" })),
      h("h2", {}, "Links"), linksView(space, m.id, links));
  };
  await fill();
  return root;
}

// Credentials found at write show as "[secret N: KIND]"; an admin may show them here.
function revealButton(path, quote) {
  return h("p", { class: "secrets" }, "Its text holds secrets, stored apart. ",
    action("Reveal them (admin)", async () => {
      const r = await api("GET", path + "?reveal=true");
      quote.textContent = r.text;
      return "shown on this page only";
    }));
}

// Why it is kept out of context and default searches, and the way back (admin).
function quarantineNote(path, m, refresh) {
  return h("p", { class: "quarantine" },
    "Quarantined: " + m.quarantine_reason + ". It stays out of context, default lists and " +
    "searches, and derivation. ",
    action("Release it (admin)", async () => {
      await api("PATCH", path, { quarantined: false, reason: "released in the web UI" });
      await refresh();
    }));
}

function details(space, m) {
  return fields([
    ["user", h("a", { href: userHref(space, m.user) }, m.user)],
    ["agent", m.agent], ["session", m.session], ["role", m.role], ["speaker", m.speaker],
    ["time", when(m.time)], ["valid", m.valid_from || m.valid_to
      ? when(m.valid_from) + " – " + (when(m.valid_to) || "now") : ""],
    ["created", when(m.created_at)], ["updated", when(m.updated_at)],
    ["expires", when(m.expires_at)], ["importance", m.importance], ["strength", m.strength],
    ["tier", m.tier], ["origin", m.origin + " (trust " + m.trust + ")"],
    ["recalled", m.access_count],
    ["tags", (m.tags || []).join(", ")], ["entities", (m.entities || []).join(", ")],
    ["metadata", Object.keys(m.meta || {}).length ? JSON.stringify(m.meta) : ""],
  ]);
}

// Edit the text (a new version), delete (soft) or purge (admin; what was derived goes too).
function editor(space, m, refresh, derived) {
  if (m.state !== "active") return h("p", { class: "empty" }, "This memory is " + m.state + ".");
  const path = spacePath(space, "/memories/" + m.id);
  const text = h("textarea", { rows: 3, name: "text" }, m.text);
  const reason = h("input", { name: "reason", placeholder: "reason (kept in history)" });
  return h("details", { class: "edit" }, h("summary", {}, "Edit or delete"),
    text, h("div", { class: "row" }, reason,
      action("Save new version", async () => {
        await api("PATCH", path, { text: text.value, reason: reason.value || undefined });
        await refresh();
      }),
      action("Delete", async () => {
        await api("DELETE", path + query({ reason: reason.value }));
        await refresh();
      }),
      m.quarantined ? "" : action("Quarantine", async () => {
        await api("PATCH", path, { quarantined: true, reason: reason.value || undefined });
        await refresh();
      }),
      action("Purge", async () => {
        const also = derived.length ? " and the " + derived.length + " memories derived from it" : "";
        if (!window.confirm("Erase this memory's text everywhere" + also + "? This cannot be undone.")) return "";
        await api("DELETE", path + query({ purge: "true", reason: reason.value }));
        go("/spaces/" + encodeURIComponent(space));
        return "";
      }, { class: "danger" })));
}

function historyView(history) {
  if (history.length === 0) return h("p", { class: "empty" }, "No history.");
  return h("ol", { class: "history" }, history.map((e) => {
    const before = e.before?.text, after = e.after?.text;
    let change = "";
    if (before !== undefined && after !== undefined && before !== after) change = diffView(before, after);
    else if (after !== undefined) change = h("p", { class: "plain" }, after);
    else if (before !== undefined) change = h("p", { class: "plain gone" }, before);
    return h("li", {},
      h("div", { class: "meta" }, badge(e.op, "op"), " v" + e.version, " ",
        h("span", { class: "time" }, when(e.time)), " by ", e.actor || "?",
        e.reason ? h("span", { class: "reason" }, " — ", e.reason) : ""),
      change);
  }));
}

function provenanceView(space, steps) {
  if (steps.length <= 1) return h("p", { class: "empty" }, "Not derived: this memory is its own source.");
  return h("ul", { class: "provenance" }, steps.slice(1).map((s) =>
    h("li", { style: { marginLeft: (s.depth - 1) * 1.5 + "em" } },
      "← ", badge(s.kind), " ", h("a", { href: memoryHref(space, s.id) }, s.text),
      " ", h("span", { class: "time" }, when(s.time)))));
}

// What was derived from `id`, and from that, and so on (at most 3 levels, 50 memories).
async function derivedFrom(space, id, links) {
  const seen = new Set([id]);
  const out = [];
  let frontier = links.filter((l) => l.type === "derived_from" && l.to === id).map((l) => l.from);
  for (let depth = 0; depth < 3 && frontier.length && out.length < 50; depth++) {
    const next = [];
    for (const d of frontier) {
      if (seen.has(d) || out.length >= 50) continue;
      seen.add(d);
      const path = spacePath(space, "/memories/" + d);
      try {
        const [m, l] = await Promise.all([api("GET", path), api("GET", path + "/links")]);
        out.push(m);
        next.push(...l.links.filter((x) => x.type === "derived_from" && x.to === d).map((x) => x.from));
      } catch (e) {
        if (e.status !== 404) throw e;  // erased since: nothing to show
      }
    }
    frontier = next;
  }
  return out;
}

function linksView(space, id, links) {
  if (links.length === 0) return h("p", { class: "empty" }, "No links.");
  return table(links, [
    ["Type", (l) => l.type],
    ["", (l) => (l.from === id ? "→" : "←")],
    ["Memory", (l) => {
      const other = l.from === id ? l.to : l.from;
      return h("a", { href: memoryHref(space, other) }, String(other));
    }],
    ["Weight", (l) => l.weight],
  ], { class: "links" });
}

