// Swagger UI's markup, mended each time it renders so the docs page passes axe (issue 22):
// its text above the operations in a landmark, and its headings in order under the page's h1
// (operation groups h3 and the schemas' h4 read as levels 2 and 3).
const root = document.getElementById("swagger-ui");

const mend = () => {
  const about = root.querySelector(".information-container:not([role])");
  if (about) {
    about.setAttribute("role", "region");
    about.setAttribute("aria-label", "About the API");
  }
  for (const heading of root.querySelectorAll("h3.opblock-tag:not([aria-level])")) {
    heading.setAttribute("aria-level", "2");
  }
  for (const heading of root.querySelectorAll(".models > h4:not([aria-level])")) {
    heading.setAttribute("aria-level", "3");
  }
};

mend();
new MutationObserver(mend).observe(root, { childList: true, subtree: true });
