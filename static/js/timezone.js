// Tell the server the browser's time zone once (cookie "tz", an IANA name such as Europe/Paris),
// so that times are shown in the reader's zone, with the zone named. Public pages stay in UTC.
(function () {
  "use strict";
  if (!window.Intl || !Intl.DateTimeFormat) { return; }
  var zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  if (!zone) { return; }
  var value = encodeURIComponent(zone);
  if (document.cookie.split("; ").indexOf("tz=" + value) !== -1) { return; }
  var secure = window.location.protocol === "https:" ? "; Secure" : "";
  document.cookie = "tz=" + value + "; Path=/; Max-Age=31536000; SameSite=Lax" + secure;
}());
