"""The webhook sink: incident changes POSTed to configured URLs, signed, retried, dead-lettered."""
