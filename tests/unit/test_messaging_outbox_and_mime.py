"""The MIME an e-mail goes out as, the demo outbox, and SES feedback parsing (no AWS)."""

from __future__ import annotations

import email
import email.policy

import pytest

from polku.messaging.email_mime import build_email
from polku.messaging.feedback import FeedbackError, handle_ses_event
from polku.messaging.outbox import write_outbox


def _raw(**kw):
    args = dict(sender="hello@example.com", sender_name="Polku Shop", to="ann@example.org", subject="Hei Ann – tervetuloa",
                text="Hei\n", html="<p>Hei <a href='https://api.example.com/prod/v1/c/TOKEN'>x</a></p>", message_id="m_1",
                unsubscribe_url="https://api.example.com/prod/v1/unsubscribe/TOK")
    args.update(kw)
    return build_email(**args)


def test_mime_has_one_click_unsubscribe_headers_and_both_parts():
    msg = email.message_from_bytes(_raw(), policy=email.policy.default)
    assert msg["List-Unsubscribe"] == "<https://api.example.com/prod/v1/unsubscribe/TOK>"
    assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert msg["Subject"] == "Hei Ann – tervetuloa" and msg["X-Polku-Message-Id"] == "m_1"
    assert msg["From"] == "Polku Shop <hello@example.com>"
    assert msg.get_body(("plain",)).get_content().strip() == "Hei" and "Hei" in msg.get_body(("html",)).get_content()


def test_transactional_mime_has_no_unsubscribe_headers():
    msg = email.message_from_bytes(_raw(unsubscribe_url=None), policy=email.policy.default)
    assert "List-Unsubscribe" not in msg and "List-Unsubscribe-Post" not in msg


def test_header_injection_in_subject_is_refused():
    with pytest.raises(ValueError):
        _raw(subject="Hi\r\nBcc: victim@example.net")


def test_outbox_from_raw_messages_rewrites_links(tmp_path):
    emails = write_outbox([_raw(), _raw(to="bo@example.org", subject="Second")], tmp_path, link_base="http://127.0.0.1:8000")
    assert [e.to for e in emails] == ["ann@example.org", "bo@example.org"]
    page = (tmp_path / emails[0].file).read_text()
    assert "http://127.0.0.1:8000/v1/c/TOKEN" in page and "api.example.com" not in page
    index = (tmp_path / "index.html").read_text()
    assert emails[1].file in index and "Second" in index


def test_a_second_outbox_in_the_same_folder_shows_only_its_own_messages(tmp_path):
    (tmp_path / "notes.md").write_text("mine")
    write_outbox([_raw(), _raw(to="bo@example.org", subject="Second"), _raw(subject="Third")], tmp_path)
    emails = write_outbox([_raw(subject="Only")], tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([emails[0].file, emails[0].file.replace(".html", ".txt"),
                                                                   "index.html", "notes.md"])


@pytest.mark.parametrize("event", [{}, {"eventType": "Bounce"}, {"mail": {"messageId": "x"}}, {"eventType": "Open", "mail": "x"}])
def test_feedback_refuses_events_that_are_not_ses_events(event):
    with pytest.raises(FeedbackError):
        handle_ses_event(event)


def test_delivered_e_mail_reads_the_same_subject_and_parts_as_the_outbox():
    from polku.messaging.email_mime import build_email
    from polku.messaging.outbox import Delivered, email_of, parse_email, readable

    raw = build_email(sender="a@example.com", sender_name="Polku", to="bo@example.org",
                      subject="Aino, váš košík na vás čeká – 15 %", text="Dobrý den ž\n" * 40,
                      html="<p>čeká</p>" * 200, message_id="m_1", unsubscribe_url="https://x.example/v1/unsubscribe/a.k1.b")
    raw = raw.decode() if isinstance(raw, bytes) else raw
    d, e = email_of(Delivered("email", "", "", "", raw=raw)), parse_email(raw)
    assert (d.to, d.subject, d.text, d.html) == (e.to, e.subject, e.text, e.html)
    assert readable("Unsubscribe: https://x.example/v1/unsubscribe/a.k1.b") == "Unsubscribe: [unsubscribe]"
