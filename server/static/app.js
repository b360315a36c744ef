// Chat page for the question-answering API. No framework, no build step, no external requests.
// All corpus and user text goes into the page as text nodes (textContent), never as HTML.
"use strict";

const MAX_HISTORY = 40; // messages sent back with a follow-up (the server's default limit is 50)
const SNIPPET_CHARS = 220; // a related passage's preview
// Below this width the article opens as a sheet over the conversation (matches the CSS breakpoint).
const NARROW = window.matchMedia("(max-width: 860px)");
const REDUCED_MOTION = window.matchMedia("(prefers-reduced-motion: reduce)");

const state = {
  history: [], // [{role, content}] of answered turns, OpenAI convention
  pending: false,
  docs: new Map(), // doc_id -> document JSON (articles do not change while the page is open)
  activeChip: null,
  opener: null, // the button that opened the article, where focus returns when it closes
  opening: 0, // counts article openings, so that a slow fetch can't show an article over a later one
};

const $ = (id) => document.getElementById(id);

/** Build an element; `text` is set with textContent, children are appended as nodes. */
function el(tag, opts = {}, children = []) {
  const node = document.createElement(tag);
  if (opts.className) node.className = opts.className;
  if (opts.text !== undefined && opts.text !== null) node.textContent = String(opts.text);
  for (const [name, value] of Object.entries(opts.attrs || {})) node.setAttribute(name, value);
  for (const child of children) {
    if (child !== null && child !== undefined) node.append(child);
  }
  return node;
}

/** `text` cut to at most `max` characters, ellipsis included, at a word boundary. */
function preview(text, max) {
  text = text.trim();
  if (text.length <= max) return text;
  let cut = text.slice(0, max - 1); // room for the ellipsis
  if (/\S/.test(text[cut.length])) {
    // The cut splits a word: end before it (unless that loses too much, as inside a long URL).
    const space = cut.search(/\s\S*$/);
    if (space > max / 2) cut = cut.slice(0, space);
  }
  return `${cut.replace(/[\s,;:.(\u201c\u2018\u2013\u2014-]+$/, "")}…`;
}

function scrollToBottom() {
  const scroller = $("scroller");
  scroller.scrollTop = scroller.scrollHeight;
}

/** Scroll the conversation (only it, not the page) so that `item` is at the top of its view. */
function scrollToTop(item) {
  const scroller = $("scroller");
  const gap = 12; // keep a little of the previous message in sight above the question
  scroller.scrollTop += item.getBoundingClientRect().top - scroller.getBoundingClientRect().top - gap;
}

function addMessage(kind, children) {
  $("intro").hidden = true;
  const item = el("li", { className: `msg ${kind}` }, children);
  $("messages").append(item);
  return item;
}

// ---------------------------------------------------------------------------------------------------
// Server status

async function checkHealth() {
  const status = $("status");
  try {
    const response = await fetch("/health", { cache: "no-store" });
    const body = await response.json().catch(() => ({}));
    if (response.ok && body.status === "ready") {
      status.textContent = `Ready · ${body.documents} articles`;
      status.className = "status status-ready";
      return;
    }
    if (body.status === "error") {
      status.textContent = "Index failed to load";
      status.className = "status status-error";
      status.title = body.detail || "";
      return;
    }
    status.textContent = "Loading the index…";
    status.className = "status status-loading";
  } catch {
    status.textContent = "Server unreachable";
    status.className = "status status-error";
  }
  setTimeout(checkHealth, 3000); // keep checking until ready
}

// ---------------------------------------------------------------------------------------------------
// Asking

async function ask(question) {
  const body = { question };
  if (state.history.length) body.history = state.history.slice(-MAX_HISTORY);
  let response;
  try {
    response = await fetch("/api/ask", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
    });
  } catch {
    throw new Error("Can't reach the server. Check that it is running, then try again.");
  }
  const data = await response.json().catch(() => null);
  if (!response.ok) {
    const detail = data && data.detail ? data.detail : response.statusText;
    if (response.status === 503) throw new Error(`The server isn't ready yet: ${detail}`);
    throw new Error(`The server couldn't answer (${response.status}): ${detail}`);
  }
  if (!data) throw new Error("The server sent a response this page can't read.");
  return data;
}

async function submitQuestion(question) {
  question = question.trim();
  if (!question || state.pending) return;
  state.pending = true;
  $("send").disabled = true;
  const asked = addMessage("user", [el("div", { className: "bubble", text: question })]);
  // A status with real text: an aria-label on a plain div is never read out.
  const thinking = addMessage("assistant pending", [
    el("div", { className: "bubble", attrs: { role: "status" } }, [
      el("span", { className: "dot", attrs: { "aria-hidden": "true" } }),
      el("span", { className: "dot", attrs: { "aria-hidden": "true" } }),
      el("span", { className: "dot", attrs: { "aria-hidden": "true" } }),
      el("span", { className: "sr-only", text: "Looking for the answer…" }),
    ]),
  ]);
  scrollToBottom();
  try {
    const answer = await ask(question);
    thinking.remove();
    renderAnswer(answer);
    state.history.push({ role: "user", content: question }, { role: "assistant", content: answer.reply });
  } catch (error) {
    thinking.remove();
    addMessage("error", [el("div", { className: "bubble", text: error.message, attrs: { role: "alert" } })]);
  } finally {
    // The reply is read from its start (with the question above it), not from its end.
    scrollToTop(asked);
    state.pending = false;
    $("send").disabled = false;
    $("question").focus();
  }
}

