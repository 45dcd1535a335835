// valueclock dashboard: submit the filters when a choice changes (the Apply button does the
// same without JavaScript). Choosing another attribute or period length clears its value.
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll("select[data-autosubmit]").forEach(function (select) {
    select.addEventListener("change", function () {
      var clears = select.getAttribute("data-clears");
      if (clears) {
        var other = select.form.querySelector("[name='" + clears + "']");
        if (other) { other.value = ""; }
      }
      var page = select.form.querySelector("[name='page']");
      if (page) { page.value = "1"; }
      select.form.submit();
    });
  });
});
