/* Card payments with Stripe.js, on the pages that include it (only while the Stripe adapter is
 * the shop's gateway; Stripe.js itself is loaded just before this file).
 *
 * Checkout: mounts Stripe's card field; on submit asks Stripe.js for a PaymentMethod and
 * posts its id (pm_...) as the payment token, so the card number never reaches the shop.
 * Confirmation of an order whose payment waits for the customer (3-D Secure): runs
 * stripe.handleNextAction with the order's client secret, then goes to the order page, which
 * shows "waiting for payment confirmation" until Stripe's webhook confirms the payment. */
(function () {
  "use strict";

  function checkout(box) {
    var form = box.closest("form");
    var stripe = window.Stripe(box.dataset.stripeKey);
    var card = stripe.elements().create("card");
    card.mount(box.querySelector("#card-element"));
    var errors = box.querySelector("#card-errors");
    var token = box.querySelector("input[name=payment_token]");
    var button = form.querySelector("button[type=submit]");
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      errors.textContent = "";
      if (button) button.disabled = true;
      stripe.createPaymentMethod({ type: "card", card: card }).then(function (result) {
        if (result.error) {
          errors.textContent = result.error.message || "Please check your card details.";
          if (button) button.disabled = false;
          return;
        }
        token.value = result.paymentMethod.id;
        form.submit(); // does not fire "submit" again
      });
    });
  }

  function nextAction(box) {
    var stripe = window.Stripe(box.dataset.stripeKey);
    var status = box.querySelector("[data-stripe-status]");
    stripe.handleNextAction({ clientSecret: box.dataset.clientSecret }).then(function (result) {
      if (result.error && status) {
        status.textContent = result.error.message || "The payment was not completed.";
      }
      window.location.assign(box.dataset.next);
    });
  }

  function start() {
    if (!window.Stripe) return;
    document.querySelectorAll("[data-stripe-checkout]").forEach(checkout);
    document.querySelectorAll("[data-stripe-next-action]").forEach(nextAction);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