// ---------------------------------------------------------------------------------------------------
// Rendering answers

function chip(citation) {
  const button = el("button", {
    className: "chip",
    text: citation.index,
    attrs: {
      type: "button",
      title: `Open [${citation.index}] ${citation.title}`,
      "aria-label": `Citation ${citation.index}: ${citation.title}`,
      "aria-pressed": "false",
      "data-doc-id": citation.doc_id,
    },
  });
  button.addEventListener("click", () => {
    openDocument(citation.doc_id, citation.start, citation.end, `Citation [${citation.index}]`, button);
  });
  return button;
}

function metaText(item) {
  return [item.source, item.date].filter(Boolean).join(" · ");
}

/** The supporting sentence, with the short answer inside it emphasised (offsets are into the document). */
function quoteWithAnswer(answer) {
  const first = answer.citations[0];
  const quote = el("blockquote", { className: "quote" });
  const sentence = first.quote;
  const from = answer.answer_start - first.start;
  const to = answer.answer_end - first.start;
  if (Number.isInteger(from) && Number.isInteger(to) && from >= 0 && to <= sentence.length && from < to) {
    quote.append(
      document.createTextNode(sentence.slice(0, from)),
      el("strong", { text: sentence.slice(from, to) }),
      document.createTextNode(sentence.slice(to)),
    );
  } else {
    quote.textContent = sentence;
  }
  return quote;
}

/** "Understood as: …" when a follow-up was rewritten with earlier turns, or null when it was taken as asked. */
function understoodAs(answer) {
  const squash = (text) => (text || "").replace(/\s+/g, " ").trim();
  const asked = squash(answer.question);
  const resolved = squash(answer.resolved_question);
  if (!resolved || resolved === asked) return null;
  // What was added from the conversation is set apart from the words the person typed.
  const parts = resolved.startsWith(asked)
    ? [asked, " ", el("span", { className: "added", text: resolved.slice(asked.length).trim() })]
    : [resolved];
  return el("p", { className: "understood", attrs: { title: resolved } }, [
    el("span", { className: "understood-label", text: "Understood as: " }),
    ...parts,
  ]);
}

function renderAnswer(answer) {
  if (answer.abstained) {
    renderAbstention(answer);
    return;
  }
  const long = answer.answer.length > 80;
  const line = el("p", { className: long ? "answer-line long" : "answer-line" }, [
    el("span", { className: "answer-text", text: answer.answer }),
    " ",
    ...answer.citations.slice(0, 1).map(chip),
  ]);
  const parts = [understoodAs(answer), line];
  if (answer.sentence && answer.sentence !== answer.answer) parts.push(quoteWithAnswer(answer));
  if (answer.note) parts.push(el("p", { className: "note", text: answer.note }));
  const sources = el("ol", { className: "sources" });
  for (const c of answer.citations) {
    const meta = metaText(c);
    sources.append(
      el("li", {}, [
        chip(c),
        el("span", { className: "source-text" }, [
          el("span", { className: "source-title", text: c.title }),
          meta ? el("span", { className: "source-meta", text: meta }) : null,
        ]),
      ]),
    );
  }
  parts.push(el("div", { className: "sources-block" }, [el("h3", { text: "Sources" }), sources]));
  parts.push(el("p", { className: "confidence", text: `Confidence ${Math.round(answer.confidence * 100)}%` }));
  addMessage("assistant answered", [el("div", { className: "bubble" }, parts)]);
}

function renderAbstention(answer) {
  // The first paragraph of the reply is the plain statement ("The articles don't say. …").
  const statement = answer.reply.split("\n\n")[0];
  const kind = answer.needs_clarification ? "clarify" : "abstained";
  const parts = [understoodAs(answer), el("p", { className: "statement", text: statement })];
  if (!answer.needs_clarification && answer.related && answer.related.length) {
    const list = el("ul", { className: "related" });
    for (const passage of answer.related.slice(0, 3)) {
      const snippet = preview(passage.text, SNIPPET_CHARS);
      const button = el("button", { className: "related-item", attrs: { type: "button" } }, [
        el("span", { className: "source-title", text: passage.title }),
        passage.date ? el("span", { className: "source-meta", text: passage.date }) : null,
        el("span", { className: "snippet", text: snippet }),
      ]);
      button.addEventListener("click", () => {
        openDocument(passage.doc_id, passage.start, passage.end, "Related passage", button);
      });
      list.append(el("li", {}, [button]));
    }
    parts.push(el("h3", { text: "Closest passages (they do not answer it)" }), list);
  }
  addMessage(`assistant ${kind}`, [el("div", { className: "bubble" }, parts)]);
}

// ---------------------------------------------------------------------------------------------------
// The cited article

