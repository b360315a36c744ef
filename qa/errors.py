"""Errors that carry a message for the person who asked (mapped to HTTP 4xx by the server)."""


class QuestionError(ValueError):
    """The request is wrong (empty question, bad history, bad filters...); the message says what."""
