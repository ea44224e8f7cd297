"""Custom actions of the West Midlands Police help assistant (run by the rasa-sdk action server)."""
