"""Custom actions of the West Midlands Police help assistant (run by the rasa-sdk action server)."""

from core.catalogue import load_catalogue

# Read and check the catalogue and every language file when the action server starts, not when the
# first person writes (about a second).
load_catalogue()
