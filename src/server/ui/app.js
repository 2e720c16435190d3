// The mnemo web UI: a hash router over the views, the API key field and the banner.
// Every view is a deep link: #/spaces/{space}?user=U&q=QUERY shows a search.
import { apiKey, setApiKey } from "./api.js";
import { h, errorBox } from "./dom.js";
import { href } from "./nav.js";
import { activityPage, memoriesPage, spacesPage, usersPage } from "./views_space.js";
import { memoryPage } from "./views_memory.js";
import { userPage } from "./views_user.js";
import { keysPage } from "./views_keys.js";

const ROUTES = [
  [/^\/$/, spacesPage],
  [/^\/keys$/, keysPage],
  [/^\/spaces\/([^/]+)$/, memoriesPage],
  [/^\/spaces\/([^/]+)\/users$/, usersPage],
  [/^\/spaces\/([^/]+)\/users\/([^/]+)$/, userPage],
  [/^\/spaces\/([^/]+)\/memories\/(\d+)$/, memoryPage],
  [/^\/spaces\/([^/]+)\/activity$/, activityPage],
];

// "#/spaces/a%20b?user=u" -> {path: "/spaces/a%20b", params}
function location_() {
  const hash = window.location.hash.replace(/^#/, "") || "/";
  const q = hash.indexOf("?");
  return {
    path: q < 0 ? hash : hash.slice(0, q),
    params: new URLSearchParams(q < 0 ? "" : hash.slice(q + 1)),
  };
}

let generation = 0;

async function render() {
  const { path, params } = location_();
  const main = document.getElementById("view");
  const crumbs = document.getElementById("crumbs");
  const mine = ++generation;
  banner(null);
  const route = ROUTES.find(([re]) => re.test(path));
  if (!route) {
    main.replaceChildren(h("p", {}, "No such page: ", path, ". ", h("a", { href: "#/" }, "Spaces")));
    return;
  }
  const args = path.match(route[0]).slice(1).map(decodeURIComponent);
  crumbs.replaceChildren(...crumbTrail(args, path));
  const view = h("div", { class: "loading" }, "Loading…");
  main.replaceChildren(view);
  try {
    const page = await route[1]({ args, params, stale: () => mine !== generation });
    if (mine === generation) main.replaceChildren(page);
  } catch (e) {
    if (mine !== generation) return;
    if (e.status === 401) {
      banner(apiKey() ? "The server refused this API key. Enter another one above."
                      : "This server needs an API key: enter it above.");
      document.getElementById("key").focus();
    }
    main.replaceChildren(errorBox(e));
  }
}

function crumbTrail(args, path) {
  const out = [h("a", { href: "#/" }, "spaces")];
  if (path === "/keys") out.push(" / API keys");
  if (!path.startsWith("/spaces/")) return out;
  const space = args[0];
  out.push(" / ", h("a", { href: href("/spaces/" + encodeURIComponent(space)) }, space));
  if (/\/users\/[^/]+$/.test(path)) {
    out.push(" / ", h("a", { href: href("/spaces/" + encodeURIComponent(space) + "/users") }, "users"),
             " / ", args[1]);
  } else if (/\/memories\//.test(path)) {
    out.push(" / memory ", args[1]);
  }
  return out;
}

function banner(text) {
  const el = document.getElementById("banner");
  el.hidden = !text;
  el.textContent = text || "";
}

function keyField() {
  const input = document.getElementById("key");
  input.placeholder = apiKey() ? "a key is set (hidden)" : "none on loopback";
  document.getElementById("key-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    setApiKey(input.value.trim());
    input.value = "";
    input.placeholder = apiKey() ? "a key is set (hidden)" : "none on loopback";
    render();
  });
  document.getElementById("key-clear").addEventListener("click", () => {
    setApiKey("");
    input.value = "";
    input.placeholder = "none on loopback";
    render();
  });
}

window.addEventListener("hashchange", render);
keyField();
render();
