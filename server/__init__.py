"""The Rasa server as the public gets it: the launcher (`python -m server`), the patches of Rasa
internals it applies, the environment defaults and launch commands of every part, the supervisor
behind `make run` and the demo page server."""
