// When the session has ended (expired, logged out in another tab, user disabled), the
// server answers the page's callbacks with 401: go to the login page, and back here after.
(function () {
  var original = window.fetch;
  window.fetch = function (resource, init) {
    var url = typeof resource === "string" ? resource : (resource && resource.url) || "";
    return original.call(this, resource, init).then(function (response) {
      if (response.status === 401 && url.indexOf("/internal/_dash-") !== -1) {
        var here = window.location.pathname + window.location.search;
        window.location.assign("/internal/login?next=" + encodeURIComponent(here));
      }
      return response;
    });
  };
})();
