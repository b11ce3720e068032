"""Messages: templates, channel and send-time choice, links, delivery and the message log."""
