// Views of the spaces and of one space: its memories (list and search), its users, and
// its activity (pipeline jobs, usage, maintenance).
import { api, query, spacePath } from "./api.js";
import { action, badge, errorBox, fields, h, table, tabs, when } from "./dom.js";
import { go, memoryHref, spaceHref, userHref } from "./nav.js";

const KINDS = ["episode", "fact", "preference", "procedure", "summary"];

export async function spacesPage() {
  const { spaces } = await api("GET", "/v1/spaces");
  const name = h("input", { name: "name", placeholder: "new space name", required: true });
  const created = h("span");
  const form = h("form", {
    class: "inline",
    onsubmit: async (ev) => {
      ev.preventDefault();
      try {
        await api("POST", "/v1/spaces", { name: name.value.trim() });
        go("/spaces/" + encodeURIComponent(name.value.trim()));
      } catch (e) {
        created.replaceChildren(errorBox(e));
      }
    },
  }, name, h("button", { type: "submit" }, "Create space"), created);
  return h("section", {},
    h("h1", {}, "Spaces"),
    spaces.length === 0
      ? h("p", { class: "empty" }, "No spaces yet.")
      : table(spaces, [
          ["Space", (s) => h("a", { href: spaceHref(s.name) }, s.name)],
          ["Memories", (s) => s.memories],
        ], { class: "spaces" }),
    form,
    h("p", {}, h("a", { href: "#/keys" }, "API keys"), " (admin)"));
}

export function spaceTabs(space, current) {
  return tabs([
    ["Memories", spaceHref(space), current === "memories"],
    ["Users", spaceHref(space, "/users"), current === "users"],
    ["Activity", spaceHref(space, "/activity"), current === "activity"],
  ]);
}

// The memories of a space: listed newest first with filters, or searched (?q=).
export async function memoriesPage({ args: [space], params }) {
  const p = Object.fromEntries(params);
  const q = h("input", { name: "q", type: "search", placeholder: "search…", value: p.q || "" });
  const user = h("input", { name: "user", placeholder: "user (all)", value: p.user || "" });
  const kind = h("select", { name: "kind" }, h("option", { value: "" }, "any kind"),
                 KINDS.map((k) => h("option", { value: k, selected: p.kind === k }, k)));
  const retired = h("input", { type: "checkbox", name: "retired", checked: p.retired === "1" });
  // Text from a tool or the web that reads as instructions to the agent is quarantined.
  const quarantined = h("select", { name: "quarantined" },
    [["", "without quarantined"], ["include", "with quarantined"], ["only", "quarantined only"]]
      .map(([v, label]) => h("option", { value: v, selected: (p.quarantined || "") === v }, label)));
  const form = h("form", {
    class: "filters",
    onsubmit: (ev) => {
      ev.preventDefault();
      go("/spaces/" + encodeURIComponent(space), {
        q: q.value.trim(), user: user.value.trim(), kind: kind.value,
        retired: retired.checked ? "1" : "", quarantined: quarantined.value,
      });
    },
  }, q, user, kind, quarantined, h("label", {}, retired, " include removed"),
     h("button", { type: "submit" }, p.q ? "Search" : "Search / filter"));
  const body = p.q ? await searchResults(space, p) : await memoryList(space, p);
  return h("section", {}, h("h1", {}, space), spaceTabs(space, "memories"), form, body);
}

async function searchResults(space, p) {
  const req = { query: p.q, k: Number(p.k) || 20, explain: true };
  if (p.user) req.user = p.user;
  else req.all_users = true;
  if (p.kind) req.kinds = [p.kind];
  if (p.retired === "1") req.include_retired = true;
  if (p.quarantined) req.quarantined = p.quarantined;
  const { results } = await api("POST", spacePath(space, "/search"), req);
  if (results.length === 0) return h("p", { class: "empty" }, "Nothing matches.");
  // Bars share one scale: the largest total of contributions among the results.
  const total = (r) => (r.explain || []).reduce((s, e) => s + Math.max(0, e.contribution), 0);
  const scale = Math.max(...results.map(total)) || 1;
  return h("ol", { class: "results" }, results.map((r) => h("li", { class: "result" },
    h("div", { class: "meta" },
      h("span", { class: "score", title: "fused score" }, r.score.toFixed(4)), " ",
      badge(r.kind), " ", r.quarantined ? badge("quarantined") : "", " ",
      h("a", { href: userHref(space, r.user) }, r.user), " ",
      h("span", { class: "time" }, when(r.time))),
    h("a", { class: "text", href: memoryHref(space, r.id) }, r.text),
    h("div", { class: "explain" }, (r.explain || []).map((e) => h("div", { class: "signal" },
      h("span", { class: "name" }, e.signal),
      h("span", { class: "bar" }, h("span", {
        class: "fill " + (e.contribution < 0 ? "negative" : e.signal),
        style: { width: Math.min(100, 100 * Math.abs(e.contribution) / scale).toFixed(1) + "%" },
      })),
      h("span", { class: "value", title: "raw " + e.raw + ", rank " + e.rank },
        Math.abs(e.contribution) < 5e-5 ? "0" : e.contribution.toFixed(4))))))));
}

