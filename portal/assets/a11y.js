/* What assistive technology is told about two Dash controls, corrected in the page (Dash 4
   draws them with roles their content contradicts; axe-core reports both, and screen readers
   announce them wrongly):

   - RadioItems: a "listbox" of "option"s, each holding a native radio button (an interactive
     control inside another), with no name. Here: a "radiogroup" named by its fieldset's
     legend (`<id>-legend`), its options plain labels around their native radios, which are
     what a screen reader and the keyboard use (arrow keys move between them).
   - DatePickerSingle: its wrapper (a div around the text input) carries aria-expanded and
     aria-haspopup, which a div may not have. The input inside keeps its own label.

   React writes an attribute again only when the component's own value for it changes, so
   the corrections hold; an observer applies them again when Dash draws or redraws one. */
(function () {
  "use strict";

  function repair(root) {
    var groups = root.querySelectorAll(".dash-radioitems[role='listbox']");
    Array.prototype.forEach.call(groups, function (group) {
      group.setAttribute("role", "radiogroup");
      var legend = group.id && document.getElementById(group.id + "-legend");
      if (legend) { group.setAttribute("aria-labelledby", legend.id); }
    });
    var options = root.querySelectorAll(
      ".dash-radioitems [role='option'], .dash-radioitems [aria-selected]"
    );
    Array.prototype.forEach.call(options, function (option) {
      option.removeAttribute("role");
      option.removeAttribute("aria-selected");
    });
    var pickers = root.querySelectorAll(
      ".dash-datepicker-input-wrapper[aria-expanded], .dash-datepicker-input-wrapper[aria-haspopup]"
    );
    Array.prototype.forEach.call(pickers, function (picker) {
      picker.removeAttribute("aria-expanded");
      picker.removeAttribute("aria-haspopup");
      picker.removeAttribute("aria-disabled");
    });
  }

  /* observers run before the browser paints: no frame shows the wrong markup (the
     corrections' own changes bring one more, empty, pass) */
  repair(document);
  new MutationObserver(function () { repair(document); }).observe(document.documentElement, {
    childList: true, subtree: true, attributes: true,
    attributeFilter: ["role", "aria-selected", "aria-expanded", "aria-haspopup"]
  });
})();
