// Opens Razorpay Checkout for the order on the page and posts its signed success response
// to our callback (the server verifies the signature; nothing here is trusted).
(function () {
  "use strict";
  var box = document.getElementById("razorpay-checkout");
  var form = document.getElementById("razorpay-callback");
  if (!box || !form || typeof window.Razorpay !== "function") return;
  function open() {
    var checkout = new window.Razorpay({
      key: box.getAttribute("data-key"),
      order_id: box.getAttribute("data-order"),
      amount: parseInt(box.getAttribute("data-amount"), 10),
      currency: box.getAttribute("data-currency"),
      name: "moviebooking",
      description: box.getAttribute("data-description"),
      timeout: parseInt(box.getAttribute("data-timeout"), 10),
      prefill: { name: box.getAttribute("data-name"), email: box.getAttribute("data-email") },
      handler: function (response) {
        form.elements.razorpay_order_id.value = response.razorpay_order_id;
        form.elements.razorpay_payment_id.value = response.razorpay_payment_id;
        form.elements.razorpay_signature.value = response.razorpay_signature;
        form.submit();
      },
      modal: { ondismiss: function () { /* the hold stays; the button reopens Checkout */ } }
    });
    checkout.on("payment.failed", function () { /* Checkout shows the reason and lets the user retry */ });
    checkout.open();
  }
  document.getElementById("razorpay-open").addEventListener("click", open);
  open();
})();
