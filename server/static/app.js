// Chat page for the question-answering API. No framework, no build step, no external requests.
// All corpus and user text goes into the page as text nodes (textContent), never as HTML.
"use strict";

const MAX_HISTORY = 40; // messages sent back with a follow-up (the server's default limit is 50)

const state = {
  history: [], // [{role, content}] of answered turns, OpenAI convention
  pending: false,
  docs: new Map(), // doc_id -> document JSON (articles do not change while the page is open)
  activeChip: null,
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

function scrollToBottom() {
  const scroller = $("scroller");
  scroller.scrollTop = scroller.scrollHeight;
}

function addMessage(kind, children) {
  $("intro").hidden = true;
  const item = el("li", { className: `msg ${kind}` }, children);
  $("messages").append(item);
  scrollToBottom();
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
  addMessage("user", [el("div", { className: "bubble", text: question })]);
  const thinking = addMessage("assistant pending", [
    el("div", { className: "bubble", attrs: { "aria-label": "Looking for the answer" } }, [
      el("span", { className: "dot" }), el("span", { className: "dot" }), el("span", { className: "dot" }),
    ]),
  ]);
  try {
    const answer = await ask(question);
    thinking.remove();
    renderAnswer(answer);
    state.history.push({ role: "user", content: question }, { role: "assistant", content: answer.reply });
  } catch (error) {
    thinking.remove();
    addMessage("error", [el("div", { className: "bubble", text: error.message, attrs: { role: "alert" } })]);
  } finally {
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
  const parts = [line];
  if (answer.sentence && answer.sentence !== answer.answer) parts.push(quoteWithAnswer(answer));
  if (answer.note) parts.push(el("p", { className: "note", text: answer.note }));
  const sources = el("ol", { className: "sources" });
  for (const c of answer.citations) {
    const meta = metaText(c);
    sources.append(
      el("li", {}, [
        chip(c),
        el("span", { className: "source-title", text: c.title }),
        meta ? el("span", { className: "source-meta", text: meta }) : null,
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
  const parts = [el("p", { className: "statement", text: statement })];
  if (!answer.needs_clarification && answer.related && answer.related.length) {
    const list = el("ul", { className: "related" });
    for (const passage of answer.related.slice(0, 3)) {
      const snippet = passage.text.length > 220 ? `${passage.text.slice(0, 217).trimEnd()}…` : passage.text;
      const button = el("button", { className: "related-item", attrs: { type: "button" } }, [
        el("span", { className: "source-title", text: passage.title }),
        passage.date ? el("span", { className: "source-meta", text: passage.date }) : null,
        el("span", { className: "snippet", text: snippet }),
      ]);
      button.addEventListener("click", () => {
        openDocument(passage.doc_id, passage.start, passage.end, "Related passage", null);
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

async function openDocument(docId, start, end, label, chipButton) {
  if (state.activeChip) state.activeChip.setAttribute("aria-pressed", "false");
  state.activeChip = chipButton;
  if (chipButton) chipButton.setAttribute("aria-pressed", "true");
  const reader = $("reader");
  reader.classList.add("open");
  try {
    const doc = await fetchDocument(docId);
    $("reader-empty").hidden = true;
    $("doc").hidden = false;
    $("doc-label").textContent = label;
    $("doc-title").textContent = doc.title;
    $("doc-meta").textContent = [doc.source, doc.date, doc.url].filter(Boolean).join(" · ");
    const text = doc.text;
    const mark = el("mark", { text: text.slice(start, end), attrs: { id: "highlight" } });
    $("doc-text").replaceChildren(
      document.createTextNode(text.slice(0, start)),
      mark,
      document.createTextNode(text.slice(end)),
    );
    mark.scrollIntoView({ block: "center", behavior: "smooth" });
  } catch (error) {
    $("reader-empty").hidden = true;
    $("doc").hidden = false;
    $("doc-label").textContent = label;
    $("doc-title").textContent = "Article unavailable";
    $("doc-meta").textContent = "";
    $("doc-text").replaceChildren(el("p", { className: "doc-error", text: error.message, attrs: { role: "alert" } }));
  }
}

// ---------------------------------------------------------------------------------------------------
// Wiring

function newConversation() {
  state.history = [];
  $("messages").replaceChildren();
  $("intro").hidden = false;
  $("doc").hidden = true;
  $("reader-empty").hidden = false;
  $("reader").classList.remove("open");
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
  checkHealth();
  input.focus();
});
