// The sandbox platform's web page: plain DOM, no framework, no build step.
// Every action is a JSON call to /api/; /api/events says when to read again.
"use strict";

const EMOJIS = ["👍", "❤️", "😂", "😮", "🙏"];
const state = {
  me: "",          // the user the person plays
  chat: "",        // the open chat: a user id or a group id
  users: [],
  view: null,      // the open chat as /api/chat returned it
  replyTo: null,   // {id, text} while answering a message
  editing: null,   // {id} while correcting one's own message
  read: new Set(), // messages already reported read
  typing: false,
  shown: "",       // whose presence the presence form shows
};

const $ = (id) => document.getElementById(id);

function el(tag, props, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(props || {})) {
    if (k === "class") e.className = v;
    else if (k === "text") e.textContent = v;
    else if (k.startsWith("data-") || k.startsWith("aria-") || k === "role") e.setAttribute(k, v);
    else e[k] = v;
  }
  for (const c of children) if (c) e.append(c);
  return e;
}

async function api(method, path, body) {
  const opts = { method, headers: {} };
  if (body !== undefined) {
    opts.headers["Content-Type"] = "application/json";
    opts.body = JSON.stringify(body);
  }
  const res = await fetch(path, opts);
  if (!res.ok) {
    let msg = res.statusText;
    try { msg = (await res.json()).error || msg; } catch (e) { /* not JSON */ }
    throw new Error(msg);
  }
  return res.status === 204 ? null : res.json();
}

function say(text) { $("status").textContent = text; }

async function act(fn) {
  try {
    say("");
    await fn();
  } catch (e) {
    say(e.message);
  }
}

function userName(id) {
  const u = state.users.find((x) => x.id === id);
  return u ? u.name : id;
}

function describe(u) {
  const kind = u.kind === "account" || u.linked ? "XMPP user" : u.kind;
  return `${u.name} (${u.id}, ${kind})`;
}

// --- the directory: who one plays, whom one can reach -------------------

async function loadUsers() {
  state.users = await api("GET", "/api/users");
  const people = state.users.filter((u) => u.kind === "human");
  if (!state.me || !people.some((u) => u.id === state.me)) {
    const saved = localStorage.getItem("sandbox.me");
    state.me = people.some((u) => u.id === saved) ? saved : (people[0] || {}).id || "";
  }
  fillSelect($("me"), people, state.me, (u) => `${u.name} (${u.id})`);
  const me = state.users.find((u) => u.id === state.me);
  if (me && state.shown !== me.id) {
    // The presence form shows the person's presence when one starts
    // playing them; afterwards it is the person's to edit.
    state.shown = me.id;
    $("pr-state").value = me.available ? "on" : "off";
    $("pr-status").value = me.status || "";
  }
  showImage($("me-avatar"), me && me.avatar);
  const others = state.users.filter((u) => u.id !== state.me);
  // Linked XMPP users first: they are whom a demonstration talks to.
  others.sort((a, b) => Number(b.linked) - Number(a.linked));
  fillSelect($("nc-peer"), others, $("nc-peer").value, describe);
  const box = $("ng-members");
  const checked = new Set([...box.querySelectorAll("input:checked")].map((i) => i.value));
  box.replaceChildren(...others.map((u, i) => {
    const id = `ng-m${i}`;
    const cb = el("input", { type: "checkbox", id, value: u.id, checked: checked.has(u.id) });
    return el("div", {}, cb, el("label", { htmlFor: id, text: describe(u) }));
  }));
}

// reconcile makes parent's children the rendering of items, in order,
// keeping the element of an item that did not change (same key, same
// data): a re-rendering keeps focus and what the person points at.
function reconcile(parent, items, key, render) {
  const old = new Map([...parent.children].map((c) => [c.dataset.key, c]));
  const next = items.map((it) => {
    const k = key(it);
    const sig = JSON.stringify(it);
    const prev = old.get(k);
    if (prev && prev.dataset.sig === sig) return prev;
    const e = render(it);
    e.dataset.key = k;
    e.dataset.sig = sig;
    return e;
  });
  if (next.length === parent.children.length && next.every((e, i) => parent.children[i] === e)) return;
  parent.replaceChildren(...next);
}

function showImage(img, src) {
  if (src) {
    if (img.getAttribute("src") !== src) img.src = src;
    img.hidden = false;
  } else {
    img.hidden = true;
    img.removeAttribute("src");
  }
}

