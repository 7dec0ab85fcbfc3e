/* Reports: draws the Chart.js configurations the page hands over in data-chart
   attributes, and the print button of the monthly report (no inline script: CSP). */
(function () {
  "use strict";

  function drawCharts() {
    if (typeof window.Chart === "undefined") {
      return;
    }
    document.querySelectorAll("canvas[data-chart]").forEach(function (canvas) {
      var config;
      try {
        config = JSON.parse(canvas.dataset.chart);
      } catch (e) {
        return;
      }
      config.options = Object.assign({ responsive: true, maintainAspectRatio: true, animation: false },
                                     config.options || {});
      new window.Chart(canvas, config);
    });
  }

  function wirePrint() {
    document.querySelectorAll("[data-print]").forEach(function (button) {
      button.addEventListener("click", function () { window.print(); });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    drawCharts();
    wirePrint();
  });
}());
