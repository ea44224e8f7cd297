"""`make reload`: ask the running assistant to load the newly trained model (conversations are kept)."""

import json
import os
import sys
import urllib.error
import urllib.request
from pathlib import Path

TOKEN_FILE = Path("var/reload-token")


def main() -> int:
    token = os.environ.get("RASA_RELOAD_TOKEN") or (TOKEN_FILE.read_text().strip() if TOKEN_FILE.exists() else "")
    if not token:
        print(
            "No reload token: start the assistant with `make run` first (it writes var/reload-token).", file=sys.stderr
        )
        return 1
    url = f"http://127.0.0.1:{os.environ.get('RASA_PORT', '5005')}/webhooks/model/reload"
    request = urllib.request.Request(url, data=b"{}", method="POST", headers={"Authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(request, timeout=120) as reply:
            print(f"Reloaded: {json.loads(reply.read())}")
            return 0
    except urllib.error.HTTPError as error:
        print(f"Reload refused ({error.code}): {error.read().decode(errors='replace')}", file=sys.stderr)
    except urllib.error.URLError as error:
        print(f"The assistant is not running at {url} ({error.reason}); start it with `make run`.", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