function fillSelect(sel, users, value, label) {
  sel.replaceChildren(...users.map((u) => el("option", { value: u.id, text: label(u) })));
  if (users.some((u) => u.id === value)) sel.value = value;
}

// --- the chat list ------------------------------------------------------

async function loadChats() {
  if (!state.me) return;
  const chats = await api("GET", "/api/chats?as=" + encodeURIComponent(state.me));
  reconcile($("chats"), chats.map((c) => ({ ...c, current: c.id === state.chat })), (c) => c.id, (c) => {
    const b = el("button", { type: "button", "data-chat": c.id },
      c.avatar ? el("img", { class: "avatar", src: c.avatar, alt: "" }) : null,
      el("span", { class: "name", text: (c.group ? "👥 " : "") + c.name }),
      el("span", { class: "last", text: c.last || "" }));
    if (c.id === state.chat) b.setAttribute("aria-current", "true");
    b.addEventListener("click", () => openChat(c.id));
    return el("li", {}, b);
  });
}

function openChat(id) {
  if (state.chat !== id) {
    state.chat = id;
    state.replyTo = state.editing = null;
    state.typing = false;
    showContext();
  }
  act(async () => { await loadChats(); await loadChat(); $("body").focus(); });
}

// --- one chat -----------------------------------------------------------

async function loadChat() {
  if (!state.me || !state.chat) return;
  const q = "?as=" + encodeURIComponent(state.me) + "&with=" + encodeURIComponent(state.chat);
  const v = await api("GET", "/api/chat" + q);
  state.view = v;
  $("chat-title").textContent = (v.chat.group ? "👥 " : "") + v.chat.name;
  let sub = "";
  if (v.peer) {
    sub = `${v.peer.id} · ${v.peer.linked ? "XMPP user through Drawbridge" : v.peer.kind} · ${v.peer.available ? "online" : "offline"}`;
  } else {
    sub = v.topic ? "Topic: " + v.topic : "No topic";
  }
  $("chat-sub").textContent = sub;
  $("typing").textContent = v.typing ? `${v.chat.name} is typing…` : "";
  showImage($("chat-avatar"), v.chat.avatar);
  renderGroup(v);
  $("composer").hidden = false;
  reconcile($("messages"), v.messages, (m) => m.id, renderMessage);
  const last = $("messages").lastElementChild;
  if (last) last.scrollIntoView({ block: "nearest" });
  markRead(v);
}

// renderGroup shows a group's members, and to its admins the controls to
// change them and the topic.
function renderGroup(v) {
  $("group").hidden = !v.chat.group;
  if (!v.chat.group) return;
  $("topic").hidden = !v.admin;
  $("addmember").hidden = !v.admin;
  if (v.admin && document.activeElement !== $("gt-topic")) $("gt-topic").value = v.topic || "";
  const members = new Set(v.members.map((m) => m.id));
  fillSelect($("am-user"), state.users.filter((u) => !members.has(u.id)), $("am-user").value, describe);
  reconcile($("members"), v.members.map((m) => ({ ...m, admin: v.admin })), (m) => m.id, (m) => {
    const li = el("li", { "data-member": m.id }, el("span", { text: `${m.name} (${m.id}) — ${m.role}` }));
    const can = m.admin && m.role !== "owner" && m.id !== state.me;
    const action = (name, label) => {
      const b = el("button", { type: "button", class: "plain", text: label, "aria-label": `${label} ${m.name}`, "data-action": name });
      b.addEventListener("click", () => act(() => api("POST", "/api/groups/members",
        { as: state.me, group: state.chat, user: m.id, action: name })));
      return b;
    };
    if (can) {
      li.append(m.role === "admin" ? action("demote", "Demote") : action("promote", "Make admin"));
      li.append(action("remove", "Remove"));
    }
    return li;
  });
}