async function fetchDocument(docId) {
  if (state.docs.has(docId)) return state.docs.get(docId);
  let response;
  try {
    response = await fetch(`/api/documents/${encodeURIComponent(docId)}`);
  } catch {
    throw new Error("Can't reach the server to open the article.");
  }
  const data = await response.json().catch(() => null);
  if (!response.ok || !data) {
    throw new Error(`Couldn't open the article (${response.status}): ${(data && data.detail) || response.statusText}`);
  }
  state.docs.set(docId, data);
  return data;
}

/** Open the article in the reader (a sheet over the conversation on narrow screens), quote highlighted.
 * `opener` is the button clicked: a citation chip shows itself pressed, and focus returns to it on close. */
async function openDocument(docId, start, end, label, opener) {
  if (state.activeChip) state.activeChip.setAttribute("aria-pressed", "false");
  state.activeChip = opener && opener.classList.contains("chip") ? opener : null;
  if (state.activeChip) state.activeChip.setAttribute("aria-pressed", "true");
  state.opener = opener;
  $("reader").classList.add("open");
  $("reader-empty").hidden = true;
  $("doc").hidden = false;
  syncSheet();
  $("doc-label").textContent = label;
  $("doc-title").textContent = "Opening the article…";
  $("doc-meta").textContent = "";
  $("doc-text").replaceChildren();
  const ticket = ++state.opening;
  let mark = null;
  try {
    const doc = await fetchDocument(docId);
    if (ticket !== state.opening || $("doc").hidden) return; // another article was opened, or this one closed
    $("doc-title").textContent = doc.title;
    $("doc-meta").textContent = [doc.source, doc.date, doc.url].filter(Boolean).join(" · ");
    const text = doc.text;
    mark = el("mark", { text: text.slice(start, end), attrs: { id: "highlight" } });
    $("doc-text").replaceChildren(
      document.createTextNode(text.slice(0, start)),
      mark,
      document.createTextNode(text.slice(end)),
    );
    announce(`Opened article: ${doc.title}, quoted passage highlighted.`);
  } catch (error) {
    if (ticket !== state.opening || $("doc").hidden) return;
    $("doc-title").textContent = "Article unavailable";
    $("doc-meta").textContent = "";
    $("doc-text").replaceChildren(el("p", { className: "doc-error", text: error.message, attrs: { role: "alert" } }));
  }
  $("doc-title").focus({ preventScroll: true });
  if (mark) centreIn($("doc-text"), mark);
}

/** Scroll `box` (only it: scrollIntoView would also move the page and the sheet) to centre `target`. */
function centreIn(box, target) {
  const top = target.getBoundingClientRect().top - box.getBoundingClientRect().top + box.scrollTop;
  box.scrollTo({
    top: top - (box.clientHeight - target.offsetHeight) / 2,
    behavior: REDUCED_MOTION.matches ? "auto" : "smooth",
  });
}

function closeReader() {
  const reader = $("reader");
  if (!reader.classList.contains("open")) return;
  reader.classList.remove("open");
  $("doc").hidden = true;
  $("reader-empty").hidden = false;
  if (state.activeChip) state.activeChip.setAttribute("aria-pressed", "false");
  state.activeChip = null;
  syncSheet();
  const back = state.opener && state.opener.isConnected ? state.opener : $("question");
  state.opener = null;
  back.focus();
}

/** While the article is a sheet over the conversation, what lies under it can't be reached (it is modal). */
function syncSheet() {
  const modal = NARROW.matches && $("reader").classList.contains("open");
  for (const node of [$("chat"), document.querySelector(".topbar")]) node.inert = modal;
}

function announce(message) {
  // Cleared first so that the same message twice is still read out.
  const region = $("announcer");
  region.textContent = "";
  setTimeout(() => { region.textContent = message; }, 50);
}

// ---------------------------------------------------------------------------------------------------
// Wiring

function newConversation() {
  state.history = [];
  $("messages").replaceChildren();
  $("intro").hidden = false;
  state.opener = null;
  closeReader();
  $("question").value = "";
  $("question").focus();
}

function autoGrow(textarea) {
  textarea.style.height = "auto";
  textarea.style.height = `${Math.min(textarea.scrollHeight, 160)}px`;
}

document.addEventListener("DOMContentLoaded", () => {
  const form = $("ask-form");
  const input = $("question");
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const question = input.value;
    if (!question.trim() || state.pending) return;
    input.value = "";
    autoGrow(input);
    submitQuestion(question);
  });
  input.addEventListener("keydown", (event) => {
    // Enter asks; Shift+Enter adds a line.
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      form.requestSubmit();
    }
  });
  input.addEventListener("input", () => autoGrow(input));
  for (const button of document.querySelectorAll(".suggestion")) {
    button.addEventListener("click", () => submitQuestion(button.textContent));
  }
  $("new-chat").addEventListener("click", newConversation);
  $("close-reader").addEventListener("click", closeReader);
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && $("reader").classList.contains("open")) {
      event.preventDefault();
      closeReader();
    }
  });
  NARROW.addEventListener("change", syncSheet);
  checkHealth();
  input.focus();
});
