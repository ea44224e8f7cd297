"""The launcher's start-up checks (no server needed)."""

import pytest


def test_the_launchers_start_up_checks():
    from server.launcher import StartupRefused, security_arguments

    run = ["rasa", "run", "--port", "5005"]
    assert security_arguments(run, {}) == run  # the API stays off
    assert security_arguments(["rasa", "run", "actions"], {"RASA_ENABLE_API": "true"}) == ["rasa", "run", "actions"]
    on = security_arguments(
        run,
        {
            "RASA_ENABLE_API": "true",
            "RASA_JWT_SECRET": "s3cret",
            "RASA_CORS_ORIGINS": "https://a.example, https://b.example",
        },
    )
    assert on == run + [
        "--enable-api",
        "--jwt-secret",
        "s3cret",
        "--jwt-method",
        "HS256",
        "--cors",
        "https://a.example",
        "https://b.example",
    ]
    for argv, environ in [
        (run, {"RASA_ENABLE_API": "true"}),
        (run + ["--enable-api"], {}),
        (run + ["--auth-token", "x"], {}),
        (run, {"RASA_CORS_ORIGINS": "*"}),
        (run + ["--cors", "*"], {}),
    ]:
        with pytest.raises(StartupRefused):
            security_arguments(argv, environ)
