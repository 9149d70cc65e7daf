// dash-cytoscape 1.0.2 always hands cytoscape.js its own default wheelSensitivity (1), and
// cytoscape.js warns on the console whenever the option is given at all ("You have set a custom
// wheel sensitivity..."), although the value is cytoscape's default. That one message, and only
// it, is dropped; every other warning still reaches the console.
(function () {
  "use strict";
  const warn = console.warn;
  console.warn = function (message) {
    if (typeof message === "string" && message.indexOf("You have set a custom wheel sensitivity") === 0) {
      return;
    }
    return warn.apply(console, arguments);
  };
})();
