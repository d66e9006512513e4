"""haflow diff: what the working tree does to each environment's plan, compared with a base git ref."""

from __future__ import annotations

import tempfile
from pathlib import Path

from haflow import progress
from haflow.commands.common import EXIT_BAD_INPUT, EXIT_FINDINGS, EXIT_OK, load_or_report, print_error

FORMATS = ("markdown", "json")
FAIL_ON = ("data-loss", "ha-regression", "any")


def run(base: str, envs: list[str], config_dir: Path, output_format: str, fail_on: str | None,
        repo: Path | None = None) -> int:
    if output_format not in FORMATS:
        print_error(f"--format {output_format!r}: choose one of {', '.join(FORMATS)}")
        return EXIT_BAD_INPUT
    if fail_on is not None and fail_on not in FAIL_ON:
        print_error(f"--fail-on {fail_on!r}: choose one of {', '.join(FAIL_ON)}")
        return EXIT_BAD_INPUT
    environments = load_or_report(envs, config_dir)
    every = load_or_report([], config_dir) if envs and environments is not None else environments
    if environments is None or every is None:
        return EXIT_BAD_INPUT

    from haflow.review import environments_of, review
    from haflow.review.baseref import BaseRefError, repo_root, synth_ref
    from haflow.review.format import to_json, to_markdown
    from haflow.synthesis import synthesize

    try:
        root = repo_root(repo or config_dir)
        config_rel = _relative(config_dir, root)
        with progress.stage(f"synthesizing --base {base} with its own code in a temporary worktree"):
            base_stacks = synth_ref(root, base, config_rel, envs or None)
    except BaseRefError as err:
        print_error(str(err))
        return EXIT_BAD_INPUT
    with (progress.stage("synthesizing the working tree"),
          tempfile.TemporaryDirectory(prefix="haflow-diff-head-") as tmp):
        # The bootstrap stack from every environment, as on the base side, so it compares like for like.
        head_stacks = synthesize(environments, Path(tmp) / "cdktf.out", bootstrap_from=every)
    base_env_names = environments_of(base_stacks)
    with progress.stage("comparing the plans"):
        result = review(base, base_stacks, head_stacks, environments, base_env_names)
    print(to_json(result) if output_format == "json" else to_markdown(result), end="")
    failed = {
        "data-loss": bool(result.risks),
        "ha-regression": bool(result.regressions),
        "any": bool(result.risks or result.regressions),
    }
    return EXIT_FINDINGS if fail_on is not None and failed[fail_on] else EXIT_OK


def _relative(config_dir: Path, root: Path) -> Path:
    from haflow.review.baseref import BaseRefError

    try:
        return config_dir.resolve().relative_to(root.resolve())
    except ValueError:
        raise BaseRefError(f"--config-dir {config_dir} is outside the repository {root}: the base ref's copy "
                           "of it cannot be found") from None
