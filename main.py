"""Entry point of the standard cdktf CLI (cdktf.json: `python main.py`): every environment.

Bad configuration is printed as haflow prints it (every problem, no traceback) and exits 2.
"""

import sys

from haflow.config import ConfigError, load_environments
from haflow.config.placeholders import warn_text


def main() -> int:
    try:
        environments = load_environments()
    except ConfigError as err:
        print(err.render(), file=sys.stderr)
        return 2
    examples = warn_text(environments)
    if examples:
        # cdktf deploy runs this too, so it is said before Terraform plans. On stdout: the cdktf CLI shows the
        # app's stdout as it is and relays every stderr line as an "[ERROR]" line, even on success.
        print(examples, flush=True)
    from haflow.app import build_app  # loads cdktf and the bindings: only for a valid configuration

    build_app(environments).synth()
    return 0


if __name__ == "__main__":
    sys.exit(main())
