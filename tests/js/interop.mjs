// A second client of Đồng Hành's sync protocol, written only from docs/sync-protocol.md
// with the official JavaScript automerge package: it signs in, pulls the households in its
// scope, logs a visit in one of them and pushes it. It prints one JSON line of what it saw;
// the Rust test (tests/tests/interop.rs) checks that the server merged the visit.
//
// Usage: node interop.mjs <server url> <username> <password> <household id> <visit id>

import * as Automerge from "@automerge/automerge";

const [server, username, password, householdId, visitId] = process.argv.slice(2);
const deviceId = "js-interop-device";

const b64 = {
  encode: (bytes) => Buffer.from(bytes).toString("base64").replace(/=+$/, ""),
  decode: (text) => new Uint8Array(Buffer.from(text, "base64")),
};

// 64-bit FNV-1a over the sorted ids, each followed by a 0 byte, as 16 hex digits.
function held(ids) {
  const prime = 0x100000001b3n;
  const mask = (1n << 64n) - 1n;
  let h = 0xcbf29ce484222325n;
  for (const id of [...ids].sort()) {
    for (const byte of [...Buffer.from(id, "utf8"), 0]) {
      h ^= BigInt(byte);
      h = (h * prime) & mask;
    }
  }
  return { count: ids.length, digest: h.toString(16).padStart(16, "0") };
}

async function post(path, body, token) {
  const response = await fetch(server + path, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: JSON.stringify(body),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${path} answered ${response.status}: ${text}`);
  return JSON.parse(text);
}

const login = await post("/api/auth/login", { username, password, device_id: deviceId });
const token = login.access_token;
const userId = login.user.id;

// The device's state: documents, the heads the server confirmed, and the cursor.
const docs = new Map();
const synced = new Map();
let cursor = 0;
let requests = 0;

async function sync(pushes) {
  requests += 1;
  const response = await post(
    "/api/sync",
    { protocol: 1, cursor, pushes, held: held([...docs.keys()]), want: [] },
    token,
  );
  for (const update of response.docs) {
    const bytes = b64.decode(update.bytes);
    const current = docs.get(update.doc_id);
    const doc =
      update.snapshot || !current ? Automerge.load(bytes) : Automerge.loadIncremental(current, bytes);
    docs.set(update.doc_id, doc);
    synced.set(update.doc_id, update.heads);
  }
  for (const ack of response.acks) synced.set(ack.doc_id, ack.heads);
  cursor = Math.max(cursor, response.cursor);
  return response;
}

// Fresh pull, page by page.
let page;
do {
  page = await sync([]);
} while (page.more);

const before = docs.get(householdId);
if (!before) throw new Error(`household ${householdId} not in scope: ${[...docs.keys()]}`);
const code = before.profile.code;

// Log a visit the way the phone does: a new record in the visits map, plain strings.
const s = (text) => new Automerge.ImmutableString(text);
const after = Automerge.change(
  before,
  { message: JSON.stringify({ u: userId, d: deviceId }), time: Math.floor(Date.now() / 1000) },
  (d) => {
    d.visits[visitId] = {
      date: s("2026-11-21"),
      discussed: s("Ghi từ ứng dụng JavaScript: hướng dẫn ủ phân chuồng"),
      progress: s(""),
      needs: s("Cần giống ngô"),
      next_visit: s("2026-12-05"),
      cadre_id: s(userId),
    };
    // And one with the package's default strings, which are collaborative text objects:
    // the protocol reads a text object as its text.
    d.visits[`${visitId}-text`] = {
      date: "2026-11-22",
      discussed: "Ghi bằng chuỗi mặc định của gói JavaScript",
      progress: "",
      needs: "Cần phân bón",
      next_visit: "2026-12-06",
      cadre_id: userId,
    };
  },
);
docs.set(householdId, after);

const push = await sync([
  {
    doc_id: householdId,
    heads: Automerge.getHeads(after),
    changes: b64.encode(Automerge.saveSince(after, synced.get(householdId) ?? [])),
  },
]);

// Reconnecting with nothing new.
const again = await sync([]);

console.log(
  JSON.stringify({
    households: docs.size,
    code,
    acked: push.acks.map((a) => a.doc_id),
    refused: push.refused,
    requests,
    noop_docs: again.docs.length,
  }),
);
