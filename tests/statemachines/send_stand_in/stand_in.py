"""Stand-in for the Send Lambda while functions/send/handler.py is still the foundation placeholder.

Honours the Send contract (input dict -> {status, channel, message_id, subject}); used only when the
real handler is not built yet, so the journey tests exercise the real ASL and the real journey steps.
"""


def lambda_handler(event, context):
    for field in ("customer_id", "journey", "step", "template", "execution_id"):
        if not event.get(field):
            raise ValueError(f"{field}: required")
    return {
        "status": "sent",
        "channel": "email",
        "message_id": f"{event['execution_id'].rsplit(':', 1)[-1]}-{event['step']}",
        "subject": f"[{event['template']}:{event.get('variant')}]",
    }
