/* polku-content.js - the on-site content part of Polku's tracker, loaded by polku.js when the
 * page has slots (docs/onsite.md). No dependencies. Apache-2.0.
 *   <div data-polku-slot="product-page-also-bought" data-polku-product="sku-42" data-polku-count="4"></div>
 *   <div data-polku-slot="cart-offer"></div>
 * Each slot is filled with a small default template (class names polku-products, polku-product,
 * polku-card), or, when init's options have onContent(name, data, element), handed to it.
 * Ids go with the request only after consent (where the site requires it): before that only
 * what is not personal (a product page's products) comes back. A customer's own content needs
 * the identity token polku.identify sent; without it the browser sees its own anonymous content.
 * polku.content() asks again (after a page change in a single-page app). */
(function (w, d) {
  "use strict";
  var polku = w.polku;
  if (!polku || !polku._ || polku.content) return;

  function el(tag, cls, text) {
    var e = d.createElement(tag);
    if (cls) e.className = cls;
    if (text != null) e.textContent = String(text);
    return e;
  }
  function safe(u) { return typeof u == "string" && /^https?:\/\//i.test(u) ? u : null; }
  function link(url) {
    var a = el("a"), u = safe(url);
    if (u) a.href = u;
    return a;
  }
  function image(url, box) {
    var u = safe(url);
    if (!u) return;
    var i = el("img"); i.src = u; i.alt = ""; i.loading = "lazy"; box.appendChild(i);
  }
  function money(p) {
    if (typeof p.price != "number") return "";
    try { return new Intl.NumberFormat(d.documentElement.lang || undefined, { style: "currency", currency: p.currency || "EUR" }).format(p.price); }
    catch (e) { return p.price.toFixed(2); }
  }
  function render(name, data, box) {
    box.textContent = "";
    if (data.products && data.products.length) {
      var ul = el("ul", "polku-products");
      data.products.forEach(function (p) {
        var li = el("li", "polku-product"), a = link(p.url);
        a.setAttribute("data-polku-product", p.product_id);
        image(p.image_url, a);
        a.appendChild(el("span", "polku-name", p.name));
        a.appendChild(el("span", "polku-price", money(p)));
        li.appendChild(a); ul.appendChild(li);
      });
      box.appendChild(ul);
    }
    (data.cards || []).forEach(function (c) {
      var card = el("div", "polku-card"), a = link(c.url);
      card.setAttribute("data-polku-message", c.message_id);
      image(c.image_url, a);
      a.appendChild(el("strong", "polku-card-title", c.title));
      a.appendChild(el("p", "polku-card-text", c.text));
      card.appendChild(a); box.appendChild(card);
    });
    box.setAttribute("data-polku-filled", (data.products || data.cards || []).length);
  }

  function ask(body) {
    return fetch(polku._().url("/content"), { method: "POST", body: JSON.stringify(body), credentials: "omit",
      headers: { "Content-Type": "text/plain" } }).then(function (r) { return r.json(); });
  }
  function content() {
    var s = polku._(), boxes = {}, slots = [];
    [].forEach.call(d.querySelectorAll("[data-polku-slot]"), function (box) {
      var name = box.getAttribute("data-polku-slot");
      if (boxes[name]) return boxes[name].push(box);
      boxes[name] = [box];
      var slot = { name: name }, pid = box.getAttribute("data-polku-product"), n = +box.getAttribute("data-polku-count");
      if (pid) slot.product_id = pid;
      if (n) slot.count = n;
      slots.push(slot);
    });
    if (!slots.length || !s.cfg) return Promise.resolve(null);
    var body = { site_key: s.cfg.siteKey, slots: slots };
    if (s.aid) body.anonymous_id = s.aid;
    if (s.cid && s.tok) { body.customer_id = s.cid; body.identity_token = s.tok; }
    return ask(body).then(function (res) {
      if (res && res.error && res.error.field == "identity_token" && body.customer_id) {
        delete body.customer_id; delete body.identity_token;  // an expired token: the browser's own content
        return ask(body);
      }
      return res;
    }).then(function (res) {
      if (res && res.error) {
        if (w.console) console.warn("polku content refused: " + res.error.field + " " + res.error.reason);
        return res;
      }
      Object.keys(boxes).forEach(function (name) {
        var data = (res.slots || {})[name] || {};
        boxes[name].forEach(function (box) {
          if (typeof s.cfg.onContent == "function") s.cfg.onContent(name, data, box);
          else render(name, data, box);
        });
      });
      return res;
    });
  }
  polku.content = content;
  content();
})(window, document);
