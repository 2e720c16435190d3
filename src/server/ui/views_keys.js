// API keys (admin on "*"): list, create (the secret is shown once) and revoke.
import { api, apiKey, setApiKey } from "./api.js";
import { action, badge, errorBox, h, table, when } from "./dom.js";

// "notes:write, *:read" -> {"notes": "write", "*": "read"}
function parseGrants(text) {
  const grants = {};
  for (const part of text.split(",").map((s) => s.trim()).filter(Boolean)) {
    const colon = part.lastIndexOf(":");
    grants[colon < 0 ? part : part.slice(0, colon)] = colon < 0 ? "" : part.slice(colon + 1);
  }
  return grants;
}

export async function keysPage() {
  const root = h("section", { class: "keys" });
  const fill = async (created) => {
    const { keys } = await api("GET", "/v1/keys");
    const name = h("input", { name: "name", placeholder: "name, e.g. support bot", required: true });
    const grants = h("input", { name: "grants", placeholder: "space:role, e.g. notes:write, *:read",
                                required: true, size: 36 });
    const user = h("input", { name: "user", placeholder: "end user (optional)" });
    const deny = h("input", { name: "deny_labels", size: 28,
                              placeholder: "labels it never sees, e.g. health,finance" });
    const result = h("div");
    root.replaceChildren(
      h("h1", {}, "API keys"),
      h("p", { class: "count" }, "A key holds a role (read, write, admin) per space; ",
        h("code", {}, "*"), " means every space. A key bound to an end user acts as that user only. ",
        "Only the key's hash is stored."),
      created ? newKeyBox(created) : "",
      keys.length === 0 ? h("p", { class: "empty" }, "No keys: the server answers loopback only, without keys.")
        : table(keys, [
          ["Id", (k) => k.id], ["Name", (k) => k.name],
          ["Grants", (k) => Object.entries(k.grants).map(([s, r]) => s + ":" + r).join(", ")],
          ["User", (k) => k.user ?? "every user"],
          ["Never sees", (k) => (k.deny_labels || []).join(", ")],
          ["Created", (k) => when(k.created_at)],
          ["", (k) => k.revoked_at ? badge("revoked " + when(k.revoked_at), "state")
            : action("Revoke", async () => {
              if (!window.confirm("Revoke key " + k.id + " (" + k.name + ")? Calls with it will fail.")) return "";
              await api("DELETE", "/v1/keys/" + encodeURIComponent(k.id));
              await fill(null);
              return "";
            }, { class: "danger" })],
        ], { class: "key-list" }),
      h("h2", {}, "New key"),
      h("form", {
        class: "inline",
        onsubmit: async (ev) => {
          ev.preventDefault();
          try {
            const body = { name: name.value.trim(), grants: parseGrants(grants.value) };
            if (user.value.trim()) body.user = user.value.trim();
            const labels = deny.value.split(",").map((s) => s.trim()).filter((s) => s);
            if (labels.length) body.deny_labels = labels;
            const k = await api("POST", "/v1/keys", body);
            await fill(k).catch(() => root.prepend(newKeyBox(k)));  // a first key locks the page out
          } catch (e) {
            result.replaceChildren(errorBox(e));
          }
        },
      }, name, grants, user, deny, h("button", { type: "submit" }, "Create key")),
      result);
  };
  await fill(null);
  return root;
}

function newKeyBox(k) {
  const use = h("button", {
    type: "button",
    onclick: () => {
      setApiKey(k.key);
      use.replaceWith(h("span", {}, "This tab now uses it."));
    },
  }, "Use this key in this tab");
  return h("div", { class: "new-key", role: "status" },
    h("p", {}, "Key ", h("strong", {}, k.name), " created. Copy it now: it is not shown again."),
    h("pre", { class: "secret" }, k.key), apiKey() === k.key ? "" : use);
}
