"""What both servers share: the catalogue of official channels, the replies made from it, opening
hours, the emergency assessment, redaction of personal data, the model's integrity check and the
conversation store. Nothing here imports the Rasa server or the action server."""
