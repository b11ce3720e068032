"""build_email writes what EmailMessage(policy=SMTP) writes -- except a long List-Unsubscribe URL,
which it keeps readable (the standard library turned it into RFC 2047 encoded words)."""

from __future__ import annotations

import email
import email.policy
import random
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import formataddr

import pytest

from polku.messaging.email_mime import build_email
from polku.messaging.links import KeyRing, LinkSigner


def reference(*, sender, sender_name, to, subject, text, html, message_id, unsubscribe_url) -> bytes:
    """The standard library's message (what build_email did before)."""
    msg = EmailMessage(policy=SMTP)
    msg["From"] = formataddr((sender_name, sender)) if sender_name else sender
    msg["To"] = to
    msg["Subject"] = subject
    msg["X-Polku-Message-Id"] = message_id
    if unsubscribe_url:
        msg["List-Unsubscribe"] = f"<{unsubscribe_url}>"
        msg["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    msg.set_content(text)
    msg.add_alternative(html, subtype="html")
    return msg.as_bytes()


SHORT_URL = "https://api.example.com/prod/v1/unsubscribe/abc.k1.def"
TEXTS = [
    "Hei\n",
    "",
    "plain ascii\nsecond line\n",
    "no newline at the end",
    "Hello Tomáš,\nthank you – €2.64\n",  # short non-ASCII lines: 8bit
    "Hello Tomáš,\n" + "- Product & more, €2.64: https://api.example.com/prod/v1/c/" + "x" * 90 + "\n" * 1 * 12,  # long lines: qp
    "Привет, " * 40 + "\n" + "Ещё строка, довольно длинная, чтобы не поместиться в одну строку письма.\n" * 12,  # base64 wins
    "From the start\n.dot line\r\nCR LF\rCR only\n\n\n trailing space \n",
    "x" * 200,
    "\n".join(f"line {i} ä" for i in range(15)) + "\n",
]
HTMLS = [
    "<p>Hei <a href='https://api.example.com/prod/v1/c/TOKEN'>x</a></p>",
    "<p>" + "Hello Tomáš, product & more €2.64 " * 150 + "</p>\n",
    "<html><body>" + "<td style=\"padding:6px;text-align:center;font-size:14px;\">" * 30 + "</body></html>",
    "",
]
SUBJECTS = ["Hi", "Welcome to Polku Shop, Tomáš!", "Hei Ann – tervetuloa", "Vítejte v Polku Shop, Jano!",
            "a" * 120, "word " * 20, "Sale (today only): 50% off; free shipping!", "Hi  two  spaces", "  lead", "tab\tin",
            "=?utf-8?q?looks_encoded?=", "O'Brien <script>"]
NAMES = ["Polku Shop", None, "Kauppa Ö", 'Shop "Quoted"', "Shop, Inc.", "A"]
SENDERS = ["shop@example.com", "no-reply@mail.example.co.uk"]
TOS = ["ann@example.org", "c1@example.com", "first.last+tag@sub.example.fi"]


def _cases():
    rnd = random.Random(5)
    cases = []
    for i in range(120):
        cases.append(dict(
            sender=rnd.choice(SENDERS), sender_name=rnd.choice(NAMES), to=rnd.choice(TOS),
            subject=rnd.choice(SUBJECTS), text=rnd.choice(TEXTS), html=rnd.choice(HTMLS),
            message_id=rnd.choice(["m_1", f"m-{i:04d}-{'x' * rnd.randrange(10)}"]),
            unsubscribe_url=rnd.choice([None, SHORT_URL]),
        ))
    return cases


@pytest.mark.parametrize("case", _cases())
def test_same_bytes_as_the_standard_library(case):
    random.seed(42)
    expected = reference(**case)
    random.seed(42)  # the same random boundary
    assert build_email(**case) == expected


def _signed_unsubscribe_url() -> str:
    # a long custom tracking domain: unsubscribe tokens hold only the message id (docs/messages.md)
    signer = LinkSigner(KeyRing.from_secret({"active": "k1", "k1": "a-test-key-0123456789"}),
                        "https://links.a-rather-long-shop-domain-for-tracking.example.com/prod")
    return signer.unsubscribe_url("email:someone.with.a.long.address@example.com", "msg_0123456789abcdef", "customer-42",
                                  journey="abandoned_cart")


def test_a_long_unsubscribe_url_stays_a_url():
    url = _signed_unsubscribe_url()
    assert len(url) > 150
    raw = build_email(sender="shop@example.com", sender_name="Polku Shop", to="ann@example.org", subject="Hi", text="x\n",
                      html="<p>x</p>", message_id="m_1", unsubscribe_url=url)
    assert f"\r\nList-Unsubscribe: <{url}>\r\n".encode() in raw
    assert b"=?utf-8?" not in raw.split(b"\r\n\r\n", 1)[0]
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    assert msg["List-Unsubscribe"] == f"<{url}>"
    # the standard library would have encoded it (the bug this builder fixes)
    assert b"List-Unsubscribe: =?utf-8?q?" in reference(sender="shop@example.com", sender_name="Polku Shop", to="ann@example.org",
                                                         subject="Hi", text="x\n", html="<p>x</p>", message_id="m_1",
                                                         unsubscribe_url=url)


@pytest.mark.parametrize("field, value", [
    ("subject", "Hi\r\nBcc: victim@example.net"), ("subject", "Hi\nBcc: victim@example.net"),
    ("to", "ann@example.org\r\nBcc: victim@example.net"), ("sender_name", "Shop\r\nBcc: x@example.net"),
    ("message_id", "m_1\r\nBcc: x@example.net"), ("unsubscribe_url", "https://x.example/u\r\nBcc: x@example.net"),
    ("unsubscribe_url", "https://x.example/u> <mailto:evil@example.net"), ("unsubscribe_url", "https://x.example/" + "a" * 1000),
])
def test_header_injection_and_broken_urls_are_refused(field, value):
    args = dict(sender="shop@example.com", sender_name="Polku Shop", to="ann@example.org", subject="Hi", text="x\n",
                html="<p>x</p>", message_id="m_1", unsubscribe_url=SHORT_URL)
    args[field] = value
    with pytest.raises(ValueError):
        build_email(**args)


@pytest.mark.parametrize("text, html", [(t, h) for t in TEXTS for h in HTMLS[:2]])
def test_parts_read_back_as_written(text, html):
    raw = build_email(sender="shop@example.com", sender_name="Polku Shop", to="ann@example.org", subject="Tervetuloa, Äijä!",
                      text=text, html=html, message_id="m_1", unsubscribe_url=SHORT_URL)
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    assert msg["Subject"] == "Tervetuloa, Äijä!" and msg.get_content_type() == "multipart/alternative"
    plain, rich = msg.get_body(("plain",)), msg.get_body(("html",))
    normalise = lambda s: "\n".join(s.replace("\r\n", "\n").replace("\r", "\n").splitlines())  # noqa: E731
    assert normalise(plain.get_content()) == normalise(text)
    assert normalise(rich.get_content()) == normalise(html)
