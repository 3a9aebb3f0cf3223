// Keydesk's own script: small enhancements on top of server-rendered pages
// and htmx. Everything is wired by event delegation, so content that htmx
// swaps in works without setup. No inline script: the CSP forbids it.
(function () {
  "use strict";

  const fmt = (n) => Number(n).toLocaleString("en-US");
  const plural = (n, one, many) => (n === 1 ? "1 " + one : fmt(n) + " " + many);

  // htmx sends the CSRF token with every request it makes.
  document.addEventListener("htmx:configRequest", (e) => {
    const meta = document.querySelector('meta[name="csrf-token"]');
    if (meta) e.detail.headers["X-CSRF-Token"] = meta.content;
  });

  // "/" jumps to the search box, as on most consoles.
  document.addEventListener("keydown", (e) => {
    if (e.key !== "/" || e.ctrlKey || e.metaKey || e.altKey) return;
    const t = e.target;
    if (t.closest && t.closest("input, textarea, select, [contenteditable]")) return;
    const search = document.querySelector('main input[type="search"]');
    if (!search) return;
    e.preventDefault();
    search.focus();
    search.select();
  });

  // Escape closes an open row menu and gives focus back to its button.
  document.addEventListener("keydown", (e) => {
    if (e.key !== "Escape") return;
    const open = document.querySelector("details.menu[open]");
    if (!open) return;
    open.open = false;
    open.querySelector("summary").focus();
  });

  // Up and Down move through a row menu's items, Home and End to the first
  // and last; from the menu button, Down opens the menu on its first item
  // and Up on its last.
  document.addEventListener("keydown", (e) => {
    if (!["ArrowDown", "ArrowUp", "Home", "End"].includes(e.key) || e.altKey || e.ctrlKey || e.metaKey) return;
    const menu = e.target.closest && e.target.closest("details.menu");
    if (!menu) return;
    const onButton = e.target.matches("summary");
    if (onButton && (e.key === "Home" || e.key === "End")) return;
    e.preventDefault();
    if (!menu.open) menu.open = true;
    const items = Array.from(menu.querySelectorAll(".menu-item"));
    if (items.length === 0) return;
    const at = items.indexOf(e.target);
    let next;
    if (e.key === "Home") next = 0;
    else if (e.key === "End") next = items.length - 1;
    else if (e.key === "ArrowDown") next = at < 0 ? 0 : (at + 1) % items.length;
    else next = at < 0 ? items.length - 1 : (at - 1 + items.length) % items.length;
    items[next].focus();
  });

  // An open row menu floats above the table, which scrolls sideways and
  // would otherwise clip it, and opens upwards near the bottom of the window.
  // It follows its button when the page scrolls, and closes once the button
  // is out of sight.
  function placeMenu(menu) {
    const items = menu.querySelector(".menu-items");
    const at = menu.querySelector("summary").getBoundingClientRect();
    if (at.bottom < 0 || at.top > window.innerHeight) {
      menu.open = false;
      return;
    }
    const height = items.offsetHeight;
    const width = items.offsetWidth;
    const below = at.bottom + 4 + height <= window.innerHeight;
    items.style.top = (below ? at.bottom + 4 : Math.max(4, at.top - 4 - height)) + "px";
    items.style.left = Math.max(4, at.right - width) + "px";
  }
  document.addEventListener(
    "toggle",
    (e) => {
      const menu = e.target;
      if (menu.matches && menu.matches("details.menu") && menu.open) placeMenu(menu);
    },
    true
  );
  const placeMenus = () => document.querySelectorAll("details.menu[open]").forEach(placeMenu);
  window.addEventListener("scroll", placeMenus, { passive: true });
  window.addEventListener("resize", placeMenus);

  // One row menu open at a time; a click elsewhere closes it.
  document.addEventListener("click", (e) => {
    document.querySelectorAll("details.menu[open]").forEach((d) => {
      if (!d.contains(e.target)) d.open = false;
    });
  });

  // Flash messages are toasts. Each can be dismissed; a success goes by
  // itself after a while, unless the pointer or focus is on it. Errors stay.
  document.addEventListener("click", (e) => {
    const btn = e.target.closest("[data-dismiss]");
    if (btn) btn.closest(".flash").remove();
  });

  const toastMillis = 8000;
  function fadeToasts() {
    document.querySelectorAll(".flash-success:not([data-fading])").forEach((f) => {
      f.dataset.fading = "";
      const later = () =>
        setTimeout(() => {
          if (f.matches(":hover, :focus-within")) later();
          else f.remove();
        }, toastMillis);
      later();
    });
  }

  // ---- Requests that fail ------------------------------------------------
  // A request that gets no answer, times out or meets a server error says so
  // in a toast with Retry, and what it was to replace is marked out of date,
  // so that the table never seems to answer a search it did not. An error
  // answer the server did not aim somewhere (a proxy's page, say) is not
  // swapped in.

  const targets = new WeakMap(); // element → what its request replaces
  const failures = new WeakMap(); // element → the toast of its failure

  document.addEventListener("htmx:beforeRequest", (e) => {
    targets.set(e.detail.elt, e.detail.target);
  });

  // A form refused for what was typed (422) comes back to be swapped in
  // with its messages; other errors the server sends to the message area
  // (HX-Retarget). Anything else, such as a proxy's error page, is not
  // swapped into the page.
  const isFormAnswer = (xhr) => xhr.status === 422;
  document.addEventListener("htmx:beforeSwap", (e) => {
    const xhr = e.detail.xhr;
    if (e.detail.isError && !isFormAnswer(xhr) && !xhr.getResponseHeader("HX-Retarget")) e.detail.shouldSwap = false;
  });

  function toast(message, kind) {
    const region = document.getElementById("flash");
    const t = document.createElement("div");
    t.className = "flash flash-" + (kind || "error");
    t.setAttribute("role", kind === "success" ? "status" : "alert");
    t.dataset.testid = "flash";
    const p = document.createElement("p");
    p.textContent = message;
    const close = document.createElement("button");
    close.type = "button";
    close.className = "flash-close";
    close.dataset.dismiss = "";
    close.setAttribute("aria-label", "Dismiss message");
    close.textContent = "×";
    t.append(p, close);
    region.append(t);
    return t;
  }

  function requestFailed(e, message, retry) {
    const elt = e.detail.elt;
    const target = targets.get(elt);
    // The server's own message, when it sent one to the message region.
    let t = e.detail.xhr && e.detail.xhr.getResponseHeader("HX-Retarget") ? document.querySelector("#flash .flash-error:last-child") : null;
    if (!t && message) t = toast(message);
    if (t && retry && !t.querySelector("[data-retry]")) {
      const btn = document.createElement("button");
      btn.type = "button";
      btn.className = "button small";
      btn.dataset.retry = "";
      btn.dataset.testid = "retry";
      btn.textContent = "Retry";
      t.insertBefore(btn, t.querySelector(".flash-close"));
    }
    if (t) {
      const old = failures.get(elt);
      if (old && old !== t) old.remove();
      failures.set(elt, t);
      t.retryElt = elt;
    }
    elt.classList.add("request-failed");
    if (target && target.matches && target.matches(".results")) markStale(target, retry ? elt : null);
  }

  function markStale(results, retryElt) {
    results.classList.add("stale");
    results.setAttribute("aria-busy", "true");
    let note = results.querySelector(":scope > .stale-note");
    if (!note) {
      note = document.createElement("div");
      note.className = "stale-note";
      note.dataset.testid = "stale-note";
      note.setAttribute("role", "status");
      const p = document.createElement("p");
      p.textContent = "These results are out of date: they do not match the search and filters above.";
      note.append(p);
      results.prepend(note);
    }
    if (retryElt && !note.querySelector("[data-retry]")) {
      const btn = document.createElement("button");
      btn.type = "button";
      btn.className = "button small";
      btn.dataset.retry = "";
      btn.textContent = "Retry";
      note.append(btn);
    }
    note.retryElt = retryElt;
  }

  document.addEventListener("htmx:sendError", (e) =>
    requestFailed(e, "Keydesk could not be reached, so nothing changed. Check the connection and retry.", true)
  );
  document.addEventListener("htmx:timeout", (e) => requestFailed(e, "Keydesk took too long to answer, so nothing changed. Retry in a moment.", true));
  document.addEventListener("htmx:responseError", (e) => {
    const status = e.detail.xhr.status;
    if (e.detail.xhr.getResponseHeader("HX-Redirect")) return; // off to another page
    if (isFormAnswer(e.detail.xhr)) return; // the form shows what to correct
    requestFailed(e, "Something went wrong on Keydesk's side (error " + status + "). Retry, or reload the page.", status >= 500);
  });

  // A request that succeeds clears the marks of its earlier failure.
  document.addEventListener("htmx:afterRequest", (e) => {
    if (!e.detail.successful) return;
    const elt = e.detail.elt;
    elt.classList.remove("request-failed");
    const t = failures.get(elt);
    if (t) t.remove();
    failures.delete(elt);
  });

  document.addEventListener("click", (e) => {
    const btn = e.target.closest("[data-retry]");
    if (!btn) return;
    const holder = btn.closest(".flash, .stale-note");
    const elt = holder.retryElt;
    if (holder.classList.contains("flash")) holder.remove();
    if (!elt || !elt.isConnected) {
      location.reload();
    } else if (elt.tagName === "FORM") {
      elt.requestSubmit();
    } else {
      elt.click();
    }
  });

  // ---- Confirmation before destructive actions -------------------------

  function confirmThen(title, message, buttonLabel, onConfirm, opener0) {
    const dlg = document.getElementById("confirm-dialog");
    if (!dlg || typeof dlg.showModal !== "function") {
      if (window.confirm((title ? title + "\n\n" : "") + message)) onConfirm();
      return;
    }
    dlg.querySelector("#confirm-title").textContent = title || "Are you sure?";
    dlg.querySelector("#confirm-message").textContent = message;
    dlg.querySelector("#confirm-ok").textContent = buttonLabel || "Confirm";
    dlg.returnValue = "";
    // Focus goes back to what asked, or to the button of the row menu it
    // was in: the menu closes, so that it does not stay open behind.
    const opener = returnFocusTo(opener0);
    closeMenus();
    dlg.addEventListener(
      "close",
      () => {
        if (opener && opener.isConnected) opener.focus();
        if (dlg.returnValue === "confirm") onConfirm();
      },
      { once: true }
    );
    dlg.showModal();
  }

  function returnFocusTo(el) {
    const menu = el && el.closest && el.closest("details.menu");
    return menu ? menu.querySelector("summary") : el;
  }
  const closeMenus = () => document.querySelectorAll("details.menu[open]").forEach((d) => (d.open = false));

  // Runs before htmx sees the submit (capture phase), so a cancelled
  // confirmation sends nothing.
  document.addEventListener(
    "submit",
    (e) => {
      const form = e.target;
      if (form.dataset.confirmed === "1") {
        delete form.dataset.confirmed;
        return;
      }
      let message = form.dataset.confirm;
      let label = form.dataset.confirmButton;
      let title = form.dataset.confirmTitle;
      // getAttribute: the inputs named "id" clobber form.id.
      if (form.getAttribute("id") === "bulk-form") [title, message, label] = bulkConfirmation(form, e.submitter);
      if (form.dataset.confirmRetention !== undefined) [title, message, label] = retentionConfirmation(form);
      if (!message) return;
      e.preventDefault();
      e.stopImmediatePropagation();
      const submitter = e.submitter;
      confirmThen(
        title,
        message,
        label,
        () => {
          form.dataset.confirmed = "1";
          if (submitter) form.requestSubmit(submitter);
          else form.requestSubmit();
        },
        submitter || document.activeElement
      );
    },
    true
  );

  // Shortening the event retention deletes events for good: say so first.
  function retentionConfirmation(form) {
    const days = Number(form.querySelector('input[name="retention_days"]').value);
    const saved = Number(form.dataset.confirmRetention);
    // Only a retention shorter than the one in force (0 keeps all) deletes.
    const shorter = days > 0 && (saved === 0 || days < saved);
    if (!shorter) return ["", "", ""];
    return ["Keep events for " + plural(days, "day", "days") + "?", "Events older than that are deleted for good within the hour. The deletion itself is recorded.", "Save and delete old events"];
  }

  // ---- Bulk selection ----------------------------------------------------

  const rowBoxes = () => Array.from(document.querySelectorAll('input[name="id"][form="bulk-form"]'));

  function bulkSelection() {
    const form = document.getElementById("bulk-form");
    if (!form) return null;
    const all = document.getElementById("bulk-all").value === "1";
    const checked = rowBoxes().filter((b) => b.checked).length;
    // Past the count's cap the number is a floor: "more than 10,000".
    const more = all && form.hasAttribute("data-more");
    return { form, all, more, count: all ? Number(form.dataset.total) : checked, checked };
  }

  // keysText is how many keys the selection holds, in words.
  const keysText = (sel) => (sel.more ? "more than " + fmt(sel.count) + " keys" : plural(sel.count, "key", "keys"));

  function bulkConfirmation(form, submitter) {
    const sel = bulkSelection();
    if (!sel || !submitter) return ["", "", ""];
    const action = submitter.value;
    const keys = keysText(sel);
    switch (action) {
      case "delete":
        return ["Delete " + keys + "?", "They stop working and disappear from the list; their history stays in the audit log. This cannot be undone.", "Delete " + keys];
      case "rotate":
        return ["Rotate " + keys + "?", "Each gets a new secret, shown once on the next page; the old secrets keep working for their organization's grace period. Keys that are revoked or expired are left as they are.", "Rotate " + keys];
      case "revoke":
        return ["Revoke " + keys + "?", "Services using them will be refused at once. Revocation cannot be undone. Keys already revoked or expired are left as they are.", "Revoke " + keys];
      default: {
        // Switching keys on or off is reversible: ask only for a whole match.
        if (!sel.all) return ["", "", ""];
        const verb = action === "enable" ? "Enable" : "Disable";
        return [verb + " " + keys + "?", "Every key that matches the search and filters is " + (action === "enable" ? "switched on." : "switched off, and refused until enabled again."), verb + " " + keys];
      }
    }
  }

  function updateBulkBar() {
    const sel = bulkSelection();
    if (!sel) return;
    const boxes = rowBoxes();
    sel.form.hidden = sel.count === 0;
    document.getElementById("bulk-count").textContent = sel.all
      ? sel.more
        ? "Every matching key selected (more than " + fmt(sel.count) + ")"
        : "All " + plural(sel.count, "matching key", "matching keys") + " selected"
      : fmt(sel.checked) + " selected";
    const pageBox = document.getElementById("select-page");
    if (pageBox) {
      pageBox.checked = boxes.length > 0 && sel.checked === boxes.length;
      pageBox.indeterminate = sel.checked > 0 && sel.checked < boxes.length;
    }
    boxes.forEach((b) => b.closest("tr").classList.toggle("selected", b.checked));
    const selectAll = document.getElementById("bulk-select-all");
    if (selectAll) selectAll.hidden = sel.all;
  }

  function setAllMatching(on) {
    const form = document.getElementById("bulk-form");
    if (!form) return;
    document.getElementById("bulk-all").value = on ? "1" : "";
    // Past the cap there is no exact number to hold the server to.
    document.getElementById("bulk-expected").value = on && !form.hasAttribute("data-more") ? form.dataset.total : "";
  }

  document.addEventListener("change", (e) => {
    const t = e.target;
    if (t.id === "select-page") {
      rowBoxes().forEach((b) => (b.checked = t.checked));
      setAllMatching(false);
      updateBulkBar();
    } else if (t.matches('input[name="id"][form="bulk-form"]')) {
      setAllMatching(false);
      updateBulkBar();
    }
  });

  document.addEventListener("click", (e) => {
    if (!e.target.closest("#bulk-select-all")) return;
    rowBoxes().forEach((b) => (b.checked = true));
    setAllMatching(true);
    updateBulkBar();
  });

  // ---- Copy to clipboard -------------------------------------------------

  document.addEventListener("click", async (e) => {
    const btn = e.target.closest("[data-copy]");
    if (!btn) return;
    const field = document.getElementById(btn.dataset.copy);
    const status = document.querySelector("[data-copy-status]");
    let ok = false;
    try {
      await navigator.clipboard.writeText(field.value);
      ok = true;
    } catch (_) {
      field.select();
      ok = document.execCommand && document.execCommand("copy");
    }
    const text = btn.querySelector("[data-copy-label]") || btn;
    text.textContent = ok ? "Copied" : "Copy failed";
    if (status) status.textContent = ok ? "The secret is on your clipboard." : "Select the secret and copy it by hand.";
    setTimeout(() => (text.textContent = "Copy"), 2000);
  });

  // "Copy key to clipboard" in a row menu: the password goes to the reveal
  // route, and the secret that comes back goes to the clipboard, never into
  // the page. Without script the form shows the secret on a page instead.
  document.addEventListener("submit", async (e) => {
    const form = e.target.closest("form[data-copy-reveal]");
    if (!form) return;
    e.preventDefault();
    const meta = document.querySelector('meta[name="csrf-token"]');
    const name = form.dataset.keyName;
    let res, body;
    try {
      res = await fetch(form.action, {
        method: "POST",
        body: new URLSearchParams(new FormData(form)),
        headers: { "X-CSRF-Token": meta ? meta.content : "", "X-Keydesk-Copy": "1", Accept: "application/json" },
        credentials: "same-origin",
      });
      body = await res.json();
    } catch (_) {
      toast("The secret of " + name + " could not be fetched. Please try again.");
      return;
    }
    form.reset();
    if (!res.ok) {
      toast(body.error || "The secret of " + name + " could not be shown.");
      return;
    }
    const menu = form.closest("details.menu");
    if (menu) menu.open = false;
    try {
      await navigator.clipboard.writeText(body.secret);
      toast("The secret of " + name + " is on your clipboard.", "success");
    } catch (_) {
      toast("Your browser did not allow copying. Open the key's page and reveal the secret there.");
    }
  });

  // A field's error message goes once the field is edited: it described
  // the value sent, not the one being typed.
  document.addEventListener("input", (e) => {
    const field = e.target;
    if (!field.matches || !field.matches('[aria-invalid="true"]')) return;
    const msg = document.getElementById(field.getAttribute("aria-describedby"));
    if (msg && msg.classList.contains("field-error")) msg.remove();
    field.removeAttribute("aria-invalid");
    field.removeAttribute("aria-describedby");
  });

  // A row that htmx replaces (its enabled switch) stays selected.
  let selectedBeforeSwap = null;
  document.addEventListener("htmx:beforeSwap", (e) => {
    const t = e.detail.target;
    if (t && t.matches && t.matches("tr[data-key-id]")) {
      selectedBeforeSwap = rowBoxes().filter((b) => b.checked).map((b) => b.value);
    }
  });

  // A form that came back with errors starts at the first field in error,
  // not at the first field.
  function focusFirstError(root) {
    const bad = root.querySelector('main [aria-invalid="true"]');
    if (!bad) return;
    const field = bad.matches("input, select, textarea") ? bad : bad.querySelector("input, select, textarea");
    if (field) field.focus();
  }

  function init(root) {
    focusFirstError(root);
    updateBulkBar();
    fadeToasts();
    const hl = root.querySelector("tr.highlight");
    if (hl) hl.scrollIntoView({ block: "center" });
  }

  document.addEventListener("DOMContentLoaded", () => init(document));
  document.addEventListener("htmx:afterSwap", () => {
    if (!selectedBeforeSwap) return;
    rowBoxes().forEach((b) => (b.checked ||= selectedBeforeSwap.includes(b.value)));
    selectedBeforeSwap = null;
    updateBulkBar();
  });
  document.addEventListener("htmx:afterSettle", (e) => {
    updateBulkBar();
    fadeToasts();
    const t = e.detail.target;
    if (t && t.querySelector && t.querySelector('[aria-invalid="true"]')) focusFirstError(document);
  });
})();
