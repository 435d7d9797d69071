// Counts down the wait before another code can be sent. Optional: without it the page
// says how long to wait and the server refuses an early resend with the same message.
(function () {
  var box = document.querySelector("[data-resend-at]");
  if (!box) return;
  var skew = Date.now() - Number(box.getAttribute("data-server-now")) * 1000;
  var at = Number(box.getAttribute("data-resend-at")) * 1000 + skew;
  var button = box.querySelector("button");
  var out = box.querySelector("[data-countdown]");
  function tick() {
    var left = Math.ceil((at - Date.now()) / 1000);
    if (left > 0) {
      button.disabled = true;
      out.textContent = "You can request a new code in " + left + " s.";
      setTimeout(tick, 1000);
    } else {
      button.disabled = false;
      out.textContent = "";
    }
  }
  tick();
})();
