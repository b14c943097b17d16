"""``reglab gradcheck``: where is backprop wrong?

Checks a random network (or one of the course's two cases) against centred
differences and prints the report: overall, per layer and per tensor, with the
worst entries. Exit code 0 on pass or warn, 1 on fail, 2 on bad input.
"""

from __future__ import annotations

import click
import numpy as np

from ..nn.activations import get_activation
from .common import EXIT_FAILED, FLOAT_LIST, INT_LIST, CommandError, check_output_file, guarded, write_json
from ..gradcheck.core import check_gradients
from ..gradcheck.course import check_1d, course_bug_backward, course_case_nd
from ..nn.initializers import INITIALIZERS, initialize
from ..nn.network import Network

# Options that shape the random network; the course cases have their own fixed ones.
NETWORK_OPTIONS = ("layers", "hidden", "output", "classes", "features", "examples", "init",
                   "l2", "l1", "keep_prob", "sample", "seed")


def random_problem(layers, hidden, output, classes, features, examples, init, seed):
    """A random network and data set for the check, all drawn from ``seed``.

    Biases are drawn too (``0.1 * N(0, 1)``) so that ``db`` is checked away from 0.
    """
    hidden = tuple(h.strip() for h in hidden.split(","))
    if len(hidden) == 1:
        hidden = hidden * len(layers)
    if len(hidden) != len(layers):
        raise CommandError(f"--hidden must name one activation or one per hidden layer "
                           f"({len(layers)}), got {len(hidden)}: {','.join(hidden)}")
    for h in hidden:
        get_activation(h)
    for name, value, low in (("--features", features, 1), ("--examples", examples, 1), ("--classes", classes, 2)):
        if value < low:
            raise CommandError(f"{name} must be an integer >= {low}, got {value}")
    if any(n < 1 for n in layers):
        raise CommandError(f"--layers must hold positive widths, got {','.join(map(str, layers))}")
    data_rng, init_rng = np.random.default_rng(seed).spawn(2)
    n_out = 1 if output == "sigmoid" else classes
    weights, biases = initialize((features, *layers, n_out), init, init_rng)
    biases = [0.1 * init_rng.standard_normal(b.shape) for b in biases]
    X = data_rng.standard_normal((examples, features))
    y = data_rng.integers(0, 2 if output == "sigmoid" else classes, size=examples)
    return Network(weights, biases, hidden, output), X, y


@click.command("gradcheck")
@click.option("--layers", type=INT_LIST, default="5,3", show_default=True,
              help="Hidden layer widths, comma-separated (empty: logistic regression).")
@click.option("--hidden", default="relu", show_default=True,
              help="Hidden activation, or one per hidden layer: relu, leaky_relu, tanh, sigmoid.")
@click.option("--output", type=click.Choice(["sigmoid", "softmax"]), default="sigmoid", show_default=True)
@click.option("--classes", type=int, default=3, show_default=True, help="Classes of a softmax output.")
@click.option("--features", type=int, default=4, show_default=True, help="Input features n[0].")
@click.option("--examples", type=int, default=8, show_default=True, help="Examples m in the random batch.")
@click.option("--init", type=click.Choice(sorted(INITIALIZERS)), default="he", show_default=True)
@click.option("--l2", type=float, default=0.0, show_default=True, help="L2 strength lambd.")
@click.option("--l1", type=float, default=0.0, show_default=True,
              help="L1 strength lambd (weights with |w| < epsilon are skipped: kink at 0).")
@click.option("--keep-prob", type=FLOAT_LIST, default="1",
              help="Dropout keep probability, one or one per hidden layer; masks frozen for the check.")
@click.option("--epsilon", type=float, default=1e-7, show_default=True, help="Step of the centred difference.")
@click.option("--sample", type=int, default=None,
              help="Check K random coordinates per tensor instead of all (seeded).")
@click.option("--seed", type=int, default=0, show_default=True,
              help="Seeds the network, the data, the dropout masks and the sample.")
@click.option("--plant-bug", type=click.Choice(["course"]), default=None,
              help="The course's two mistakes: dW2 doubled, db1 computed with 4/m.")
@click.option("--course-case", type=click.Choice(["1d", "nd"]), default=None,
              help="The course's checks: J(theta) = theta * x, or its 3-layer net.")
@click.option("--worst", "n_worst", type=int, default=5, show_default=True, help="Worst entries to list.")
@click.option("--json", "json_out", type=click.Path(dir_okay=False), default=None,
              help="Write the report to this JSON file.")
@guarded
def gradcheck(layers, hidden, output, classes, features, examples, init, l2, l1, keep_prob, epsilon,
              sample, seed, plant_bug, course_case, n_worst, json_out):
    """Check backprop against centred differences and say where it is wrong.

    Exit code 0 on pass or warn, 1 on fail.
    """
    check_output_file(json_out, "--json")
    for option, value in (("--seed", seed), ("--worst", n_worst)):
        if value < 0:
            raise CommandError(f"{option} must be an integer >= 0, got {value}")
    ctx = click.get_current_context()
    if course_case is not None:
        given = [name for name in NETWORK_OPTIONS
                 if ctx.get_parameter_source(name) != click.core.ParameterSource.DEFAULT]
        if given:
            options = ", ".join("--" + g.replace("_", "-") for g in given)
            raise CommandError(f"--course-case {course_case} checks the course's fixed network and data; "
                               f"{options} cannot be combined with it")
        if course_case == "1d":
            if plant_bug:
                raise CommandError("--plant-bug course needs a network with W2 and b1: use --course-case nd "
                                   "or a random network, not --course-case 1d")
            report = check_1d(epsilon=epsilon)
        else:
            report = course_case_nd(plant_bug is not None, epsilon=epsilon, n_worst=n_worst)
        case = f"course {course_case}"
    else:
        if plant_bug and not layers:
            raise CommandError("--plant-bug course needs W2: give at least one hidden layer with --layers")
        if not keep_prob:
            raise CommandError("--keep-prob needs a number, or one per hidden layer")
        network, X, y = random_problem(layers, hidden, output, classes, features, examples, init, seed)
        keep = keep_prob[0] if len(keep_prob) == 1 else keep_prob
        report = check_gradients(network, X, y, l2=l2, l1=l1, keep_prob=keep, epsilon=epsilon,
                                 sample=sample, seed=seed, n_worst=n_worst,
                                 gradient_fn=course_bug_backward if plant_bug else None)
        case = f"random network {list(network.layer_sizes)}, {examples} examples, seed {seed}"
    click.echo(f"{case}{', planted bug: course' if plant_bug else ''}")
    click.echo(report.format())
    if json_out:
        write_json(json_out, {"case": case, "planted_bug": plant_bug, **report.to_dict()})
    if report.status == "fail":
        raise SystemExit(EXIT_FAILED)
