// "Use this" on the add-device page: fill the form with a found device's connection, keeping
// a name the brewer already typed. Without JavaScript the link reloads the page pre-filled.
document.addEventListener("click", (event) => {
  const choice = event.target.closest("[data-fill]");
  const form = document.querySelector("form.device-form");
  if (!choice || !form) return;
  event.preventDefault();
  const values = JSON.parse(choice.dataset.fill);
  for (const [name, value] of Object.entries(values)) {
    const field = form.elements.namedItem(name);
    if (!field || (name === "name" && field.value.trim() !== "")) continue;
    field.value = String(value); // a RadioNodeList checks the radio with this value
  }
  for (const other of document.querySelectorAll("[data-fill].chosen")) {
    other.classList.remove("chosen");
    other.textContent = "Use this";
  }
  choice.classList.add("chosen");
  choice.textContent = "Chosen ✓";
  const name = form.elements.namedItem("name");
  form.scrollIntoView({ behavior: "smooth", block: "start" });
  if (name && name.value.trim() === "") name.focus({ preventScroll: true });
});
