// Application forms: show a conditional field only while the answer it depends on is given.
// Without this script every such field is shown, with a hint saying when it is needed, and the
// server ignores it when that answer is not given. A hidden field's inputs are disabled, so the
// browser neither checks nor sends them.
(function () {
  "use strict";

  // The controlling field's answer as a list of strings: the value of a select, the checked
  // radio or checkboxes, or "true"/"false" for a single checkbox. Null when it is not on this page.
  // Fields are updated in page order, so a condition on a conditional field sees it up to date.
  function answersOf(form, name) {
    var inputs = Array.prototype.filter.call(form.elements, function (element) {
      return element.name === name;
    });
    if (inputs.length === 0) {
      return null;
    }
    if (inputs[0].disabled) {
      return []; // the controlling field is hidden itself
    }
    if (inputs.length === 1 && inputs[0].type === "checkbox") {
      return [inputs[0].checked ? "true" : "false"];
    }
    return inputs
      .filter(function (input) {
        return (input.type !== "radio" && input.type !== "checkbox") || input.checked;
      })
      .map(function (input) {
        return input.value;
      });
  }

  function update(form) {
    form.querySelectorAll("[data-show-when-field]").forEach(function (wrapper) {
      var answers = answersOf(form, wrapper.dataset.showWhenField);
      if (answers === null) {
        // Answered on another step: the page says what the answer was.
        answers = wrapper.hasAttribute("data-show-when-current") ? [wrapper.dataset.showWhenCurrent] : [];
      }
      var isShown = answers.indexOf(wrapper.dataset.showWhenEquals) !== -1;
      wrapper.hidden = !isShown;
      wrapper.querySelectorAll("input, select, textarea, button").forEach(function (input) {
        input.disabled = !isShown;
      });
    });
  }

  // The page is served with novalidate so that, without this script, the server's error summary
  // explains every problem; with it, the browser checks each field before the form is sent.
  document.querySelectorAll("form.application-form[novalidate]").forEach(function (form) {
    form.noValidate = false;
  });

  document.querySelectorAll("form").forEach(function (form) {
    if (!form.querySelector("[data-show-when-field]")) {
      return;
    }
    update(form);
    form.addEventListener("change", function () {
      update(form);
    });
  });
})();
