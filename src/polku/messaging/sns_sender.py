"""SMS and mobile push delivery through SNS."""

from __future__ import annotations

import json

from polku.messaging.delivery import Delivered, from_client_error, no_resend_after_sending


class SnsSender:
    def __init__(self, client):
        self.client = client
        no_resend_after_sending(client, "Publish")

    def send_sms(self, *, phone: str, text: str, transactional: bool, message_id: str) -> Delivered:
        try:
            out = self.client.publish(
                PhoneNumber=phone,
                Message=text,
                MessageAttributes={
                    "AWS.SNS.SMS.SMSType": {
                        "DataType": "String",
                        "StringValue": "Transactional" if transactional else "Promotional",
                    },
                    "polku_message_id": {"DataType": "String", "StringValue": message_id},
                },
            )
        except Exception as exc:
            raise from_client_error(exc, "SNS publish (SMS)") from exc
        return Delivered("sns", out["MessageId"])

    def send_push(self, *, endpoint_arn: str, title: str, body: str, url: str | None, message_id: str) -> Delivered:
        data = {"message_id": message_id, **({"url": url} if url else {})}
        payload = {
            "default": body,
            "GCM": json.dumps({"notification": {"title": title, "body": body}, "data": data}),
            "APNS": json.dumps({"aps": {"alert": {"title": title, "body": body}}, **data}),
        }
        try:
            out = self.client.publish(TargetArn=endpoint_arn, Message=json.dumps(payload), MessageStructure="json")
        except Exception as exc:
            raise from_client_error(exc, "SNS publish (push)") from exc
        return Delivered("sns", out["MessageId"])
