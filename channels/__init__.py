"""Input channels of the assistant: where messages from the public enter."""
