"""What a static covariate is worth: panels of series that each return to their own level,
forecast a day ahead by the same small model with and without the level as a static
covariate, over several data seeds (the figure the README and tests/test_statics.py give).

    python benchmarks/statics.py [--seeds 8]
"""
import argparse
import sys
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

import windwidgets as ww  # noqa: E402
from common import table  # noqa: E402
from test_statics import SETTINGS, levels_panel  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=8)
    seeds = parser.parse_args().seeds
    rows = []
    for seed in range(seeds):
        data = levels_panel(seed=seed)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # MAPE near zero
            settings = dict(SETTINGS, seed=seed)
            with_level = ww.train(data, static_covariates=["level"], **settings).evaluate(steps=24)["mae"]
            without = ww.train(data, **settings).evaluate(steps=24)["mae"]
        rows.append({"seed": seed, "mae with level": with_level, "mae without": without,
                     "ratio": with_level / without})
    print(table(rows))
    ratios = [row["ratio"] for row in rows]
    print(f"ratio from {min(ratios):.2f} to {max(ratios):.2f}, mean {sum(ratios) / len(ratios):.2f}")


if __name__ == "__main__":
    main()
