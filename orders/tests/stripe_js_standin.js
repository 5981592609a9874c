/* A small Stripe.js-compatible script served by the tests' Stripe stand-in
 * (orders/tests/stripe_server.py) at /v3/: the parts of Stripe.js the shop uses, talking to
 * the stand-in's REST endpoints with the publishable key, as Stripe.js talks to
 * api.stripe.com. The card field is a plain input here (Stripe's is an iframe); the 3-D
 * Secure challenge is a dialog with "Complete" and "Fail" buttons (Stripe's is a frame from
 * hooks.stripe.com). */
(function () {
  "use strict";
  var BASE = new URL(document.currentScript.src).origin;

  function post(path, params) {
    return fetch(BASE + path, { method: "POST", body: new URLSearchParams(params) }).then(
      function (response) {
        return response.json().then(function (body) {
          return { ok: response.ok, body: body };
        });
      }
    );
  }

  function CardElement() {
    this.input = null;
  }
  CardElement.prototype.mount = function (target) {
    var host = typeof target === "string" ? document.querySelector(target) : target;
    var input = document.createElement("input");
    input.type = "text";
    input.inputMode = "numeric";
    input.autocomplete = "cc-number";
    input.placeholder = "Card number";
    input.setAttribute("aria-label", "Card number");
    input.setAttribute("data-testid", "stripe-card-number");
    host.appendChild(input);
    this.input = input;
  };
  CardElement.prototype.on = function () {};

  function intentId(clientSecret) {
    return String(clientSecret).split("_secret_")[0];
  }

  function Stripe(key) {
    if (!(this instanceof Stripe)) {
      return new Stripe(key);
    }
    this.key = key;
  }
  Stripe.prototype.elements = function () {
    return {
      create: function () {
        return new CardElement();
      },
    };
  };
  Stripe.prototype.createPaymentMethod = function (options, element) {
    var card = element || options.card;
    var number = card && card.input ? card.input.value : "";
    return post("/v1/payment_methods", { key: this.key, type: "card", "card[number]": number }).then(
      function (answer) {
        return answer.ok ? { paymentMethod: answer.body } : { error: answer.body.error };
      }
    );
  };
  Stripe.prototype.handleNextAction = function (options) {
    var key = this.key;
    var clientSecret = options.clientSecret;
    return new Promise(function (resolve) {
      var dialog = document.createElement("div");
      dialog.setAttribute("role", "dialog");
      dialog.setAttribute("aria-label", "3-D Secure");
      dialog.setAttribute("data-testid", "stripe-3ds");
      dialog.style.cssText =
        "position:fixed;inset:30% 30% auto 30%;padding:1.5rem;background:#fff;" +
        "border:1px solid #999;box-shadow:0 8px 30px rgba(0,0,0,.3);display:flex;gap:1rem;" +
        "flex-wrap:wrap;z-index:1000";
      var title = document.createElement("p");
      title.textContent = "Test bank: confirm this payment (3-D Secure).";
      title.style.width = "100%";
      dialog.appendChild(title);
      ["Complete", "Fail"].forEach(function (label) {
        var button = document.createElement("button");
        button.type = "button";
        button.textContent = label + " authentication";
        button.addEventListener("click", function () {
          dialog.remove();
          post("/v1/payment_intents/" + intentId(clientSecret) + "/authenticate", {
            key: key,
            client_secret: clientSecret,
            result: label === "Complete" ? "pass" : "fail",
          }).then(function (answer) {
            resolve(answer.ok ? { paymentIntent: answer.body } : { error: answer.body.error });
          });
        });
        dialog.appendChild(button);
      });
      document.body.appendChild(dialog);
    });
  };
  Stripe.prototype.confirmCardPayment = function (clientSecret) {
    return this.handleNextAction({ clientSecret: clientSecret });
  };

  window.Stripe = Stripe;
})();