async function memoryList(space, p) {
  const rows = h("tbody");
  const more = h("div", { class: "more" });
  const count = h("p", { class: "count" });
  let loaded = 0;
  const load = async (cursor) => {
    const page = await api("GET", spacePath(space, "/memories") + query({
      user: p.user, kind: p.kind, include_retired: p.retired === "1" ? "true" : "",
      quarantined: p.quarantined, order: "desc", limit: 100, cursor,
    }));
    for (const m of page.memories) {
      rows.append(h("tr", { class: m.state !== "active" ? "retired" : "" },
        h("td", { class: "time" }, when(m.time || m.created_at)),
        h("td", {}, badge(m.kind)),
        h("td", {}, h("a", { href: userHref(space, m.user) }, m.user)),
        h("td", {}, h("a", { href: memoryHref(space, m.id) }, m.text)),
        h("td", {}, m.state === "active" ? "" : badge(m.state, "state"), " ",
          m.quarantined ? badge("quarantined") : "", (m.labels || []).map((l) => badge(l, "label")))));
    }
    loaded += page.memories.length;
    count.textContent = loaded === 0 ? "No memories." : loaded + " memories shown, newest first";
    more.replaceChildren(page.next_cursor
      ? action("Load more", () => load(page.next_cursor).then(() => ""))
      : "");
  };
  await load("");
  return h("div", {}, count, h("table", { class: "memories" },
    h("thead", {}, h("tr", {}, ["Time", "Kind", "User", "Text", ""].map((t) => h("th", {}, t)))),
    rows), more);
}

export async function usersPage({ args: [space] }) {
  const rows = h("tbody");
  const more = h("div", { class: "more" });
  const load = async (cursor) => {
    const page = await api("GET", spacePath(space, "/users") + query({ limit: 100, cursor }));
    for (const u of page.users) {
      rows.append(h("tr", {},
        h("td", {}, h("a", { href: userHref(space, u.user) }, u.user)),
        h("td", {}, u.memories),
        h("td", { class: "time" }, when(u.first_time)),
        h("td", { class: "time" }, when(u.last_time))));
    }
    more.replaceChildren(page.next_cursor
      ? action("Load more", () => load(page.next_cursor).then(() => ""))
      : "");
  };
  await load("");
  return h("section", {}, h("h1", {}, space), spaceTabs(space, "users"),
    h("table", { class: "users" },
      h("thead", {}, h("tr", {}, ["User", "Memories", "First", "Last"].map((t) => h("th", {}, t)))),
      rows), more);
}

function flat(obj) {
  return Object.entries(obj).map(([k, v]) =>
    [k, v !== null && typeof v === "object" ? JSON.stringify(v) : v]);
}

// Pipeline jobs, usage and maintenance of a space.
export async function activityPage({ args: [space], params }) {
  const state = params.get("state") || "";
  const [stats, jobStats, { jobs }] = await Promise.all([
    api("GET", spacePath(space)),
    api("GET", spacePath(space, "/jobs/stats")),
    api("GET", spacePath(space, "/jobs") + query({ state, limit: 50 })),
  ]);
  const stateLinks = ["", "pending", "done", "dead"].map((s) =>
    h("a", { href: spaceHref(space, "/activity", { state: s }), class: s === state ? "active" : "" },
      s || "all"));
  return h("section", {}, h("h1", {}, space), spaceTabs(space, "activity"),
    h("div", { class: "columns" },
      h("div", {}, h("h2", {}, "Usage"), fields(flat(stats))),
      h("div", {}, h("h2", {}, "Pipeline"), fields(flat(jobStats)),
        h("h2", {}, "Maintenance"),
        h("p", {}, "Saves recalls, expires what is due, purges, moves tiers (it also runs on its own)."),
        action("Run maintenance now", async () =>
          h("pre", {}, JSON.stringify(await api("POST", spacePath(space, "/maintain")), null, 1))),
        h("h2", {}, "Dead jobs"),
        action("Retry dead jobs", async () =>
          "retried: " + (await api("POST", spacePath(space, "/jobs/retry"), { all: true })).retried))),
    h("h2", {}, "Jobs ", h("span", { class: "filters-inline" }, stateLinks)),
    jobs.length === 0 ? h("p", { class: "empty" }, "No jobs.") : table(jobs, [
      ["Id", (j) => j.id], ["Kind", (j) => j.kind], ["State", (j) => badge(j.state, "state")],
      ["User", (j) => h("a", { href: userHref(space, j.user) }, j.user)],
      ["Session", (j) => j.session], ["Memories", (j) => j.memories],
      ["Attempts", (j) => j.attempts], ["Derived", (j) => j.derived],
      ["Updated", (j) => when(j.updated_at)], ["Error", (j) => j.last_error || ""],
    ], { class: "jobs" }));
}
