/*
 * Shop storefront behaviour. CSP-safe: no eval, no inline handlers; loaded with `defer`
 * after htmx and before Alpine (CSP build), so the Alpine components below are registered
 * before Alpine starts.
 *
 * Events and hooks other pages can rely on:
 *  - `cart-updated` (HX-Trigger header, detail {count: n}) updates every [data-cart-count].
 *  - `[data-stepper]` wraps an <input type=number> and buttons with data-step="-1|1".
 *  - `details[data-collapse-on-mobile]` starts closed on narrow screens, and closes again
 *    when its form is submitted there ("Apply filters"), bringing the results into view.
 *  - `details.account-menu` (header) closes on a click elsewhere or Escape.
 *  - `[data-autosubmit]` on a <select>/<input> submits its form on change (no-HTMX forms).
 *  - `[data-confirm="Question?"]` on a button/form asks before submitting.
 *  - `[data-shipping-methods]` (checkout): choosing a method shows its shipping and total
 *    and sets the form's expected_total to it (without JS the server asks to confirm).
 *  - Alpine components: `variantPicker`, `gallery`.
 */
(function () {
  "use strict";

  document.addEventListener("change", function (event) {
    var input = event.target;
    if (!input || input.name !== "shipping_method" || !input.closest("[data-shipping-methods]")) return;
    var form = input.form;
    var expected = form && form.querySelector("input[name=expected_total]");
    if (expected) expected.value = input.getAttribute("data-total");
    var total = document.querySelector("[data-testid=total]");
    if (total) total.textContent = input.getAttribute("data-total-label");
    var shipping = document.querySelector("[data-testid=shipping]");
    if (shipping) shipping.textContent = input.getAttribute("data-shipping-label");
    var tax = document.querySelector("[data-testid=tax]");
    if (tax) tax.textContent = input.getAttribute("data-tax-label");
  });

  function setCartCount(count) {
    var value = Number(count);
    if (!Number.isFinite(value) || value < 0) return;
    document.querySelectorAll("[data-cart-count]").forEach(function (el) {
      el.textContent = String(value);
      el.classList.remove("is-bumped");
      // Restart the bump animation.
      void el.offsetWidth;
      el.classList.add("is-bumped");
    });
  }

  // HX-Trigger: {"cart-updated": {"count": 3}} arrives as an event whose detail holds the
  // payload (htmx 2 puts it on detail and, for objects, on detail.value as well).
  document.addEventListener("cart-updated", function (event) {
    var detail = event.detail || {};
    var payload = detail.value && typeof detail.value === "object" ? detail.value : detail;
    if (payload && payload.count !== undefined) setCartCount(payload.count);
  });

  function clamp(input, value) {
    var min = input.min === "" ? -Infinity : Number(input.min);
    var max = input.max === "" ? Infinity : Number(input.max);
    return Math.min(max, Math.max(min, value));
  }

  function refreshStepper(stepper) {
    var input = stepper.querySelector("input[type=number]");
    if (!input) return;
    var value = Number(input.value);
    stepper.querySelectorAll("[data-step]").forEach(function (button) {
      var step = Number(button.getAttribute("data-step"));
      button.hidden = false;
      button.disabled = input.disabled || clamp(input, value + step) === value;
    });
  }

  function initSteppers(root) {
    root.querySelectorAll("[data-stepper]").forEach(function (stepper) {
      if (stepper.dataset.stepperReady) return;
      stepper.dataset.stepperReady = "1";
      stepper.addEventListener("click", function (event) {
        var button = event.target.closest("[data-step]");
        if (!button || button.disabled) return;
        var input = stepper.querySelector("input[type=number]");
        var current = Number(input.value) || 0;
        var next = clamp(input, current + Number(button.getAttribute("data-step")));
        if (next === current) return;
        input.value = String(next);
        input.dispatchEvent(new Event("input", { bubbles: true }));
        input.dispatchEvent(new Event("change", { bubbles: true }));
        refreshStepper(stepper);
      });
      stepper.addEventListener("input", function () {
        refreshStepper(stepper);
      });
      refreshStepper(stepper);
    });
  }

  function initCollapsibles(root) {
    if (!isNarrow()) return;
    root.querySelectorAll("details[data-collapse-on-mobile]").forEach(function (details) {
      if (details.dataset.collapseReady) return;
      details.dataset.collapseReady = "1";
      details.open = false;
    });
  }

  function isNarrow() {
    return window.matchMedia("(max-width: 55.99rem)").matches;
  }

  // Phones: "Apply filters" closes the filter panel so the results it asked for are in view.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!isNarrow() || !form.querySelectorAll) return;
    var open = form.querySelectorAll("details[data-collapse-on-mobile][open]");
    if (!open.length) return;
    open.forEach(function (details) { details.open = false; });
    var results = document.getElementById("results") || open[0];
    results.scrollIntoView({ block: "start" });
  });

  // The header's account menu behaves like a menu: a click outside or Escape closes it.
  document.addEventListener("click", function (event) {
    document.querySelectorAll("details.account-menu[open]").forEach(function (menu) {
      if (!menu.contains(event.target)) menu.open = false;
    });
  });
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") return;
    document.querySelectorAll("details.account-menu[open]").forEach(function (menu) {
      menu.open = false;
      var summary = menu.querySelector("summary");
      if (summary) summary.focus();
    });
  });

  function init(root) {
    initSteppers(root);
    initCollapsibles(root);
  }

  document.addEventListener("change", function (event) {
    var field = event.target.closest("[data-autosubmit]");
    if (field && field.form && !field.form.hasAttribute("hx-get") && !field.form.hasAttribute("hx-post")) {
      field.form.requestSubmit();
    }
  });

  document.addEventListener("submit", function (event) {
    var form = event.target;
    var button = event.submitter;
    var question = (button && button.getAttribute("data-confirm")) || form.getAttribute("data-confirm");
    if (question && !window.confirm(question)) {
      event.preventDefault();
      event.stopImmediatePropagation();
    }
  }, true);

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { init(document); });
  } else {
    init(document);
  }
  // Content swapped in by htmx gets the same behaviour.
  document.addEventListener("htmx:load", function (event) {
    if (event.target && event.target.querySelectorAll) init(event.target);
  });

  // GET forms marked data-drop-empty leave blank fields out of the URL (?min_price=&...).
  document.addEventListener("htmx:configRequest", function (event) {
    var detail = event.detail;
    if (!detail || detail.verb !== "get" || !detail.elt || !detail.elt.closest("[data-drop-empty]")) return;
    var params = detail.parameters;
    var blank = [];
    params.forEach(function (value, key) {
      if (value === "" && blank.indexOf(key) === -1) blank.push(key);
    });
    blank.forEach(function (key) {
      if (params.getAll(key).every(function (v) { return v === ""; })) params.delete(key);
    });
  });

  // A rate-limited request (429) answers a readable fragment: show it where the answer goes.
  document.addEventListener("htmx:beforeSwap", function (event) {
    if (event.detail && event.detail.xhr && event.detail.xhr.status === 429) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });

  // Show a readable message when an htmx request fails instead of failing silently.
  document.addEventListener("htmx:responseError", function (event) {
    var target = event.detail && event.detail.target;
    var status = event.detail && event.detail.xhr ? event.detail.xhr.status : 0;
    if (!target || status === 0) return;
    var note = document.createElement("div");
    note.className = "alert alert-error";
    note.setAttribute("role", "alert");
    note.textContent = status >= 500
      ? "Something went wrong on our side. Please try again."
      : "That did not work. Please check and try again.";
    target.replaceChildren(note);
  });
  document.addEventListener("htmx:sendError", function (event) {
    var target = event.detail && event.detail.target;
    if (!target) return;
    var note = document.createElement("div");
    note.className = "alert alert-error";
    note.setAttribute("role", "alert");
    note.textContent = "You seem to be offline. Please check your connection and try again.";
    target.replaceChildren(note);
  });

  // Header search suggestions (a combobox): htmx fills the listbox as the shopper types;
  // ArrowDown/ArrowUp move through the options, Enter opens the chosen one, Escape closes.
  function suggestionBox(input) {
    return document.getElementById(input.getAttribute("aria-controls"));
  }
  function syncSuggestions(input) {
    var box = suggestionBox(input);
    var open = !!(box && box.children.length);
    input.setAttribute("aria-expanded", open ? "true" : "false");
    if (!open) input.removeAttribute("aria-activedescendant");
  }
  document.addEventListener("htmx:afterSwap", function (event) {
    var box = event.detail && event.detail.target;
    if (!box || box.id !== "search-suggestions") return;
    var input = document.querySelector("[data-suggest][aria-controls='" + box.id + "']");
    if (input) syncSuggestions(input);
  });
  document.addEventListener("keydown", function (event) {
    var input = event.target;
    if (!input || !input.hasAttribute || !input.hasAttribute("data-suggest")) return;
    var box = suggestionBox(input);
    if (!box) return;
    var options = Array.prototype.slice.call(box.querySelectorAll("[role=option]"));
    var current = box.querySelector("[aria-selected=true]");
    var index = options.indexOf(current);
    if (event.key === "Escape") {
      // The first Escape closes the suggestions (and keeps the text); the next one clears.
      if (options.length) {
        event.preventDefault();
        box.replaceChildren();
        syncSuggestions(input);
      }
      return;
    }
    if (event.key === "Enter" && current) {
      event.preventDefault();
      window.location.assign(current.querySelector("a").href);
      return;
    }
    if (!options.length || (event.key !== "ArrowDown" && event.key !== "ArrowUp")) return;
    event.preventDefault();
    index = event.key === "ArrowDown" ? (index + 1) % options.length
      : (index <= 0 ? options.length - 1 : index - 1);
    options.forEach(function (option, i) {
      option.setAttribute("aria-selected", i === index ? "true" : "false");
    });
    input.setAttribute("aria-activedescendant", options[index].id);
  });

  document.addEventListener("alpine:init", function () {
    var Alpine = window.Alpine;

    // Product page: price and stock hint follow the chosen variant (radio inputs named
    // "sku" carrying data-price, data-hint and data-hint-label).
    Alpine.data("variantPicker", function () {
      return {
        price: "",
        hint: "",
        hintLabel: "",
        init: function () {
          var priceEl = this.$root.querySelector("[data-variant-price]");
          var hintEl = this.$root.querySelector("[data-variant-hint]");
          this.price = priceEl ? priceEl.textContent.trim() : "";
          this.hint = hintEl ? hintEl.getAttribute("data-hint") : "";
          this.hintLabel = hintEl ? hintEl.textContent.trim() : "";
          var checked = this.$root.querySelector("input[name=sku]:checked");
          if (checked) this.apply(checked);
        },
        choose: function (event) {
          if (event && event.target && event.target.name === "sku") this.apply(event.target);
        },
        apply: function (input) {
          this.price = input.getAttribute("data-price") || this.price;
          this.hint = input.getAttribute("data-hint") || this.hint;
          this.hintLabel = input.getAttribute("data-hint-label") || this.hintLabel;
        },
      };
    });

    // Product page: thumbnails swap the main image (they are plain links without JS).
    Alpine.data("gallery", function () {
      return {
        show: function (event) {
          var link = event.currentTarget || (event.target && event.target.closest("a"));
          var main = this.$root.querySelector("[data-gallery-main]");
          if (!link || !main) return;
          main.src = link.getAttribute("data-src");
          main.srcset = link.getAttribute("data-srcset") || "";
          main.alt = link.getAttribute("data-alt") || "";
          this.$root.querySelectorAll(".gallery-thumbs [aria-current]").forEach(function (el) {
            el.removeAttribute("aria-current");
          });
          link.setAttribute("aria-current", "true");
        },
      };
    });
  });
})();
