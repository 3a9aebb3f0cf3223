// Enhancements of the key forms, on top of forms that work without script:
// quick picks fill in the expiry in place, and Done leaves the page that
// showed a secret without keeping it in the history. No inline script: the
// CSP forbids it.
(function () {
  "use strict";

  const minute = 60 * 1000;
  const day = 24 * 60 * minute;

  // The date and time fields are hidden while "Will never expire" is ticked.
  function syncExpiry(form) {
    const never = form.querySelector('input[name="never_expires"]');
    const fields = form.querySelector("[data-expiry-date]");
    if (never && fields) fields.hidden = never.checked;
  }

  // A quick pick of the New key form fills in exactly that many days from
  // now, to the minute, in UTC; the server checks it like a typed date. The
  // details page's quick picks belong to a form of their own and save at
  // once, so they are left to the browser.
  document.addEventListener("click", (e) => {
    const pick = e.target.closest("button[data-expires-in]");
    if (!pick || pick.hasAttribute("form") || !pick.form) return;
    const form = pick.form;
    const date = form.querySelector('input[name="expires_at"]');
    const time = form.querySelector('input[name="expires_time"]');
    if (!date || !time) return;
    e.preventDefault();
    const at = new Date(Math.ceil((Date.now() + Number(pick.dataset.expiresIn) * day) / minute) * minute);
    const iso = at.toISOString(); // YYYY-MM-DDTHH:MM:SS.sssZ, in UTC
    date.value = iso.slice(0, 10);
    time.value = iso.slice(11, 16);
    const never = form.querySelector('input[name="never_expires"]');
    if (never) never.checked = false;
    syncExpiry(form);
    // As if typed: an error message about the old value goes.
    date.dispatchEvent(new Event("input", { bubbles: true }));
  });

  // A page's expiry fields show what its checkbox says, from the start.
  document.addEventListener("DOMContentLoaded", () => document.querySelectorAll("form").forEach(syncExpiry));

  // Ticking "Will never expire" hides the date, and unticking shows it.
  document.addEventListener("change", (e) => {
    if (e.target.name === "never_expires" && e.target.form) syncExpiry(e.target.form);
  });

  // The organization menu: one with a maximum expiry offers no "never".
  document.addEventListener("change", (e) => {
    const menu = e.target.closest('select[name="org"]');
    if (!menu || !menu.form) return;
    const form = menu.form;
    const days = Number(menu.selectedOptions[0]?.dataset.maxExpiryDays || 0);
    const never = form.querySelector("[data-never-expires]");
    const hint = form.querySelector("[data-max-expiry-hint]");
    if (never) {
      never.hidden = days > 0;
      if (days > 0) never.querySelector("input").checked = false;
    }
    if (hint) {
      hint.hidden = days === 0;
      const n = hint.querySelector("[data-max-expiry-days-text]");
      if (n) n.textContent = String(days);
    }
    syncExpiry(form);
  });

  // A form that htmx put back (with its errors) shows the fields that its
  // checkbox says.
  document.addEventListener("htmx:afterSettle", () => document.querySelectorAll("form").forEach(syncExpiry));

  // Done replaces the page that showed the secret: Back then goes to where
  // the person was before, not to a form to post again.
  document.addEventListener("click", (e) => {
    const link = e.target.closest("a[data-replace]");
    if (!link || e.button !== 0 || e.ctrlKey || e.metaKey || e.shiftKey || e.altKey) return;
    e.preventDefault();
    location.replace(link.href);
  });
})();
