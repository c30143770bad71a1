/* Removes the server-rendered copy of the page (#portal-prerendered, see portal/prerender.py)
   as soon as Dash has rendered the page's own content, which then takes its place. */
(function () {
  function swap() {
    var copy = document.getElementById("portal-prerendered");
    if (!copy) {
      return true;
    }
    var content = document.querySelector("#react-entry-point #_pages_content");
    if (content && content.children.length) {
      copy.remove();
      return true;
    }
    return false;
  }
  if (!swap()) {
    var observer = new MutationObserver(function () {
      if (swap()) {
        observer.disconnect();
      }
    });
    observer.observe(document.documentElement, { childList: true, subtree: true });
  }
})();