function renderMessage(m) {
  const li = el("li", { class: "msg" + (m.mine ? " mine" : ""), "data-id": m.id });
  li.append(el("div", { class: "from", text: m.mine ? "You" : m.fromName }));
  if (m.replyTo) {
    li.append(el("div", { class: "quote", "data-reply-to": m.replyTo, text: `${m.replyName}: ${m.replyQuote}` }));
  }
  if (m.retracted) {
    li.append(el("div", { class: "retracted", text: "This message was retracted." }));
  } else {
    if (m.body) li.append(el("div", { class: "body", text: m.body }));
    for (const f of m.files || []) li.append(renderFile(f));
  }
  const meta = el("div", { class: "meta" },
    el("time", { dateTime: m.time, text: new Date(m.time).toLocaleTimeString() }));
  if (m.edited && !m.retracted) meta.append(el("span", { class: "edited", text: "edited" }));
  if (m.status) {
    const ticks = { sent: "✓ sent", delivered: "✓✓ delivered", read: "✓✓ read" }[m.status];
    meta.append(el("span", { class: "tick", "data-status": m.status, "aria-label": m.status, title: m.status, text: ticks }));
  }
  li.append(meta);
  if (m.retracted) return li;
  if (m.reactions && m.reactions.length) {
    li.append(el("div", { class: "reactions", "aria-label": "Reactions" },
      ...m.reactions.map((r) => el("span", { class: "reaction", "data-emoji": r.emoji, title: r.users.join(", "),
        text: `${r.emoji} ${r.users.length}` }))));
  }
  const actions = el("div", { class: "actions" });
  for (const e of EMOJIS) {
    const mine = (m.reactions || []).some((r) => r.emoji === e && r.mine);
    const b = el("button", { type: "button", class: "plain" + (mine ? " chosen" : ""), text: e,
      "aria-label": (mine ? "Remove reaction " : "React with ") + e, "aria-pressed": String(mine) });
    b.addEventListener("click", () => act(() => api("POST", "/api/react",
      { as: state.me, to: state.chat, target: m.id, emoji: mine ? "" : e })));
    actions.append(b);
  }
  const reply = el("button", { type: "button", class: "plain action-reply", text: "Reply" });
  reply.addEventListener("click", () => {
    state.replyTo = { id: m.id, text: `${m.mine ? "You" : m.fromName}: ${m.body || (m.files && m.files[0] && m.files[0].name) || ""}` };
    state.editing = null;
    showContext();
  });
  actions.append(reply);
  if (m.mine) {
    const edit = el("button", { type: "button", class: "plain action-edit", text: "Edit" });
    edit.addEventListener("click", () => {
      state.editing = { id: m.id };
      state.replyTo = null;
      $("body").value = m.body;
      showContext();
    });
    const retract = el("button", { type: "button", class: "plain action-retract", text: "Retract" });
    retract.addEventListener("click", () => act(() => api("POST", "/api/retract", { as: state.me, to: state.chat, target: m.id })));
    actions.append(edit, retract);
  }
  li.append(actions);
  return li;
}

function renderFile(f) {
  if (f.kind === "image") return el("img", { src: f.url, alt: f.name });
  if (f.kind === "audio") return el("audio", { src: f.url, controls: true, "aria-label": f.name });
  if (f.kind === "video") return el("video", { src: f.url, controls: true, "aria-label": f.name });
  return el("a", { href: f.url, download: f.name, text: `📎 ${f.name} (${f.size} bytes)` });
}

function markRead(v) {
  if (v.chat.group || document.visibilityState === "hidden") return;
  const targets = v.messages.filter((m) => !m.mine && !m.retracted && !state.read.has(m.id)).map((m) => m.id);
  if (!targets.length) return;
  targets.forEach((id) => state.read.add(id));
  act(() => api("POST", "/api/read", { as: state.me, to: state.chat, targets }));
}

function showContext() {
  const c = state.editing ? "Editing your message" : state.replyTo ? "Replying to " + state.replyTo.text : "";
  $("context").hidden = !c;
  $("context-text").textContent = c;
  $("send").textContent = state.editing ? "Save edit" : "Send";
}

function setTyping(on) {
  if (state.typing === on || !state.chat || (state.view && state.view.chat.group)) return;
  state.typing = on;
  act(() => api("POST", "/api/typing", { as: state.me, to: state.chat, state: on ? "composing" : "active" }));
}

function readFile(file) {
  return new Promise((resolve, reject) => {
    const r = new FileReader();
    r.onload = () => resolve(String(r.result).split(",", 2)[1] || "");
    r.onerror = () => reject(new Error(`cannot read ${file.name}`));
    r.readAsDataURL(file);
  });
}

