// Links between views: href("/spaces/s", {user: "u"}) -> "#/spaces/s?user=u".
export function href(path, params = {}) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v !== undefined && v !== null && v !== "" && v !== false) q.set(k, v);
  }
  const s = q.toString();
  return "#" + path + (s ? "?" + s : "");
}

export function go(path, params) {
  window.location.hash = href(path, params).slice(1);
}

export function spaceHref(space, rest = "", params = {}) {
  return href("/spaces/" + encodeURIComponent(space) + rest, params);
}

export function memoryHref(space, id) {
  return spaceHref(space, "/memories/" + id);
}

export function userHref(space, user, params = {}) {
  return spaceHref(space, "/users/" + encodeURIComponent(user), params);
}
