// Settings: while the seller's time zone is only a guess, preselect the browser's own zone (they still save it).
document.addEventListener("DOMContentLoaded", () => {
  const form = document.querySelector('form[data-browser-zone="yes"]');
  if (!form) return;
  let zone = "";
  try { zone = Intl.DateTimeFormat().resolvedOptions().timeZone || ""; } catch (e) { return; }
  const select = form.querySelector("select");
  if (select && zone && [...select.options].some((o) => o.value === zone)) select.value = zone;
});