async function submit() {
  const body = $("body").value;
  if (state.editing) {
    await api("POST", "/api/edit", { as: state.me, to: state.chat, target: state.editing.id, body });
  } else {
    const req = { as: state.me, to: state.chat, body };
    if (state.replyTo) req.replyTo = state.replyTo.id;
    const f = $("file").files[0];
    if (f) req.file = { name: f.name, type: f.type, data: await readFile(f) };
    await api("POST", "/api/send", req);
  }
  $("body").value = "";
  $("file").value = "";
  state.replyTo = state.editing = null;
  showContext();
  setTyping(false);
}

// closeChat shows no chat.
function closeChat() {
  state.chat = "";
  state.view = null;
  $("composer").hidden = true;
  $("group").hidden = true;
  $("messages").replaceChildren();
  $("chat-title").textContent = "No chat open";
  $("chat-sub").textContent = "";
  $("typing").textContent = "";
  showImage($("chat-avatar"), "");
}

// --- wiring -------------------------------------------------------------

async function refresh() {
  await loadUsers();
  await loadChats();
  await loadChat();
}

// scheduleRefresh reads everything again after a change, one reading at a
// time: changes during a reading make one more.
let refreshing = false;
let again = false;
async function scheduleRefresh() {
  if (refreshing) { again = true; return; }
  refreshing = true;
  do {
    again = false;
    await act(refresh);
  } while (again);
  refreshing = false;
}

function start() {
  $("me").addEventListener("change", () => {
    state.me = $("me").value;
    localStorage.setItem("sandbox.me", state.me);
    closeChat();
    act(refresh);
  });
  $("who").addEventListener("submit", (e) => e.preventDefault());
  $("newuser").addEventListener("submit", (e) => {
    e.preventDefault();
    act(async () => {
      const u = await api("POST", "/api/users", { phone: $("nu-phone").value, name: $("nu-name").value });
      state.me = u.id;
      localStorage.setItem("sandbox.me", u.id);
      $("newuser").reset();
      await refresh();
      say(`You are now ${u.name} (${u.id}).`);
    });
  });
  $("newchat").addEventListener("submit", (e) => { e.preventDefault(); openChat($("nc-peer").value); });
  $("newgroup").addEventListener("submit", (e) => {
    e.preventDefault();
    act(async () => {
      const members = [...$("ng-members").querySelectorAll("input:checked")].map((i) => i.value);
      const g = await api("POST", "/api/groups", { as: state.me, name: $("ng-name").value, members });
      $("newgroup").reset();
      openChat(g.id);
    });
  });
  $("addmember").addEventListener("submit", (e) => {
    e.preventDefault();
    act(() => api("POST", "/api/groups/members", { as: state.me, group: state.chat, user: $("am-user").value, action: "add" }));
  });
  $("topic").addEventListener("submit", (e) => {
    e.preventDefault();
    act(() => api("POST", "/api/groups/settings", { as: state.me, group: state.chat, topic: $("gt-topic").value }));
  });
  $("leave").addEventListener("click", () => act(async () => {
    await api("POST", "/api/groups/members", { as: state.me, group: state.chat, user: state.me, action: "leave" });
    closeChat();
    await refresh();
  }));
  $("presence").addEventListener("submit", (e) => {
    e.preventDefault();
    act(() => api("POST", "/api/presence", { as: state.me, available: $("pr-state").value === "on", status: $("pr-status").value }));
  });
  $("avatar").addEventListener("submit", (e) => {
    e.preventDefault();
    act(async () => {
      const f = $("av-file").files[0];
      if (!f) throw new Error("Choose a PNG picture first.");
      await api("POST", "/api/avatar", { as: state.me, data: await readFile(f) });
      $("avatar").reset();
    });
  });
  $("composer").addEventListener("submit", (e) => { e.preventDefault(); act(submit); });
  $("body").addEventListener("keydown", (e) => {
    if (e.key === "Enter" && !e.shiftKey) { e.preventDefault(); act(submit); }
    if (e.key === "Escape") { state.replyTo = state.editing = null; showContext(); }
  });
  $("body").addEventListener("input", () => setTyping($("body").value !== ""));
  $("body").addEventListener("blur", () => setTyping(false));
  $("context-cancel").addEventListener("click", () => {
    state.replyTo = state.editing = null;
    $("body").value = "";
    showContext();
  });
  const events = new EventSource("/api/events");
  events.addEventListener("change", scheduleRefresh);
  events.addEventListener("error", () => say("Live updates interrupted; reconnecting…"));
  events.addEventListener("open", () => say(""));
}

document.addEventListener("DOMContentLoaded", start);
