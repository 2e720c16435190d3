// The HTTP API as the UI uses it: the same routes and keys as any client (docs/api.md).
// The key lives in sessionStorage: it is forgotten when the tab closes.

const KEY = "mnemo.key";

export function apiKey() {
  return sessionStorage.getItem(KEY) || "";
}

export function setApiKey(key) {
  if (key) sessionStorage.setItem(KEY, key);
  else sessionStorage.removeItem(KEY);
}

// An error answer of the API: its status, code ("not_found"), message and field.
export class ApiError extends Error {
  constructor(status, code, message, field) {
    super(message);
    this.status = status;
    this.code = code;
    this.field = field || "";
  }
}

export async function api(method, path, body) {
  const headers = { Accept: "application/json" };
  const key = apiKey();
  if (key) headers.Authorization = "Bearer " + key;
  const init = { method, headers };
  if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(path, init);
  } catch (e) {
    throw new ApiError(0, "unreachable", "the server cannot be reached (" + e.message + ")");
  }
  const text = await response.text();
  let data = null;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      throw new ApiError(response.status, "bad_answer",
                         "the server answered " + response.status + " with something that is not JSON");
    }
  }
  if (!response.ok) {
    const e = (data && data.error) || {};
    throw new ApiError(response.status, e.code || "http_" + response.status,
                       e.message || response.statusText, e.field);
  }
  return data;
}

// Path pieces: a space name, user or cursor inside a URL.
export const enc = encodeURIComponent;

export function spacePath(space, rest = "") {
  return "/v1/spaces/" + enc(space) + rest;
}

export function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v !== undefined && v !== null && v !== "" && v !== false) q.set(k, String(v));
  }
  const s = q.toString();
  return s ? "?" + s : "";
}
