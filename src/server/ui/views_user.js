// One user of a space: a timeline of their sessions and events by date, their profile
// (edit and unset slots), and a preview of the context an agent would get.
import { api, query, spacePath } from "./api.js";
import { action, badge, day, errorBox, h, table, tabs, when } from "./dom.js";
import { memoryHref, userHref } from "./nav.js";

export async function userPage({ args: [space, user], params }) {
  const tab = params.get("tab") || "timeline";
  const views = { timeline, profile, context };
  const view = views[tab] ? await views[tab](space, user, params) : h("p", {}, "No such tab.");
  return h("section", {}, h("h1", {}, user, h("span", { class: "in" }, " in " + space)),
    tabs([
      ["Timeline", userHref(space, user), tab === "timeline"],
      ["Profile", userHref(space, user, { tab: "profile" }), tab === "profile"],
      ["Context", userHref(space, user, { tab: "context" }), tab === "context"],
    ]), view);
}

// Newest first, 200 at a time: days, and within a day the sessions in time order.
async function timeline(space, user) {
  const list = h("div", { class: "timeline" });
  const more = h("div", { class: "more" });
  const days = new Map();
  const load = async (cursor) => {
    const page = await api("GET", spacePath(space, "/memories") +
                           query({ user, order: "desc", limit: 200, cursor }));
    for (const m of page.memories) {
      const key = day(m.time || m.created_at);
      if (!days.has(key)) {
        const section = h("section", { class: "day" }, h("h3", {}, key));
        days.set(key, { section, sessions: new Map() });
        list.append(section);
      }
      const d = days.get(key);
      const session = m.session || "(no session)";
      if (!d.sessions.has(session)) {
        const ul = h("ul", { class: "events" });
        d.sessions.set(session, ul);
        d.section.append(h("h4", {}, "session ", session), ul);
      }
      d.sessions.get(session).append(h("li", {},
        h("span", { class: "time" }, when(m.time || m.created_at).slice(11)), " ",
        badge(m.kind), " ", m.speaker || m.role ? h("span", { class: "who" }, (m.speaker || m.role) + ": ") : "",
        h("a", { href: memoryHref(space, m.id) }, m.text)));
    }
    if (days.size === 0) list.replaceChildren(h("p", { class: "empty" }, "No memories."));
    more.replaceChildren(page.next_cursor
      ? action("Load older", () => load(page.next_cursor).then(() => "")) : "");
  };
  await load("");
  return h("div", {}, list, more);
}

async function profile(space, user) {
  const root = h("div", { class: "profile" });
  const path = spacePath(space, "/profile");
  const reason = h("input", { name: "reason", placeholder: "reason (kept in history)" });
  const edit = async (body) => {
    const p = await api("PATCH", path, { user, ...body, reason: reason.value || undefined });
    render(p);
  };
  const render = (p) => {
    const key = h("input", { name: "key", placeholder: "key, e.g. home_city" });
    const value = h("input", { name: "value", placeholder: "value" });
    root.replaceChildren(
      p.entries.length === 0 ? h("p", { class: "empty" }, "No profile entries yet.") :
        table(p.entries, [
          ["Key", (e) => e.key],
          ["Value", (e) => {
            const input = h("input", { class: "value", value: e.value, "aria-label": "value of " + e.key });
            return h("span", { class: "row" }, input,
              action("Save", () => edit({ set: { [e.key]: input.value } })));
          }],
          ["Memory", (e) => h("a", { href: memoryHref(space, e.memory_id) }, e.text)],
          ["Since", (e) => when(e.since)],
          ["", (e) => h("span", {}, e.edited ? badge("edited", "state") : "", " ",
            action("Unset", () => edit({ unset: [e.key] }), { class: "danger" }))],
        ], { class: "profile-entries" }),
      h("form", {
        class: "inline",
        onsubmit: async (ev) => {
          ev.preventDefault();
          try {
            await edit({ set: { [key.value.trim()]: value.value } });
          } catch (e) {
            root.append(errorBox(e));
          }
        },
      }, key, value, h("button", { type: "submit" }, "Add entry")),
      h("p", {}, h("label", {}, "Reason recorded with each edit: ", reason)));
  };
  render(await api("GET", path + query({ user })));
  return root;
}

// The context block for a query, as an agent's prompt would hold it, with its budget.
async function context(space, user, params) {
  const q = h("input", { name: "query", type: "search", value: params.get("q") || "",
                         placeholder: "what is the agent about to answer?" });
  const budget = h("input", { type: "range", name: "budget", min: 100, max: 4000, step: 100,
                              value: params.get("budget") || 1000 });
  const shown = h("output", {}, budget.value + " tokens");
  const out = h("div", { class: "context" });
  let timer = 0;
  const run = async () => {
    if (!q.value.trim()) {
      out.replaceChildren(h("p", { class: "empty" }, "Type a query to see the context block."));
      return;
    }
    try {
      const c = await api("POST", spacePath(space, "/context"),
                          { user, query: q.value.trim(), budget: Number(budget.value) });
      out.replaceChildren(h("p", { class: "count" }, c.tokens + " of " + budget.value + " tokens"),
                          h("pre", { class: "block" }, c.text));
    } catch (e) {
      out.replaceChildren(errorBox(e));
    }
  };
  const later = () => { clearTimeout(timer); timer = setTimeout(run, 250); };
  budget.addEventListener("input", () => { shown.textContent = budget.value + " tokens"; later(); });
  q.addEventListener("input", later);
  await run();
  return h("div", {}, h("div", { class: "filters" }, q, h("label", {}, "budget ", budget, " ", shown)), out);
}
