/* polku.js - Polku's browser tracker. No dependencies. Apache-2.0.
 * Snippet (keeps calls made before this file loads):
 *   !function(w){var p=w.polku=w.polku||function(){(p.q=p.q||[]).push(arguments)};
 *   ["page","track","identify","consent"].forEach(function(m){p[m]=p[m]||function(){
 *   p.apply(null,[m].concat([].slice.call(arguments)))}})}(window);
 *   polku("init",{endpoint:"https://api.example.com/v1",siteKey:"shop",consent:false});
 * consent: undefined = not required; false = required, not given yet; true = given.
 * polku.identify(customerId, traits, {token: "<identity token from your server>"}): the browser is
 * linked to the customer only when Polku accepts the token (docs/privacy.md); until then, and if
 * it is refused, events stay anonymous. */
(function (w, d) {
  "use strict";
  var old = w.polku, queued = (old && old.q) || [];
  var LS = w.localStorage, K = "polku_", BATCH = 20, MAXQ = 500, TRIES = 6;
  var cfg = null, buf = [], ids = [], timer = 0, busy = 0, tries = 0, consent = true, aid, cid, sl;

  function get(k) { try { return LS.getItem(K + k); } catch (e) { return null; } }
  function set(k, v) { try { v == null ? LS.removeItem(K + k) : LS.setItem(K + k, v); } catch (e) {} }
  function uuid() {
    if (w.crypto && crypto.randomUUID) return crypto.randomUUID();
    return "xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx".replace(/[xy]/g, function (c) {
      var r = Math.random() * 16 | 0; return (c == "x" ? r : (r & 3 | 8)).toString(16);
    });
  }
  function cookie(v) {
    if (v) d.cookie = K + "aid=" + v + ";path=/;max-age=31536000;SameSite=Lax";
    var m = d.cookie.match(/(?:^|; )polku_aid=([^;]+)/); return m && m[1];
  }
  function anon() {
    if (!aid) { aid = cookie() || get("aid") || uuid(); cookie(aid); set("aid", aid); }
    return aid;
  }
  function context() {
    var c = { url: location.href, library: "polku.js/1" }, tz;
    try { tz = Intl.DateTimeFormat().resolvedOptions().timeZone; } catch (e) {}
    if (tz) c.time_zone = tz;
    if (navigator.language) c.locale = navigator.language;
    if (d.referrer) c.referrer = d.referrer.slice(0, 2000);
    return c;
  }
  function save() { set("q", JSON.stringify(buf)); }
  function later(ms) { clearTimeout(timer); timer = setTimeout(flush, ms); }
  // the site key also goes in the URL: the per-site rate limit (WAF) counts it there (docs/events.md)
  function url(p) { return cfg.endpoint.replace(/\/$/, "") + p + "?site_key=" + encodeURIComponent(cfg.siteKey); }

  function send(path, body, beacon) {
    body.site_key = cfg.siteKey;
    var s = JSON.stringify(body);
    if (beacon && navigator.sendBeacon && navigator.sendBeacon(url(path), new Blob([s], { type: "text/plain" })))
      return Promise.resolve({ beacon: 1 });
    return fetch(url(path), { method: "POST", body: s, keepalive: s.length < 60000, credentials: "omit",
      headers: { "Content-Type": "text/plain" } }).then(function (r) {
      if (r.status >= 500 || r.status == 429) throw r;
      return r.json().catch(function () { return {}; });
    });
  }
  function slots() {  // the page has slots: load the content part (docs/onsite.md)
    if (!d.querySelector("[data-polku-slot]")) return;
    var s = d.createElement("script"); s.async = 1; s.src = cfg.endpoint.replace(/\/$/, "") + "/polku-content.js";
    d.head.appendChild(s);
  }
  function retry() {
    busy = 0;
    if (++tries <= TRIES) later(Math.min(30000, 500 * Math.pow(2, tries)));
  }
  function flush(beacon) {
    if (!cfg || !consent || busy || !buf.length) return;
    if (ids.length) return sendIds();
    var batch = buf.slice(0, BATCH);
    busy = 1;
    send("/events", { events: batch }, beacon === true).then(function (res) {
      var again = res.retry || [];
      buf = buf.filter(function (e) { return batch.indexOf(e) < 0 || again.indexOf(e.event_id) >= 0; });
      busy = 0; tries = 0; save();
      if (again.length) retry(); else if (buf.length) later(0);
    }, retry);
  }
  function sendIds() {
    busy = 1;
    send("/identify", ids[0]).then(function (res) {
      var r = ids.shift(); set("ids", JSON.stringify(ids)); busy = 0; tries = 0;
      // accepted: events carry the customer; the token also unlocks their on-site content (docs/onsite.md)
      if (res && res.customer_id) { cid = res.customer_id; set("cid", cid); set("tok", r.identity_token); }
      else if (res && res.error && w.console) console.warn("polku identify refused: " + res.error.field + " " + res.error.reason);
      flush();
    }, retry);
  }
  function push(ev) {
    if (!cfg || !consent) return;
    ev.event_id = uuid(); ev.anonymous_id = anon(); ev.ts = new Date().toISOString(); ev.context = context();
    if (cid) ev.customer_id = cid;
    buf.push(ev);
    if (buf.length > MAXQ) buf.splice(0, buf.length - MAXQ);
    save();
    buf.length >= BATCH ? flush() : later(cfg.flushInterval || 1000);
  }

  var api = {
    init: function (o) {
      cfg = o || {};
      var stored = get("consent");
      consent = cfg.consent === undefined ? true : stored ? stored == "1" : !!cfg.consent;
      if (!sl) { sl = 1; d.readyState == "loading" ? d.addEventListener("DOMContentLoaded", slots) : slots(); }
      if (!consent) return;
      cid = get("cid");
      try { buf = JSON.parse(get("q")) || []; ids = JSON.parse(get("ids")) || []; } catch (e) {}
      later(0);
    },
    page: function (props) {
      var p = props || {}; p.url = p.url || location.href; p.title = p.title || d.title || undefined;
      push({ type: "page_view", properties: p });
    },
    track: function (type, props) { push({ type: type, properties: props || {} }); },
    identify: function (customerId, traits, opts) {
      if (!cfg || !consent) return;
      var req = { event_id: uuid(), anonymous_id: anon(), customer_id: String(customerId), ts: new Date().toISOString(),
        traits: traits || {}, context: context() };
      if (opts && opts.token) req.identity_token = String(opts.token);
      ids.push(req);
      set("ids", JSON.stringify(ids));
      later(0);
    },
    consent: function (granted) {
      consent = !!granted; set("consent", consent ? "1" : "0");
      if (consent) return api.init(cfg);
      buf = []; ids = []; ["q", "ids", "cid", "aid", "tok"].forEach(function (k) { set(k); });
    },
    reset: function () { cid = aid = null; set("cid"); set("aid"); set("tok"); d.cookie = K + "aid=;path=/;max-age=0"; },
    // for polku-content.js: who may see what (ids only after consent) and where to ask
    _: function () { return { cfg: cfg, url: url, aid: consent && anon(), cid: consent && cid, tok: consent && get("tok") }; },
    flush: flush
  };
  var polku = function (m) { if (api[m]) return api[m].apply(null, [].slice.call(arguments, 1)); };
  for (var m in api) polku[m] = api[m];
  polku.loaded = true;
  w.polku = polku;
  for (var i = 0; i < queued.length; i++) polku.apply(null, queued[i]);
  w.addEventListener("pagehide", function () { flush(true); });
  d.addEventListener("visibilitychange", function () { if (d.visibilityState == "hidden") flush(true); });
  w.addEventListener("online", function () { tries = 0; flush(); });
})(window, document);
